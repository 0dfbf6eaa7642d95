// The mixer's read-only snapshot shapes, for the composition root and observers (events: types/events.ts).
export type { MixerEvents } from '../types/events.js';
import type { HoldTier, InputId, OnAirMeta, Tier, UnavailableReason } from '../types/contracts.js';
import type { JitterBufferSnapshot } from './jitter-buffer.js';
import type { EmergencySnapshot } from './emergency.js';
import type { TimelineEntry } from './timeline.js';

export interface MixerInputSnapshot {
  readonly inputId: InputId;
  readonly connected: boolean;
  readonly available: boolean;
  readonly unavailableReason: UnavailableReason | null;
  readonly silent: boolean;
  readonly levelDb: number;
  readonly title: string;
  readonly buffer: JitterBufferSnapshot;
}

export interface MixerSnapshot {
  readonly onAir: Tier;
  /** An operator's hold on a lower tier (maintenance), or null. */
  readonly hold: HoldTier | null;
  readonly fading: { readonly from: Tier; readonly to: Tier; readonly progress: number } | null;
  readonly meta: OnAirMeta;
  readonly framesProduced: number;
  readonly samplesProduced: number;
  readonly clockSkippedFrames: number;
  readonly eventLoopDelayP99Ms: number;
  readonly inputs: readonly MixerInputSnapshot[];
  readonly emergency: EmergencySnapshot;
  readonly timeline: readonly TimelineEntry[];
}
