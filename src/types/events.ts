// Every event a stage emits, and the one map observers subscribe to (`Antenna.events`). The maps are
// exact: an event name that is not listed here does not compile. Payloads are plain data.
import type { ErrorCode, PipelineFault } from '../errors.js';
import type { DisconnectReason, HoldTier, InputId, OnAirMeta, SourceInfo, SwitchReason, Tier } from './contracts.js';

/** Wall-clock time (Date.now()) at which an event happened. */
export interface Stamped {
  readonly at: number;
}

// --- ingest ---------------------------------------------------------------------------------------

/** Events from the ingest stage; the composition root feeds them to the mixer. */
export interface IngestEvents {
  'source-connected': { readonly inputId: InputId; readonly info: SourceInfo };
  /**
   * Decoded PCM (see types/pcm.ts), any whole number of stereo samples, valid only during the call (the
   * in-process MP3 decoder reuses its buffer; the mixer copies it into its jitter buffer). Wiring only:
   * not on Antenna.events.
   */
  pcm: { readonly inputId: InputId; readonly connectionId: number; readonly pcm: Buffer };
  /** Emitted once the decoder has delivered its last PCM, so the remainder can play out. */
  'source-disconnected': { readonly inputId: InputId; readonly info: SourceInfo; readonly reason: DisconnectReason };
  metadata: { readonly inputId: InputId; readonly title: string };
  'decoder-error': { readonly inputId: InputId; readonly fault: PipelineFault };
  rejected: { readonly port: number; readonly remoteAddress: string; readonly code: string; readonly message: string };
}

// --- mixer ----------------------------------------------------------------------------------------

export interface MixerEvents {
  switch: Stamped & { readonly from: Tier; readonly to: Tier; readonly reason: SwitchReason };
  silence: Stamped & { readonly inputId: InputId };
  sound: Stamped & { readonly inputId: InputId };
  /** `cleared` true when the condition that raised the alert is over. */
  alert: Stamped & { readonly code: ErrorCode; readonly message: string; readonly cleared: boolean };
  /** The on-air title or tier changed. */
  meta: OnAirMeta;
  /** An operator held the programme on a lower tier (`tier`), or released it (`null`). */
  hold: Stamped & { readonly tier: HoldTier | null };
}

// --- encoders and the supervisor ---------------------------------------------------------------------

/** What one encoder reports; it never restarts itself (the supervisor decides). */
export interface EncoderEvents {
  started: { readonly key: string; readonly generation: number; readonly pid: number | undefined };
  /** The encoder's live ffmpeg is gone (exited, failed to start, or stalled); output stops until a restart. */
  died: { readonly key: string; readonly fault: PipelineFault; readonly pid: number | undefined; readonly stderrTail: readonly string[] };
  /** ffmpeg took no input past the queue bound: the PCM is dropped and the process is replaced. */
  stalled: { readonly key: string; readonly queuedBytes: number };
}

/** What the supervisor decides about the units it watches. */
export interface SupervisorEvents {
  'restart-scheduled': { readonly name: string; readonly kind: SupervisedKind; readonly inMs: number; readonly attempt: number };
  restarted: { readonly name: string; readonly kind: SupervisedKind; readonly restarts: number; readonly downMs: number };
  /** A restart attempt failed (the replacement could not start); another is scheduled. */
  'restart-failed': { readonly name: string; readonly kind: SupervisedKind; readonly message: string };
}

export type SupervisedKind = 'encoder';

/** What runs a supervised unit: an ffmpeg child process, libfdk-aac inside the server, or LAME and libvorbis inside it (no pid). */
export type SupervisedEngine = 'ffmpeg' | 'fdk-aac' | 'in-process';

// --- hls ------------------------------------------------------------------------------------------

/** HLS reports its listener sessions (started on a first request, ended when they go quiet) too. */
export interface HlsEvents extends ListenerEvents {
  /** A tier's encoder restarted or stalled: timestamps restart after a discontinuity. */
  discontinuity: { readonly reason: string };
}

// --- listeners (Icecast mounts and HLS sessions) ----------------------------------------------------

export type ListenerProtocol = 'icecast' | 'hls';
export type ListenerLeaveReason = 'closed' | 'slow' | 'killed' | 'shutdown' | 'expired' | 'moved';

export interface ListenerInfo {
  /** Unique per protocol while the process lives. */
  readonly id: string;
  readonly protocol: ListenerProtocol;
  /** `/listen/live.mp3`, or the HLS tier's playlist path (`/hls/<tier>/…`). */
  readonly mount: string;
  readonly remoteAddress: string;
  readonly userAgent: string;
}

