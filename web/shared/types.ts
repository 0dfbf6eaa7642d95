// The status API's responses as the pages read them (the server's zod schemas in src/api/schemas.ts
// are the source of truth; test/unit/pages-contract.test.ts checks at compile time that these match).
export type Tier = 'primary' | 'fallback' | 'emergency';
export type InputId = 'primary' | 'fallback';
export type HoldTier = 'fallback' | 'emergency';

export interface PublicConfig {
  station: { name: string; description: string; genre: string; url: string };
  silenceThresholdDb: number;
  appwrite: { endpoint: string; project: string } | null;
}

export interface ListenerCounts {
  total: number;
  unique: number;
  current: number;
}

export interface NowPlaying {
  station: {
    name: string;
    description: string;
    listen_url: string;
    mounts: {
      name: string;
      url: string;
      path: string;
      format: string;
      bitrate: number | null;
      listeners: ListenerCounts;
      is_default: boolean;
    }[];
    hls_enabled: boolean;
    hls_url: string;
    hls_listeners: number;
  };
  listeners: ListenerCounts;
  live: { is_live: boolean; streamer_name: string; broadcast_start: number | null };
  now_playing: { played_at: number; elapsed: number; song: { text: string; artist: string; title: string } };
  is_online: boolean;
  tier: Tier;
  held: HoldTier | null;
}

export interface Me {
  kind: 'admin' | 'appwrite';
  name: string;
  roles: string[];
  canWrite: boolean;
}

export interface StudioInput {
  id: InputId;
  state: 'idle' | 'connecting' | 'streaming';
  clientAddress: string | null;
  userAgent: string | null;
  protocol: string | null;
  format: string | null;
  bitrate: number | null;
  bytesIn: number;
  connectedSince: number | null;
  title: string;
  available: boolean;
  unavailableReason: string | null;
  silent: boolean;
  levelDb: number;
  peakDb: number;
  buffer: { state: string; depthMs: number; targetMs: number; jitterMs: number; underruns: number; correctedMs: number; ratio: number };
}

/** A studio input's ffmpeg decoder (one per source connection). */
export interface SourceDecoder {
  input: InputId;
  state: 'idle' | 'running' | 'draining' | 'stopped' | 'failed';
  running: boolean;
  engine: 'ffmpeg' | 'mpg123' | null;
  pid: number | null;
  format: string | null;
  startedAt: number | null;
  exitedAt: number | null;
  uptimeMs: number;
  starts: number;
  failures: number;
  lastError: { code: string; message: string; at: number } | null;
}

/** The emergency file's one-off decode into memory. */
export interface EmergencyDecoder {
  file: string;
  state: 'loaded' | 'failed' | 'reloading';
  pid: number | null;
  decodedAt: number | null;
  decodeMs: number | null;
  durationMs: number;
  problem: string | null;
  lastProblem: { message: string; at: number } | null;
  failures: number;
  reloads: number;
}

export interface Status {
  at: number;
  onAir: {
    tier: Tier;
    title: string;
    since: number | null;
    reason: string | null;
    hold: HoldTier | null;
    fading: { from: Tier; to: Tier; progress: number } | null;
  };
  inputs: StudioInput[];
  emergency: { file: string; activeId: string; loaded: boolean; durationMs: number; problem: string | null };
  mounts: {
    mount: string;
    codec: string;
    bitrate: number | null;
    listeners: number;
    peak: number;
    slowDrops: number;
    bytesSent: number;
    encoderRunning: boolean;
  }[];
  hls: { tiers: { name: string; bitrate: number }[]; sessions: number; mediaSequence: number | null; discontinuities: number };
  components: {
    supervised: {
      name: string;
      kind: string;
      /** ffmpeg: a child process (pid); fdk-aac: libfdk-aac inside the server; in-process: LAME and libvorbis inside the server (no pid). */
      engine: 'ffmpeg' | 'fdk-aac' | 'in-process';
      state: string;
      pid: number | null;
      uptimeMs: number;
      restarts: number;
      lastError: { code: string; message: string; at: number } | null;
    }[];
    decoders: SourceDecoder[];
    emergencyDecoder: EmergencyDecoder;
    sourcePorts: { primary: number; fallback: number; primaryShoutcast: number; fallbackShoutcast: number };
    http: { protocol: 'http' | 'https'; port: number }[];
    certificate: {
      state: 'none' | 'valid' | 'expired';
      domains: string[];
      subject: string | null;
      expiresAt: number | null;
      lastError: { reason: string; message: string } | null;
    } | null;
    process: {
      pid: number;
      uptimeS: number;
      rssBytes: number;
      heapUsedBytes: number;
      cpuMs: number;
      eventLoopDelayP99Ms: number;
      nodeVersion: string;
    };
    live: { clients: number; droppedSlow: number };
  };
}

export interface TimelineItem {
  seq: number;
  at: number;
  type: string;
  detail: Record<string, string | number | boolean | null>;
  by?: string | undefined;
}

export interface HistoryResponse {
  resolutionSeconds: 60;
  points: { t: number; total: number; mounts: Record<string, number> }[];
}

export interface EmergencyFile {
  id: string;
  name: string;
  format: string;
  bytes: number;
  durationMs: number;
  levelDb: number;
  uploadedAt: number;
  uploadedBy: string;
  builtIn: boolean;
  active: boolean;
}

export interface EmergencyList {
  active: string;
  files: EmergencyFile[];
}

/** The live feed's `levels` event (10 Hz). */
export interface LiveInputLevel {
  connected: boolean;
  levelDb: number;
  peakDb: number;
  silent: boolean;
  available: boolean;
  bufferMs: number;
}
export interface LiveLevels {
  at: number;
  onAir: Tier;
  hold: HoldTier | null;
  fading: { from: Tier; to: Tier; progress: number } | null;
  primary: LiveInputLevel;
  fallback: LiveInputLevel;
}
/** The live feed's `listeners` event (1 Hz). */
export interface LiveListeners {
  at: number;
  total: number;
  mounts: Record<string, number>;
  hls: number;
}
/** The live feed's `nowplaying` event. */
export interface LiveNowPlaying {
  title: string;
  tier: Tier;
}
