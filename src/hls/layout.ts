// The frame arithmetic of the HLS packager: parts and segments are whole numbers of AAC frames
// (1024 samples), so every tier cuts at the same sample and every duration is exact.
import { AAC_FRAME_SAMPLES } from '../codec/adts.js';
import type { HlsLayout } from '../types/snapshots.js';
export type { HlsLayout } from '../types/snapshots.js';

/**
 * PART-HOLD-BACK in part targets: 8216bis' minimum (MUST be ≥ 2×; SHOULD be ≥ 3×). hls.js (defaults:
 * no playback-rate catch-up) settles at PART-HOLD-BACK + its start-up lag (0.3–1.1 s measured: the
 * phase of its first, non-blocking playlist load within a part plus media start) and stays there, so
 * with 1 s parts 3× gave 3.2–3.7 s (up to ~4.1 s at worst phase) and 2× gives 2.6–3.1 s. Every part
 * is independent and published whole, answered to blocking reloads the moment it exists, so a player
 * two parts back still holds ≥ 1 part of audio when the next one arrives; hls.js adds 1 s to its target
 * after a stall (liveSyncOnStallIncrease), so a bad network costs latency, not playback.
 */
export const PART_HOLD_BACK_PARTS = 2;

export function ceil5(s: number): number {
  return Math.ceil(s * 1e5 - 1e-6) / 1e5;
}

export function layoutFor(segmentSeconds: number, partSeconds: number, sampleRate: number): HlsLayout {
  const frameS = AAC_FRAME_SAMPLES / sampleRate;
  const partFrames = Math.max(1, Math.round(partSeconds / frameS));
  const partDuration = partFrames * frameS;
  const partsPerSegment = Math.max(1, Math.round(segmentSeconds / partDuration));
  const segmentFrames = partFrames * partsPerSegment;
  const segmentDuration = segmentFrames * frameS;
  const partTarget = ceil5(partDuration);
  return {
    sampleRate,
    partFrames,
    partsPerSegment,
    segmentFrames,
    partDuration,
    segmentDuration,
    partTarget,
    targetDuration: Math.max(1, Math.round(segmentDuration)),
    partHoldBack: ceil5(PART_HOLD_BACK_PARTS * partTarget),
  };
}

/** Seconds of `frames` AAC frames. */
export function framesToSeconds(frames: number, sampleRate: number): number {
  return (frames * AAC_FRAME_SAMPLES) / sampleRate;
}
