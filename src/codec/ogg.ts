// Ogg page headers (RFC 3533): the one parser for the encoder framer and the tests that read listener bytes.
// Pure protocol code: bytes in, numbers out; it imports nothing from any pipeline stage.

export interface OggPage {
  /** Bytes of the whole page: 27-byte header, segment table and body. */
  readonly length: number;
  /** Beginning of a logical stream (its first page). */
  readonly bos: boolean;
  /** End of a logical stream (its last page). */
  readonly eos: boolean;
  /** Codec-defined position after the last packet ending on this page (Vorbis: samples; headers: 0). */
  readonly granule: bigint;
  readonly serial: number;
  readonly pageSeq: number;
  /** Complete packets ending on this page. */
  readonly packets: number;
}

/**
 * The Ogg page at `i` if all of it is in `b`; undefined if it may be one but is not complete yet;
 * null if `i` is not the start of a page.
 */
export function readOggPage(b: Buffer, i = 0): OggPage | undefined | null {
  if (i + 27 > b.length) return b.length - i >= 4 && b.toString('latin1', i, i + 4) !== 'OggS' ? null : undefined;
  if (b.toString('latin1', i, i + 4) !== 'OggS' || b[i + 4] !== 0) return null;
  const nsegs = b[i + 26] ?? 0;
  if (i + 27 + nsegs > b.length) return undefined;
  let body = 0;
  let packets = 0;
  for (let s = 0; s < nsegs; s++) {
    const lace = b[i + 27 + s] ?? 0;
    body += lace;
    // A lacing value below 255 ends a packet; 255 continues it on the next segment (or page).
    if (lace < 255) packets++;
  }
  const length = 27 + nsegs + body;
  if (i + length > b.length) return undefined;
  const flags = b[i + 5] ?? 0;
  return {
    length,
    bos: (flags & 0x02) !== 0,
    eos: (flags & 0x04) !== 0,
    granule: b.readBigInt64LE(i + 6),
    serial: b.readUInt32LE(i + 14),
    pageSeq: b.readUInt32LE(i + 18),
    packets,
  };
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

/** Ogg's CRC-32 (RFC 3533): polynomial 0x04c11db7, initial value 0, no reflection, no final XOR. */
export function oggCrc(b: Uint8Array, start = 0, end = b.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) ^ (CRC_TABLE[((crc >>> 24) ^ (b[i] as number)) & 0xff] as number)) >>> 0;
  return crc;
}
