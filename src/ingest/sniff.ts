// Sniffs the audio format from a source's first bytes. Content-Type is never trusted: ffmpeg labels
// Ogg as audio/mpeg, and Icecast itself treats every non-Ogg type as opaque bytes.
import { readAdtsHeader } from '../codec/adts.js';
import type { ReadFrameHeader } from '../codec/frame.js';
import { readMpegHeader } from '../codec/mpeg.js';
import type { AudioFormat } from '../types/contracts.js';

/** Bytes a source may send before we give up finding a format (and the byte bound while sniffing). */
export const SNIFF_LIMIT = 64 * 1024;

type Known = Exclude<AudioFormat, 'unknown'>;

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
    const found = confirm(b, i, readMpegHeader, 'mp3') ?? confirm(b, i, readAdtsHeader, 'aac');
    // 'more': a sync whose confirming frame has not arrived; keep scanning, decide on a later packet.
    if (found && found !== 'more') return found;
  }
  return b.length >= limit ? 'unknown' : undefined;
}

function confirm(b: Buffer, i: number, parse: ReadFrameHeader, format: Known): Known | 'more' | undefined {
  const first = parse(b, i);
  if (!first) return undefined;
  const next = i + first.length;
  if (next + 7 > b.length) return 'more';
  const second = parse(b, next);
  return second && second.key === first.key ? format : undefined;
}
