// Builds the ID3v2.4 tags that open every packed-audio part: the PRIV transport-stream timestamp RFC 8216
// §3.4 requires, and a TIT2 carrying the on-air title so hls.js and iOS players show now-playing.

const PRIV_OWNER = 'com.apple.streaming.transportStreamTimestamp';
/** PES timestamps are 33 bits at 90 kHz. */
export const PTS_WRAP = 2 ** 33;
/** Titles are cut to this many bytes: a tag per part must stay small next to 1 s of 64 kbit/s audio. */
const MAX_TITLE_BYTES = 1024;

function syncsafe(n: number): Buffer {
  return Buffer.from([(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f]);
}

function frame(id: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(id, 'latin1'), syncsafe(body.length), Buffer.from([0, 0]), body]);
}

/** Cuts a UTF-8 string to at most `max` bytes without splitting a character. */
function utf8Prefix(s: string, max: number): Buffer {
  const b = Buffer.from(s, 'utf8');
  if (b.length <= max) return b;
  let end = max;
  while (end > 0 && ((b[end] ?? 0) & 0xc0) === 0x80) end--;
  return b.subarray(0, end);
}

/** The ID3 tag for the start of a segment or part: PRIV timestamp (90 kHz, mod 2^33) and, if any, the title. */
export function buildId3(pts90k: number, title: string | undefined): Buffer {
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64BE(BigInt(Math.round(pts90k) % PTS_WRAP));
  const frames = [frame('PRIV', Buffer.concat([Buffer.from(PRIV_OWNER + '\0', 'latin1'), ts]))];
  // A NUL inside would end the text early for every ID3 reader (titles are cleaned upstream; this holds anyway).
  const text = title?.replace(/\0/g, '');
  if (text !== undefined && text !== '') {
    // Encoding 3 = UTF-8 (ID3v2.4), then the text, NUL-terminated.
    frames.push(frame('TIT2', Buffer.concat([Buffer.from([3]), utf8Prefix(text, MAX_TITLE_BYTES), Buffer.from([0])])));
  }
  const body = Buffer.concat(frames);
  return Buffer.concat([Buffer.from('ID3', 'latin1'), Buffer.from([4, 0, 0]), syncsafe(body.length), body]);
}

export interface Id3Frames {
  readonly pts90k: number | undefined;
  readonly title: string | undefined;
  /** Total tag length in bytes, header included. */
  readonly length: number;
}

/** Reads the tag `buildId3` writes (tests and diagnostics); undefined if no ID3v2 tag starts at `offset`. */
export function readId3(buf: Buffer, offset = 0): Id3Frames | undefined {
  if (buf.toString('latin1', offset, offset + 3) !== 'ID3') return undefined;
  const size = readSyncsafe(buf, offset + 6);
  const end = offset + 10 + size;
  let pts90k: number | undefined;
  let title: string | undefined;
  let p = offset + 10;
  while (p + 10 <= end) {
    const id = buf.toString('latin1', p, p + 4);
    const len = readSyncsafe(buf, p + 4);
    const body = buf.subarray(p + 10, p + 10 + len);
    if (id === 'PRIV' && body.toString('latin1', 0, PRIV_OWNER.length + 1) === PRIV_OWNER + '\0') {
      pts90k = Number(body.readBigUInt64BE(PRIV_OWNER.length + 1));
    } else if (id === 'TIT2') {
      title = body.subarray(1).toString('utf8').replace(/\0+$/, '');
    }
    p += 10 + len;
  }
  return { pts90k, title, length: end - offset };
}

function readSyncsafe(buf: Buffer, off: number): number {
  return ((buf[off] ?? 0) << 21) | ((buf[off + 1] ?? 0) << 14) | ((buf[off + 2] ?? 0) << 7) | (buf[off + 3] ?? 0);
}
