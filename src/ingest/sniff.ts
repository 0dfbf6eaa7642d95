// Sniffs the audio format from a source's first bytes. Content-Type is never trusted: ffmpeg labels
// Ogg as audio/mpeg, and Icecast itself treats every non-Ogg type as opaque bytes.
import type { AudioFormat } from '../types/contracts.js';

/** Bytes a source may send before we give up finding a format (and the byte bound while sniffing). */
export const SNIFF_LIMIT = 64 * 1024;

type Known = Exclude<AudioFormat, 'unknown'>;

const MPEG_BITRATES: Record<string, readonly number[]> = {
  '1-1': [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  '1-2': [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  '1-3': [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  '2-1': [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  '2-2': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  '2-3': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const MPEG_RATES: Record<number, readonly number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

interface Frame {
  readonly length: number;
  /** Bits that must repeat in the next frame header (version, layer, sample rate). */
  readonly key: number;
}

/** An MPEG-1/2/2.5 audio frame header at `i`, or undefined. */
export function mpegFrame(b: Buffer, i: number): Frame | undefined {
  if (i + 4 > b.length) return undefined;
  const b1 = b[i + 1] ?? 0;
  const b2 = b[i + 2] ?? 0;
  if (b[i] !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const version = (b1 >> 3) & 3; // 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5, 1 reserved
  const layerBits = (b1 >> 1) & 3; // 3 = Layer I, 2 = II, 1 = III, 0 reserved (ADTS)
  if (version === 1 || layerBits === 0) return undefined;
  const layer = 4 - layerBits;
  const brIndex = b2 >> 4;
  const srIndex = (b2 >> 2) & 3;
  if (brIndex === 0 || brIndex === 15 || srIndex === 3) return undefined;
  const kbps = MPEG_BITRATES[`${version === 3 ? 1 : 2}-${layer}`]?.[brIndex] ?? 0;
  const rate = MPEG_RATES[version]?.[srIndex] ?? 0;
  if (kbps === 0 || rate === 0) return undefined;
  const pad = (b2 >> 1) & 1;
  let length: number;
  if (layer === 1) length = (Math.floor((12 * kbps * 1000) / rate) + pad) * 4;
  else if (layer === 3 && version !== 3) length = Math.floor((72 * kbps * 1000) / rate) + pad;
  else length = Math.floor((144 * kbps * 1000) / rate) + pad;
  return { length, key: (b1 & 0xfe) * 256 + (b2 & 0x0c) };
}

/** An ADTS (AAC) frame header at `i`, or undefined. */
export function adtsFrame(b: Buffer, i: number): Frame | undefined {
  if (i + 7 > b.length) return undefined;
  const b1 = b[i + 1] ?? 0;
  const b2 = b[i + 2] ?? 0;
  if (b[i] !== 0xff || (b1 & 0xf6) !== 0xf0) return undefined;
  const srIndex = (b2 >> 2) & 0x0f;
  if (srIndex > 12) return undefined;
  const length = (((b[i + 3] ?? 0) & 0x03) << 11) | ((b[i + 4] ?? 0) << 3) | ((b[i + 5] ?? 0) >> 5);
  const headerLength = b1 & 1 ? 7 : 9;
  if (length < headerLength) return undefined;
  return { length, key: (b1 & 0xf8) * 256 + (b2 & 0xfc) };
}

function startsWith(b: Buffer, i: number, ascii: string): boolean {
  return b.length >= i + ascii.length && b.toString('latin1', i, i + ascii.length) === ascii;
}

/** Length of an ID3v2 tag at `i` (header + body + footer), or 0. */
function id3Length(b: Buffer, i: number): number {
  if (!startsWith(b, i, 'ID3') || b.length < i + 10) return 0;
  const size =
    (((b[i + 6] ?? 0) & 0x7f) << 21) | (((b[i + 7] ?? 0) & 0x7f) << 14) | (((b[i + 8] ?? 0) & 0x7f) << 7) | ((b[i + 9] ?? 0) & 0x7f);
  const footer = (b[i + 5] ?? 0) & 0x10 ? 10 : 0;
  return 10 + size + footer;
}

/**
 * The format of a stream from its first bytes. `undefined` means "send more": a frame sync was seen
 * but the next frame (which confirms it is not a chance 0xFF byte) has not arrived yet. Returns
 * 'unknown' once `limit` bytes have been seen without a format.
 */
export function sniffFormat(b: Buffer, limit = SNIFF_LIMIT): AudioFormat | undefined {
  let start = 0;
  // ffmpeg's MP3 muxer (and many encoders) start with an ID3v2 tag; skip it (and any repeats).
  for (let tag = id3Length(b, 0); tag > 0; tag = id3Length(b, start)) {
    start += tag;
    // A tag larger than we are willing to buffer is, in practice, an MP3 stream's tag.
    if (start >= limit) return 'mp3';
  }
  if (b.length < start + 4 && startsWith(b, 0, 'ID3')) return b.length >= limit ? 'unknown' : undefined;
  const end = Math.min(b.length, limit);
  for (let i = start; i + 4 <= end; i++) {
    if (startsWith(b, i, 'OggS')) return 'ogg';
    if (startsWith(b, i, 'fLaC')) return 'flac';
    if (b[i] !== 0xff) continue;
    const found = confirm(b, i, mpegFrame, 'mp3') ?? confirm(b, i, adtsFrame, 'aac');
    // 'more': a sync whose confirming frame has not arrived; keep scanning, decide on a later packet.
    if (found && found !== 'more') return found;
  }
  return b.length >= limit ? 'unknown' : undefined;
}

function confirm(b: Buffer, i: number, parse: (b: Buffer, i: number) => Frame | undefined, format: Known): Known | 'more' | undefined {
  const first = parse(b, i);
  if (!first) return undefined;
  const next = i + first.length;
  if (next + 7 > b.length) return 'more';
  const second = parse(b, next);
  return second && second.key === first.key ? format : undefined;
}
