// The mixer's typed events and read-only snapshot shapes, for the composition root and observers.
import type { ErrorCode } from '../errors.js';
import type { InputId, OnAirMeta, Tier } from '../types/contracts.js';
import type { JitterBufferSnapshot } from './jitter-buffer.js';
import type { EmergencySnapshot } from './emergency.js';
import type { SwitchReason, UnavailableReason } from './selector.js';
import type { TimelineEntry } from './timeline.js';

export interface MixerEvents {
  [event: string]: unknown;
  switch: { readonly from: Tier; readonly to: Tier; readonly reason: SwitchReason; readonly at: number };
  silence: { readonly inputId: InputId; readonly at: number };
  sound: { readonly inputId: InputId; readonly at: number };
  /** `cleared` true when the condition that raised the alert is over. */
  alert: { readonly code: ErrorCode; readonly message: string; readonly cleared: boolean; readonly at: number };
  meta: OnAirMeta;
}

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
