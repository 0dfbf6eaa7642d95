// What observers may read of each component (`Antenna.snapshot()`): plain data, copied on every call.
import type { AudioFormat, EncoderSpec, HoldTier, InputId, OnAirMeta, SourceProtocol, Tier, UnavailableReason } from './contracts.js';
import type { CertificateFailureReason, SupervisedEngine, SupervisedKind } from './events.js';

// --- the whole picture ---------------------------------------------------------------------------

export interface AntennaSnapshot {
  readonly at: number;
  readonly ports: AntennaPorts;
  readonly inputs: Readonly<Record<InputId, StudioInputSnapshot>>;
  readonly ingest: IngestSnapshot;
  readonly mixer: MixerSnapshot;
  readonly encoders: readonly EncoderSnapshot[];
  readonly mounts: { readonly listeners: number; readonly maxListeners: number; readonly mounts: readonly MountSnapshot[] };
  readonly hls: HlsSnapshot;
  /** Every supervised child (the encoders' ffmpeg processes) with pid, uptime, restarts and last error. */
  readonly supervised: readonly SupervisedSnapshot[];
  readonly process: ProcessSnapshot;
  /** Failed logins on the admin paths and source ports, and addresses being slowed down. */
  readonly auth: AuthGuardSnapshot;
  /** The listener ports (plain and HTTPS): connections without a request yet, and the descriptor budget they share. */
  readonly http: ConnectionGuardSnapshot & { readonly budget: HttpBudget };
  /** The certificate (src/tls): null when TLS is off. */
  readonly tls: CertificateSnapshot | null;
}

export interface AntennaPorts extends IngestPorts {
  readonly http: number;
  /** The HTTPS port (h2 + HTTP/1.1) once a certificate exists; absent without TLS or before. */
  readonly https?: number;
}

/** One studio input as the status panel shows it: who is connected (ingest) and how it sounds (mixer). */
export interface StudioInputSnapshot {
  readonly source: InputSnapshot;
  readonly mixer: MixerInputSnapshot;
}

/** The process itself: what an operator checks first when something is slow. */
export interface ProcessSnapshot {
  readonly pid: number;
  readonly uptimeS: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** CPU time used since start, ms (user + system). */
  readonly cpuMs: number;
  readonly eventLoopDelayP99Ms: number;
  readonly nodeVersion: string;
}

// --- ingest (source ports) -----------------------------------------------------------------------

export interface IngestSnapshot {
  readonly ports: IngestPorts;
  readonly inputs: Readonly<Record<InputId, InputSnapshot>>;
  /** Per listening port: connections that are not an accepted source, and how many were closed to make room. */
  readonly connections: readonly ({ readonly port: number } & ConnectionGuardSnapshot)[];
}

/** The ports actually bound (config port 0 = ephemeral). A shared port appears under both names. */
export interface IngestPorts {
  readonly primary: number;
  readonly fallback: number;
  readonly primaryShoutcast: number;
  readonly fallbackShoutcast: number;
}

export interface InputSnapshot {
  readonly inputId: InputId;
  readonly state: 'idle' | 'connecting' | 'streaming';
  readonly connectionId?: number;
  readonly remoteAddress?: string;
  readonly userAgent?: string;
  readonly protocol?: SourceProtocol;
  readonly mount?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly format?: AudioFormat;
  readonly bytesIn: number;
  /** Wall-clock ms (Date.now()). */
  readonly connectedAt?: number;
  readonly lastDataAt?: number;
  /** First body byte → first decoded PCM, ms. */
  readonly firstPcmMs?: number;
  /** Last title received by a metadata update for this input. */
  readonly title?: string;
  /** This input's decoder: the ffmpeg of its current (or last) source connection, and its record since start. */
  readonly decoder: SourceDecoderSnapshot;
}

/**
 * A studio input's decoder. Each source connection gets its own (no restarts: a failed one ends
 * the connection and the studio reconnects), so the counters are per input, since the server started.
 */
/** What decodes a source: an ffmpeg child, or mpg123 in Node itself (src/ingest/decoder.ts). */
export type DecoderEngine = 'ffmpeg' | 'mpg123';

export interface SourceDecoderSnapshot {
  /**
   * idle: none has run since start; running; draining: its source left and it is flushing the last
   * audio; stopped: it exited after its source left; failed: it died, decoded nothing, or could not start.
   */
  readonly state: 'idle' | 'running' | 'draining' | 'stopped' | 'failed';
  /** The process is alive (running or draining). */
  readonly running: boolean;
  /** What runs the current (or last) decoder: an ffmpeg child, or mpg123 inside Node (MP3 at 44.1 kHz). */
  readonly engine: DecoderEngine | undefined;
  /** The current (or last) decoder's pid: undefined for mpg123, which runs in the server's own process. */
  readonly pid: number | undefined;
  /** The compressed format it decodes (as sniffed from the source's first bytes). */
  readonly format: Exclude<AudioFormat, 'unknown'> | undefined;
  /** Wall-clock ms the current (or last) decoder started, and when it exited. */
  readonly startedAt: number | undefined;
  readonly exitedAt: number | undefined;
  /** ms it has been running (0 once it exited). */
  readonly uptimeMs: number;
  /** Decoders started on this input (one per source connection that got as far as decoding). */
  readonly starts: number;
  /** Decoder failures on this input: died, produced no audio from what it was fed, or could not start. */
  readonly failures: number;
  readonly lastError: { readonly code: string; readonly message: string; readonly at: number } | undefined;
}

