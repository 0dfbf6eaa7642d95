// What observers may read of each component (`Antenna.snapshot()`): plain data, copied on every call.
import type { EncoderSpec, HoldTier, InputId, OnAirMeta, Tier, UnavailableReason } from './contracts.js';
import type { SupervisedKind } from './events.js';

/** One supervised unit (an encoder's ffmpeg) as the supervisor records it. */
export interface SupervisedSnapshot {
  readonly name: string;
  readonly kind: SupervisedKind;
  readonly state: 'running' | 'restarting';
  readonly pid: number | undefined;
  /** Wall-clock ms of the current (or last) start. */
  readonly startedAt: number | undefined;
  readonly uptimeMs: number;
  /** Restarts decided by the supervisor since the server started. */
  readonly restarts: number;
  readonly lastError:
    { readonly code: string; readonly message: string; readonly at: number; readonly stderrTail: readonly string[] } | undefined;
}

export type BufferState = 'idle' | 'priming' | 'playing' | 'underrun' | 'draining';

export interface JitterBufferSnapshot {
  readonly state: BufferState;
  readonly depthMs: number;
  readonly targetMs: number;
  readonly jitterMs: number;
  readonly underruns: number;
  readonly overflowDroppedMs: number;
  readonly trimmedMs: number;
  /** Audio added or removed by rate correction so far (drift and depth changes). */
  readonly correctedMs: number;
  readonly ratio: number;
  readonly capacityBytes: number;
}

export interface EmergencySnapshot {
  readonly file: string;
  readonly loaded: boolean;
  readonly durationMs: number;
  readonly problem: string | null;
  readonly reloads: number;
}

export interface TimelineEntry {
  readonly at: number;
  readonly type: string;
  readonly detail: Readonly<Record<string, string | number | boolean | null>>;
}

export interface MixerInputSnapshot {
  readonly inputId: InputId;
  readonly connected: boolean;
  readonly available: boolean;
  readonly unavailableReason: UnavailableReason | null;
  readonly silent: boolean;
  /** RMS of the last frame (the silence detector's measure), dBFS. */
  readonly levelDb: number;
  /** Sample peak, held and falling back at 12 dB/s so a 10 Hz reader sees every frame's peak, dBFS. */
  readonly peakDb: number;
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

export interface EncoderSnapshot {
  readonly key: string;
  readonly spec: EncoderSpec;
  readonly pid: number | undefined;
  readonly running: boolean;
  readonly generation: number;
  readonly stalls: number;
  readonly lastError: string | undefined;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** PCM bytes written to ffmpeg and not yet taken by it. */
  readonly queueBytes: number;
  /** PCM bytes dropped while no encoder was running (restart backoff) or on a stall. */
  readonly droppedBytes: number;
  readonly subscribers: number;
}

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
  /** PART-HOLD-BACK: PART_HOLD_BACK_PARTS × PART-TARGET. */
  readonly partHoldBack: number;
}

export interface TierStats {
  readonly name: string;
  readonly bitrate: number;
  readonly peakBps: number | undefined;
  readonly averageBps: number | undefined;
}

export interface HlsSnapshot {
  readonly tiers: readonly TierStats[];
  readonly layout: HlsLayout;
  readonly mediaSequence: number | undefined;
  readonly discontinuitySequence: number | undefined;
  readonly lastMsn: number | undefined;
  readonly lastPart: number | undefined;
  readonly title: string | undefined;
  readonly sessions: number;
  readonly sessionsStarted: number;
  readonly blockedRequests: number;
  readonly segmentsHeld: number;
  readonly bytesHeld: number;
  readonly discontinuities: number;
  readonly lastDiscontinuityReason: string | undefined;
}
