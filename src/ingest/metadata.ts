// Pure decoding of metadata updates sent to the source ports: Icecast `/admin/metadata` and Shoutcast
// `/admin.cgi`. Handles every charset seen on the wire (reference §1.6): UTF-8 escaped (libshout,
// Liquidsoap), Latin-1 escaped (Liquidsoap ICY), raw unescaped UTF-8 with no charset (BUTT).

/** Percent-decodes to bytes. `+` stays `+`: BUTT leaves a literal plus unescaped in titles. */
export function percentDecode(raw: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25 && /^[0-9a-fA-F]{2}$/.test(raw.slice(i + 1, i + 3))) {
      out.push(parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      // The raw target is latin1 (one char per byte), so this is the original byte.
      out.push(c & 0xff);
    }
  }
  return Buffer.from(out);
}

/** Query parameters of a raw (latin1) target, values as bytes; the first occurrence wins. */
export function parseQuery(query: string): Map<string, Buffer> {
  const params = new Map<string, Buffer>();
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = percentDecode(eq === -1 ? part : part.slice(0, eq))
      .toString('latin1')
      .toLowerCase();
    if (!params.has(key)) params.set(key, percentDecode(eq === -1 ? '' : part.slice(eq + 1)));
  }
  return params;
}

function isValidUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Bytes → text. An explicit charset is honoured (UTF-8 or Latin-1 and its aliases); without one,
 * bytes that are valid UTF-8 are UTF-8, anything else is Latin-1 (no byte sequence is invalid there).
 */
export function decodeText(bytes: Buffer, charset: string | undefined): string {
  const cs = charset?.trim().toLowerCase().replace(/_/g, '-');
  if (cs === 'utf-8' || cs === 'utf8') return bytes.toString('utf8');
  if (cs === 'iso-8859-1' || cs === 'latin1' || cs === 'latin-1' || cs === 'iso8859-1') return bytes.toString('latin1');
  return isValidUtf8(bytes) ? bytes.toString('utf8') : bytes.toString('latin1');
}

export interface MetadataUpdate {
  /** `updinfo` is the only mode Icecast acts on. */
  readonly mode: string | undefined;
  readonly mount: string | undefined;
  /** `pass=` of Shoutcast-style updates. */
  readonly pass: string | undefined;
  /** undefined when neither song nor title/artist were given. */
  readonly title: string | undefined;
}

/** Reads an update from a query: `song` wins; else "artist - title", else whichever is present. */
export function parseMetadataQuery(query: string): MetadataUpdate {
  const q = parseQuery(query);
  const charset = q.get('charset')?.toString('latin1');
  const text = (key: string): string | undefined => {
    const v = q.get(key);
    return v === undefined ? undefined : decodeText(v, charset).trim();
  };
  const song = text('song');
  const title = text('title');
  const artist = text('artist');
  let result: string | undefined;
  if (song !== undefined) result = song;
  else if (artist && title) result = `${artist} - ${title}`;
  else result = title ?? artist;
  return {
    mode: q.get('mode')?.toString('latin1'),
    mount: q.has('mount') ? decodeText(q.get('mount') ?? Buffer.alloc(0), 'utf-8') : undefined,
    pass: q.has('pass') ? decodeText(q.get('pass') ?? Buffer.alloc(0), undefined) : undefined,
    title: result,
  };
}
