// ADTS (AAC in MPEG transport framing) headers: the one parser for sniffing, encoder framing and HLS.
// Pure protocol code: bytes in, numbers out; it imports nothing from any pipeline stage.
import type { FrameHeader } from './frame.js';

/** Samples per channel in one AAC raw data block (AAC-LC). */
export const AAC_FRAME_SAMPLES = 1024;

/** Hz by sampling-frequency index; 13 and 14 are reserved, 15 (explicit rate) is not used in ADTS. */
const SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350] as const;

export interface AdtsHeader extends FrameHeader {
  /** 7, or 9 when the header carries a CRC. */
  readonly headerLength: 7 | 9;
  readonly channelConfig: number;
  /** MPEG-4 audio object type (2 = AAC-LC). */
  readonly objectType: number;
}

/**
 * The ADTS header at `i`, or undefined if there is no valid one (or fewer than 7 bytes). Samples: 1024 ×
 * the raw data blocks in the frame. Key: sync, MPEG ID, profile, sample rate.
 */
export function readAdtsHeader(b: Buffer, i = 0): AdtsHeader | undefined {
  if (i + 7 > b.length) return undefined;
  const b1 = b[i + 1] ?? 0;
  if (b[i] !== 0xff || (b1 & 0xf6) !== 0xf0) return undefined; // 12-bit sync, then layer 00
  const b2 = b[i + 2] ?? 0;
  const b3 = b[i + 3] ?? 0;
  const sampleRate = SAMPLE_RATES[(b2 >> 2) & 0x0f];
  const length = ((b3 & 0x03) << 11) | ((b[i + 4] ?? 0) << 3) | ((b[i + 5] ?? 0) >> 5);
  const headerLength = b1 & 0x01 ? 7 : 9; // protection_absent = 0: a 16-bit CRC follows
  if (sampleRate === undefined || length < headerLength) return undefined;
  return {
    length,
    headerLength,
    samples: AAC_FRAME_SAMPLES * (((b[i + 6] ?? 0) & 0x03) + 1),
    sampleRate,
    channelConfig: ((b2 & 0x01) << 2) | (b3 >> 6),
    objectType: ((b2 >> 6) & 0x03) + 1,
    key: (b1 & 0xf8) * 256 + (b2 & 0xfc),
  };
}
