// The frame arithmetic of the HLS packager: parts and segments are whole numbers of AAC frames
// (1024 samples), so every tier cuts at the same sample and every duration is exact.
import { AAC_FRAME_SAMPLES } from './adts.js';

export interface HlsLayout {
  readonly sampleRate: number;
  readonly partFrames: number;
  readonly partsPerSegment: number;
  readonly segmentFrames: number;
  /** Seconds of one full part / segment. */
  readonly partDuration: number;
  readonly segmentDuration: number;
  /** EXT-X-PART-INF PART-TARGET: no part is longer (rounded up at the 5 decimals we print). */
  readonly partTarget: number;
  /** EXT-X-TARGETDURATION: RFC 8216 §4.3.3.1, every EXTINF rounded to the nearest integer is ≤ it. */
  readonly targetDuration: number;
  /** PART-HOLD-BACK: 3 × PART-TARGET (8216bis: at least 2×, SHOULD be 3×). */
  readonly partHoldBack: number;
}

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
    partHoldBack: ceil5(3 * partTarget),
  };
}

/** Seconds of `frames` AAC frames. */
export function framesToSeconds(frames: number, sampleRate: number): number {
  return (frames * AAC_FRAME_SAMPLES) / sampleRate;
}
