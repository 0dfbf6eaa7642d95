// What both request parsers (the raw source ports and the Fastify listener port) need from a request:
// Basic credentials, a constant-time password check and query decoding as Icecast does it. One copy.
import { timingSafeEqual } from 'node:crypto';

/** Constant-time string equality (the length still shows, as with every such compare). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

/** `Authorization: Basic …` → user and password; undefined when absent or malformed. */
export function basicCredentials(header: string | undefined): Credentials | undefined {
  if (!header) return undefined;
  const m = /^\s*basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Percent-decodes to bytes, as Icecast's util_url_unescape: `+` stays `+` (BUTT sends a literal plus
 * unescaped in titles), and a `%` not followed by two hex digits is kept as it is.
 */
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

/** Query parameters of a raw (latin1) query string, keys lower-cased, values as bytes; the first occurrence wins. */
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

/** A query's parameters decoded to text in the charset it names (`charset=`), or detected per value. */
export function queryText(query: string): Map<string, string> {
  const q = parseQuery(query);
  const charset = q.get('charset')?.toString('latin1');
  const out = new Map<string, string>();
  for (const [k, v] of q) out.set(k, decodeText(v, charset));
  return out;
}
