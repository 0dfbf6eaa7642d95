// Level measurement for the silence detector and the status panel: RMS per channel in dBFS.
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