export interface ConnectionGuardSnapshot {
  readonly pending: number;
  readonly addresses: number;
  /** Closed to make room for a newer connection. */
  readonly shed: number;
  /** Closed by the timeout. */
  readonly timedOut: number;
}

export interface AuthGuardSnapshot {
  readonly failures: number;
  /** Failures answered after a delay. */
  readonly delayed: number;
  /** Addresses currently past freeFailures. */
  readonly throttledAddresses: number;
}

// --- mixer ---------------------------------------------------------------------------------------

export interface MixerSnapshot {
  readonly onAir: Tier;
  /** An operator's hold on a lower tier (maintenance), or null. */
  readonly hold: HoldTier | null;
  readonly fading: { readonly from: Tier; readonly to: Tier; readonly progress: number } | null;
  readonly meta: OnAirMeta;
  readonly framesProduced: number;
  readonly samplesProduced: number;
  readonly clockSkippedFrames: number;
  readonly inputs: readonly MixerInputSnapshot[];
  readonly emergency: EmergencySnapshot;
  readonly timeline: readonly TimelineEntry[];
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

export type BufferState = 'idle' | 'priming' | 'playing' | 'underrun' | 'draining';

export interface JitterBufferSnapshot {
  readonly state: BufferState;
  readonly depthMs: number;
  readonly targetMs: number;
  readonly jitterMs: number;
  readonly underruns: number;
  /** Audio dropped because the ring was full (a source sending faster than it plays), and in how many jumps. */
  readonly overflowDroppedMs: number;
  readonly overflows: number;
  readonly trimmedMs: number;
  /** Audio added or removed by rate correction so far (drift and depth changes). */
  readonly correctedMs: number;
  readonly ratio: number;
  readonly capacityBytes: number;
}

export interface EmergencySnapshot {
  readonly file: string;
  /** Audio is in memory (it may be a previous good file's while `problem` says the current one is unusable). */
  readonly loaded: boolean;
  readonly durationMs: number;
  /** Why the file cannot be used now; null when it can. */
  readonly problem: string | null;
  readonly reloads: number;
  /**
   * The file's decoder: reloading while a decode runs (the watched file changed, or another file is
   * being swapped in); failed while `problem` stands; loaded otherwise.
   */
  readonly state: 'loaded' | 'failed' | 'reloading';
  /** The decode in flight, if any. */
  readonly decoderPid: number | undefined;
  /** Wall-clock ms of the last successful decode. */
  readonly decodedAt: number | undefined;
  /** How long that decode took, ms. */
  readonly decodeMs: number | undefined;
  /** Decodes that failed since the server started. */
  readonly failures: number;
  /** The last problem, kept after the file became usable again. */
  readonly lastProblem: { readonly message: string; readonly at: number } | undefined;
}

export interface TimelineEntry {
  readonly at: number;
  readonly type: string;
  readonly detail: Readonly<Record<string, string | number | boolean | null>>;
}

// --- encoders and the supervisor -----------------------------------------------------------------

export interface EncoderSnapshot {
  readonly key: string;
  readonly spec: EncoderSpec;
  /** The ffmpeg process this encode runs in: the keys it encodes joined by `+` (its supervisor name). */
  readonly process: string;
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

/** One supervised unit (an encoder's ffmpeg) as the supervisor records it. */
export interface SupervisedSnapshot {
  readonly name: string;
  readonly kind: SupervisedKind;
  readonly engine: SupervisedEngine;
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

// --- listener mounts and the HTTP port -----------------------------------------------------------

export interface MountSnapshot {
  readonly mount: string;
  readonly listeners: number;
  readonly peak: number;
  readonly slowListeners: number;
  readonly bytesSent: number;
  readonly bytesIn: number;
  readonly bufferedSeconds: number;
  readonly title: string | undefined;
}

export interface HttpBudget {
  /** The soft limit read at start (undefined: unknown or unlimited). */
  readonly nofile: number | undefined;
  /** Descriptors the plain and the HTTPS port may hold at once, together (one pool); the rest is the reserve. */
  readonly maxConnections: number;
  /** Connections without a complete request head, overall. */
  readonly maxPending: number;
  /** Listeners across mounts. */
  readonly maxListeners: number;
}

// --- hls -----------------------------------------------------------------------------------------

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

export interface TierStats {
  readonly name: string;
  readonly bitrate: number;
  readonly peakBps: number | undefined;
  readonly averageBps: number | undefined;
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

// --- tls --------------------------------------------------------------------------------------------

/** The certificate as the status API shows it (times in ms since the epoch). */
export interface CertificateSnapshot {
  readonly source: 'acme' | 'file';
  readonly domains: readonly string[];
  /** none: no certificate yet (HTTPS not listening); valid: serving; expired: the one kept has run out. */
  readonly state: 'none' | 'valid' | 'expired';
  /** An order or a file reload is in flight. */
  readonly renewing: boolean;
  readonly subject: string | null;
  readonly issuer: string | null;
  readonly notBefore: number | null;
  readonly expiresAt: number | null;
  /** When the successor will be ordered (ACME only). */
  readonly renewAt: number | null;
  /** The CA's renewal window (RFC 9773) when it offers one. */
  readonly renewalWindow: RenewalWindow | null;
  readonly lastError: {
    readonly code: string;
    readonly reason: CertificateFailureReason;
    readonly message: string;
    readonly at: number;
  } | null;
  readonly nextAttemptAt: number | null;
  readonly failures: number;
  readonly renewals: number;
}

/** A suggested renewal window from the CA (RFC 9773 ACME Renewal Information), ms since the epoch. */
export interface RenewalWindow {
  readonly start: number;
  readonly end: number;
}
