// The one internal PCM format every stage agrees on: signed 16-bit little-endian, interleaved stereo,
// 44.1 kHz (what nearly every studio encoder sends, so most decoders never resample).
export const SAMPLE_RATE = 44_100;
export const CHANNELS = 2;
export const BYTES_PER_SAMPLE = 2;
/** Bytes of one sample instant across all channels. */
export const BYTES_PER_FRAME = CHANNELS * BYTES_PER_SAMPLE;
/** ffmpeg's name for the format, for `-f` on pipes. */
export const FFMPEG_PCM_FORMAT = 's16le';

export function msToSamples(ms: number): number {
  return Math.round((ms * SAMPLE_RATE) / 1000);
}

export function samplesToMs(samples: number): number {
  return (samples * 1000) / SAMPLE_RATE;
}

export function samplesToBytes(samples: number): number {
  return samples * BYTES_PER_FRAME;
}
