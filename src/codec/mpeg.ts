// MPEG-1/2/2.5 audio frame headers (Layers I, II and III): the one parser for sniffing, framing and tests.
// Pure protocol code: bytes in, numbers out; it imports nothing from any pipeline stage.
import type { FrameHeader } from './frame.js';

/** kbit/s by [MPEG-1 ? 0 : 1][layer - 1][bitrate index]; index 0 (free format) and 15 (bad) are 0. */
const BITRATES: readonly (readonly (readonly number[])[])[] = [
  [
    [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, 0],
    [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 0],
    [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0],
  ],
  [
    [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256, 0],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0],
  ],
];
/** Hz by version bits (3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5) and sample-rate index. */
const SAMPLE_RATES: Readonly<Record<number, readonly number[]>> = {
  3: [44100, 48000, 32000],
  2: [22050, 24000, 16000],
  0: [11025, 12000, 8000],
};
const VERSIONS: Readonly<Record<number, MpegVersion>> = { 3: 1, 2: 2, 0: 2.5 };

export type MpegVersion = 1 | 2 | 2.5;
export type MpegLayer = 1 | 2 | 3;

export interface MpegHeader extends FrameHeader {
  readonly version: MpegVersion;
  readonly layer: MpegLayer;
  readonly kbps: number;
}

/**
 * The MPEG audio frame header at `i`, or undefined if there is none (or fewer than 4 bytes). Samples:
 * 384 (Layer I), 1152, or 576 for Layer III of MPEG-2/2.5. Key: sync, version, layer, sample rate.
 */
export function readMpegHeader(b: Buffer, i = 0): MpegHeader | undefined {
  if (i + 4 > b.length) return undefined;
  const b1 = b[i + 1] ?? 0;
  const b2 = b[i + 2] ?? 0;
  if (b[i] !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const version = VERSIONS[(b1 >> 3) & 3]; // bits 01 are reserved
  const layerBits = (b1 >> 1) & 3; // 3 = Layer I, 2 = II, 1 = III, 0 = reserved (and ADTS)
  if (version === undefined || layerBits === 0) return undefined;
  const layer = (4 - layerBits) as MpegLayer;
  const kbps = BITRATES[version === 1 ? 0 : 1]?.[layer - 1]?.[b2 >> 4] ?? 0;
  const sampleRate = SAMPLE_RATES[(b1 >> 3) & 3]?.[(b2 >> 2) & 3];
  if (kbps === 0 || sampleRate === undefined) return undefined;
  const pad = (b2 >> 1) & 1;
  // Layer I counts 4-byte slots; MPEG-2/2.5 Layer III frames hold half as many samples as MPEG-1's.
  const half = layer === 3 && version !== 1;
  const length =
    layer === 1
      ? (Math.floor((12 * kbps * 1000) / sampleRate) + pad) * 4
      : Math.floor(((half ? 72 : 144) * kbps * 1000) / sampleRate) + pad;
  const samples = layer === 1 ? 384 : half ? 576 : 1152;
  return { length, samples, sampleRate, version, layer, kbps, key: (b1 & 0xfe) * 256 + (b2 & 0x0c) };
}
