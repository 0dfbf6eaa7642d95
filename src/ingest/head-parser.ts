// Pure, tolerant parsing of what source clients send first: an HTTP-ish request head (SOURCE/PUT/GET,
// CRLF or DarkIce's bare LF, raw UTF-8 in the target) or a Shoutcast v1 password line plus headers.

/** A parsed request head. `target` keeps the raw bytes (one char per byte, latin1) for later decoding. */
export interface RequestHead {
  readonly method: string;
  readonly target: string;
  /** "HTTP/1.0", "HTTP/1.1" or "ICE/1.0" as sent. */
  readonly version: string;
  /** Lower-case header names; the first occurrence wins (as Icecast's httpp does). */
  readonly headers: ReadonlyMap<string, string>;
}

export type HeadResult<T> =
  | { readonly status: 'incomplete' }
  | { readonly status: 'too-large' }
  | { readonly status: 'bad'; readonly reason: string }
  | { readonly status: 'complete'; readonly value: T; readonly body: Buffer };

const LF = 0x0a;
const CR = 0x0d;

/**
 * Index just past the blank line ending a header block, or -1. A blank line is an LF followed by LF
 * or CR LF: this covers CRLF heads, bare-LF heads and DarkIce's mix (LF lines, final CRLF CRLF).
 */
export function findHeadEnd(buf: Buffer, from = 0): number {
  let i = buf.indexOf(LF, from);
  while (i !== -1) {
    const next = buf[i + 1];
    if (next === LF) return i + 2;
    if (next === CR && buf[i + 2] === LF) return i + 3;
    i = buf.indexOf(LF, i + 1);
  }
  return -1;
}

/** Splits a block into lines on LF, dropping trailing CRs (Shoutcast clients may send `\r\r\n`). */
function splitLines(block: string): string[] {
  return block.split('\n').map((l) => l.replace(/\r+$/, ''));
}

/** Header lines → map. Lines without a colon are ignored rather than refused: tolerance wins here. */
export function parseHeaderLines(lines: readonly string[]): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name === '' || headers.has(name)) continue;
    headers.set(name, line.slice(colon + 1).trim());
  }
  return headers;
}

const REQUEST_LINE = /^([A-Za-z!]+) +(\S+) +((?:HTTP|ICE)\/\d\.\d) *$/;

/** True when `line` (without its terminator) is an HTTP/ICE request line rather than a password. */
export function isRequestLine(line: string): boolean {
  return REQUEST_LINE.test(line);
}

/** The first line of `buf` (terminator stripped), or undefined while no LF has arrived. */
export function firstLine(buf: Buffer): string | undefined {
  const lf = buf.indexOf(LF);
  if (lf === -1) return undefined;
  return buf.toString('latin1', 0, lf).replace(/\r+$/, '');
}

/**
 * Parses a request head from the bytes received so far. Returns the body bytes that arrived in the
 * same packet (ffmpeg's legacy SOURCE sends audio with the head, without waiting for a reply).
 */
export function parseRequestHead(buf: Buffer, maxBytes: number): HeadResult<RequestHead> {
  const end = findHeadEnd(buf);
  if (end === -1 || end > maxBytes) {
    return buf.length >= maxBytes || end > maxBytes ? { status: 'too-large' } : { status: 'incomplete' };
  }
  // latin1 keeps every byte as one char: raw UTF-8 in the target (BUTT) survives for later decoding.
  const lines = splitLines(buf.toString('latin1', 0, end));
  const requestLine = lines[0] ?? '';
  const m = REQUEST_LINE.exec(requestLine);
  if (!m) return { status: 'bad', reason: `not a request line: ${JSON.stringify(requestLine.slice(0, 80))}` };
  const head: RequestHead = {
    method: (m[1] ?? '').toUpperCase(),
    target: m[2] ?? '',
    version: (m[3] ?? '').toUpperCase(),
    headers: parseHeaderLines(lines.slice(1)),
  };
  return { status: 'complete', value: head, body: buf.subarray(end) };
}

/**
 * The Shoutcast v1 password line: terminated by `\r\r\n`, `\r\n` or `\n`. Whatever follows it
 * (BUTT sends its icy-* headers in the same packet, before OK2) is returned as `body`.
 */
export function parseShoutcastPassword(buf: Buffer, maxBytes: number): HeadResult<string> {
  const lf = buf.indexOf(LF);
  if (lf === -1 || lf >= maxBytes) return buf.length >= maxBytes || lf >= maxBytes ? { status: 'too-large' } : { status: 'incomplete' };
  const line = buf.toString('utf8', 0, lf).replace(/\r+$/, '');
  return { status: 'complete', value: line, body: buf.subarray(lf + 1) };
}

/**
 * The header block a Shoutcast client sends after its password (before or after OK2), ended by a
 * blank line. An immediately blank line (no headers) is a complete, empty block.
 */
export function parseShoutcastHeaders(buf: Buffer, maxBytes: number): HeadResult<Map<string, string>> {
  let end: number;
  if (buf[0] === LF) end = 1;
  else if (buf[0] === CR && buf[1] === LF) end = 2;
  else end = findHeadEnd(buf);
  if (end === -1 || end > maxBytes) {
    return buf.length >= maxBytes || end > maxBytes ? { status: 'too-large' } : { status: 'incomplete' };
  }
  const lines = splitLines(buf.toString('utf8', 0, end));
  return { status: 'complete', value: parseHeaderLines(lines), body: buf.subarray(end) };
}

/** Splits `path?query` of a raw target. */
export function splitTarget(target: string): { path: string; query: string } {
  const q = target.indexOf('?');
  return q === -1 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q + 1) };
}
