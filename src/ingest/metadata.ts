// Pure decoding of metadata updates sent to the source ports: Icecast `/admin/metadata` and Shoutcast
// `/admin.cgi`. Handles every charset seen on the wire (reference §1.6): UTF-8 escaped (libshout,
// Liquidsoap), Latin-1 escaped (Liquidsoap ICY), raw unescaped UTF-8 with no charset (BUTT).
import { decodeText, parseQuery } from '../util/request.js';
import { cleanTitle } from '../util/text.js';

export interface MetadataUpdate {
  /** `updinfo` is the only mode Icecast acts on. */
  readonly mode: string | undefined;
  readonly mount: string | undefined;
  /** `pass=` of Shoutcast-style updates. */
  readonly pass: string | undefined;
  /** undefined when neither song nor title/artist were given; cleaned (cleanTitle): no control characters. */
  readonly title: string | undefined;
}

/** Reads an update from a query: `song` wins; else "artist - title", else whichever is present. */
export function parseMetadataQuery(query: string): MetadataUpdate {
  const q = parseQuery(query);
  const charset = q.get('charset')?.toString('latin1');
  const text = (key: string): string | undefined => {
    const v = q.get(key);
    return v === undefined ? undefined : cleanTitle(decodeText(v, charset));
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