export interface ListenerEvents {
  'listener-connected': Stamped & ListenerInfo;
  'listener-disconnected': Stamped &
    ListenerInfo & { readonly durationMs: number; readonly bytes: number; readonly reason: ListenerLeaveReason };
}

// --- one ffmpeg process ------------------------------------------------------------------------------

export interface FfmpegExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The last stderr lines, for the fault report. */
  readonly stderrTail: readonly string[];
  /** True when we asked it to stop (stop() or end of input), false when it died on its own. */
  readonly requested: boolean;
}

export interface FfmpegChildEvents {
  exit: FfmpegExit;
}

// --- analytics and alerts: what the notifiers decided and sent (for the status API and /metrics) ------

export type SinkName = 'posthog' | 'pushover' | 'webhook';
/** `retrying`: one attempt failed and another is scheduled; `failed`: given up (4xx, retries spent); `dropped`: queue full or shutdown. */
export type SinkOutcomeKind = 'sent' | 'retrying' | 'failed' | 'dropped';

export interface NotifierEvents {
  /** The alert rules opened or closed an incident, and the alert goes to every alert sink (rate-limited ones are not emitted). */
  'alert-raised': Stamped & {
    readonly incident: string;
    readonly kind: string;
    readonly phase: 'open' | 'close';
    readonly title: string;
    readonly message: string;
    readonly priority: number;
    readonly count: number;
  };
  /** What a sink did with `items` events or alerts. `target` is never a secret (a webhook's origin, not its URL). */
  'sink-outcome': Stamped & {
    readonly sink: SinkName;
    readonly target: string;
    readonly outcome: SinkOutcomeKind;
    readonly items: number;
    readonly detail: string;
  };
}

// --- tls (src/tls) ------------------------------------------------------------------------------------

/** Why a certificate could not be had, as far as the CA's answer tells (shown in the status API). */
export type CertificateFailureReason = 'dns' | 'connection' | 'rate-limit' | 'unauthorized' | 'ca-unreachable' | 'file' | 'other';

export interface CertificateInfoPayload {
  readonly domains: readonly string[];
  readonly source: 'acme' | 'file';
  /** ms since the epoch. */
  readonly notBefore: number;
  readonly notAfter: number;
}

export interface TlsEvents {
  /** A certificate is in use where there was none (first issuance, or the kept one loaded at start). */
  'certificate-issued': CertificateInfoPayload & { readonly kept: boolean };
  /** A newer certificate replaced the one in use, live (new handshakes get it; no connection dropped). */
  'certificate-renewed': CertificateInfoPayload & { readonly previousNotAfter: number };
  /** Issuance, renewal or a file reload failed; `retryAt` is when the next attempt runs (ms since epoch). */
  'certificate-failed': {
    readonly domains: readonly string[];
    readonly reason: CertificateFailureReason;
    readonly code: 'TLS_ISSUANCE_FAILED' | 'TLS_CERT_FILE_UNUSABLE';
    readonly message: string;
    readonly attempt: number;
    readonly retryAt: number | null;
  };
  /** The certificate in use is past its renewal time with no successor (once per certificate and day). */
  'certificate-expiring': { readonly domains: readonly string[]; readonly notAfter: number; readonly hoursLeft: number };
}

// --- everything, for observers --------------------------------------------------------------------

type WithAt<T> = { readonly [K in keyof T]: T[K] & Stamped };

/**
 * The one stream observers (api, analytics, alerts, metrics, tls) subscribe to. Stage events are
 * forwarded with a prefix where their bare name would be ambiguous, and stamped with `at`.
 */
export interface AntennaEvents
  extends WithAt<Omit<IngestEvents, 'pcm' | 'rejected'>>, WithAt<TlsEvents>, MixerEvents, ListenerEvents, NotifierEvents {
  'source-rejected': IngestEvents['rejected'] & Stamped;
  'encoder-started': EncoderEvents['started'] & Stamped;
  'encoder-died': EncoderEvents['died'] & Stamped;
  'encoder-stalled': EncoderEvents['stalled'] & Stamped;
  'encoder-restart-scheduled': SupervisorEvents['restart-scheduled'] & Stamped;
  'encoder-restarted': SupervisorEvents['restarted'] & Stamped;
  'encoder-restart-failed': SupervisorEvents['restart-failed'] & Stamped;
  'hls-discontinuity': HlsEvents['discontinuity'] & Stamped;
  /** Every part is up and serving. */
  'server-started': Stamped & { readonly ports: Readonly<Record<string, number>> };
  /** Shutdown has begun: observers flush now (sinks get a bounded time). */
  'server-stopping': Stamped;
}

export type AntennaEventName = keyof AntennaEvents & string;
