// Level measurement for the silence detector and the status panel: RMS and sample peak per channel
// in dBFS.
import { CHANNELS } from '../types/pcm.js';

export const FLOOR_DB = -120;

/** RMS of the loudest channel of interleaved float samples (full scale = 1), in dBFS. */
export function rmsDb(samples: Float32Array, length: number): number {
  if (length <= 0) return FLOOR_DB;
  let loudest = 0;
  for (let ch = 0; ch < CHANNELS; ch++) {
    let sum = 0;
    for (let i = ch; i < length * CHANNELS; i += CHANNELS) {
      const v = samples[i] ?? 0;
      sum += v * v;
    }
    loudest = Math.max(loudest, sum / length);
  }
  return loudest > 0 ? Math.max(FLOOR_DB, 10 * Math.log10(loudest)) : FLOOR_DB;
}

/** Largest absolute sample of interleaved float samples (either channel), in dBFS. */
export function peakDb(samples: Float32Array, length: number): number {
  let peak = 0;
  for (let i = 0; i < length * CHANNELS; i++) peak = Math.max(peak, Math.abs(samples[i] ?? 0));
  return peak > 0 ? Math.max(FLOOR_DB, 20 * Math.log10(peak)) : FLOOR_DB;
}

/**
 * A peak meter's hold: the new frame's peak, or the previous reading fallen by `dbPerS` over the
 * frame, whichever is higher. The panel samples at 10 Hz while frames are 20 ms: without the hold
 * four frames in five would never be seen (PPM-style fall-back, IEC 60268-10 uses 20 dB in 1.7 s).
 */
export function heldPeakDb(previous: number, framePeak: number, frameMs: number, dbPerS = 12): number {
  return Math.max(framePeak, Math.max(FLOOR_DB, previous - (dbPerS * frameMs) / 1000));
}
