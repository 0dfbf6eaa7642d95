// Every route's input and output as zod schemas: the one source of truth for the TypeScript types,
// request validation, response serialization and the OpenAPI document at /api/openapi.json.
import { z } from 'zod';

const tier = z.enum(['primary', 'fallback', 'emergency']);
const input = z.enum(['primary', 'fallback']);
const holdTier = z.enum(['fallback', 'emergency']);
const ms = z.number().describe('milliseconds since the epoch');
const nullableMs = z.number().nullable();

export const errorBody = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .describe('What went wrong: a stable code and a message that says what to do');

// --- public -----------------------------------------------------------------------------------------

const listenerCounts = z.object({ total: z.number().int(), unique: z.number().int(), current: z.number().int() });

export const nowPlaying = z.object({
  station: z.object({
    name: z.string(),
    description: z.string(),
    listen_url: z.string(),
    mounts: z.array(
      z.object({
        name: z.string(),
        url: z.string(),
        path: z.string(),
        format: z.string(),
        bitrate: z.number().int().nullable().describe('kbit/s; null for quality-based Vorbis'),
        listeners: listenerCounts,
        is_default: z.boolean(),
      }),
    ),
    hls_enabled: z.boolean(),
    hls_url: z.string(),
    hls_listeners: z.number().int(),
  }),
  listeners: listenerCounts,
  live: z.object({
    is_live: z.boolean(),
    streamer_name: z.string(),
    broadcast_start: z.number().nullable().describe('seconds since the epoch'),
  }),
  now_playing: z.object({
    played_at: z.number().describe('seconds since the epoch'),
    elapsed: z.number(),
    song: z.object({ text: z.string(), artist: z.string(), title: z.string() }),
  }),
  is_online: z.boolean(),
  tier,
  held: holdTier.nullable(),
});

export const publicConfig = z.object({
  station: z.object({ name: z.string(), description: z.string(), genre: z.string(), url: z.string() }),
  silenceThresholdDb: z.number().describe('RMS below this counts as silence (the level meters mark it)'),
  appwrite: z
    .object({ endpoint: z.string(), project: z.string() })
    .nullable()
    .describe('where the dashboard signs in with the Appwrite web SDK; null: the admin credentials only'),
});
export type PublicConfig = z.infer<typeof publicConfig>;

// --- status -----------------------------------------------------------------------------------------

const studioInput = z.object({
  id: input,
  state: z.enum(['idle', 'connecting', 'streaming']),
  clientAddress: z.string().nullable(),
  userAgent: z.string().nullable(),
  protocol: z.string().nullable(),
  format: z.string().nullable(),
  bitrate: z.number().nullable().describe('kbit/s as the source announced it'),
  bytesIn: z.number(),
  connectedSince: nullableMs,
  title: z.string(),
  available: z.boolean(),
  unavailableReason: z.string().nullable(),
  silent: z.boolean(),
  levelDb: z.number().describe('RMS of the last 20 ms frame, dBFS'),
  peakDb: z.number().describe('sample peak, held and falling back at 12 dB/s, dBFS'),
  buffer: z.object({
    state: z.string(),
    depthMs: z.number(),
    targetMs: z.number(),
    jitterMs: z.number(),
    underruns: z.number(),
    correctedMs: z.number(),
    ratio: z.number(),
  }),
});

const errorAt = z.object({ code: z.string(), message: z.string(), at: ms });

const sourceDecoder = z
  .object({
    input,
    state: z
      .enum(['idle', 'running', 'draining', 'stopped', 'failed'])
      .describe(
        'idle: none since start; draining: its source left and it flushes the last audio; stopped: exited after its source left; failed: died, decoded nothing or could not start',
      ),
    running: z.boolean().describe('the decoder is alive (running or draining)'),
    engine: z
      .enum(['ffmpeg', 'mpg123'])
      .nullable()
      .describe('ffmpeg: a child process; mpg123: inside the server process (MPEG-1 Layer III at 44.1 kHz, ANTENNA_MP3_DECODER=auto)'),
    pid: z.number().int().nullable().describe('the current (or last) decoder process; null for mpg123, which runs in the server itself'),
    format: z.enum(['mp3', 'aac', 'ogg', 'flac']).nullable().describe("the compressed format it decodes (sniffed from the source's bytes)"),
    startedAt: nullableMs,
    exitedAt: nullableMs,
    uptimeMs: z.number().describe('0 once it exited'),
    starts: z.number().int().describe('decoders started on this input since the server started (one per source connection)'),
    failures: z.number().int().describe('decoder failures on this input since the server started'),
    lastError: errorAt.nullable(),
  })
  .describe("a studio input's decoder: one per source connection, never restarted (the studio reconnects)");

const emergencyDecoder = z
  .object({
    file: z.string(),
    state: z
      .enum(['loaded', 'failed', 'reloading'])
      .describe('reloading: a decode runs (the file changed, or another is swapped in); failed: the file cannot be used now'),
    pid: z.number().int().nullable().describe('the decode in flight'),
    decodedAt: nullableMs.describe('the last successful decode'),
    decodeMs: z.number().nullable().describe('how long that decode took'),
    durationMs: z.number().describe('length of the audio in memory'),
    problem: z.string().nullable().describe('why the file cannot be used now'),
    lastProblem: z.object({ message: z.string(), at: ms }).nullable().describe('kept after the file became usable again'),
    failures: z.number().int(),
    reloads: z.number().int(),
  })
  .describe("the emergency file's decoder (a one-off decode into memory)");

export const status = z.object({
  at: ms,
  onAir: z.object({
    tier,
    title: z.string(),
    since: nullableMs,
    reason: z.string().nullable().describe('why the programme switched to this tier'),
    hold: holdTier.nullable(),
    fading: z.object({ from: tier, to: tier, progress: z.number() }).nullable(),
  }),
  inputs: z.array(studioInput),
  emergency: z.object({
    file: z.string(),
    activeId: z.string(),
    loaded: z.boolean(),
    durationMs: z.number(),
    problem: z.string().nullable(),
  }),
  mounts: z.array(
    z.object({
      mount: z.string(),
      codec: z.string(),
      bitrate: z.number().nullable(),
      listeners: z.number(),
      peak: z.number(),
      slowDrops: z.number(),
      bytesSent: z.number(),
      encoderRunning: z.boolean(),
    }),
  ),
  hls: z.object({
    tiers: z.array(z.object({ name: z.string(), bitrate: z.number() })),
    sessions: z.number(),
    mediaSequence: z.number().nullable(),
    discontinuities: z.number(),
  }),
  components: z.object({
    supervised: z.array(
      z.object({
        name: z.string(),
        kind: z.string(),
        engine: z
          .enum(['ffmpeg', 'fdk-aac', 'in-process'])
          .describe(
            'ffmpeg: a child process (pid); fdk-aac: libfdk-aac inside the server (no pid); in-process: MP3 (LAME) and Vorbis (libvorbis) inside the server (no pid)',
          ),
        state: z.string(),
        pid: z.number().nullable(),
        uptimeMs: z.number(),
        restarts: z.number(),
        lastError: z.object({ code: z.string(), message: z.string(), at: ms }).nullable(),
      }),
    ),
    decoders: z.array(sourceDecoder),
    emergencyDecoder,
    sourcePorts: z.object({ primary: z.number(), fallback: z.number(), primaryShoutcast: z.number(), fallbackShoutcast: z.number() }),
    http: z.array(z.object({ protocol: z.enum(['http', 'https']), port: z.number() })),
    certificate: z
      .object({
        source: z.enum(['acme', 'file']),
        domains: z.array(z.string()),
        state: z.enum(['none', 'valid', 'expired']).describe('none: no certificate yet, HTTPS not listening'),
        renewing: z.boolean(),
        subject: z.string().nullable(),
        issuer: z.string().nullable(),
        notBefore: ms.nullable(),
        expiresAt: ms.nullable(),
        renewAt: ms.nullable().describe('when the successor is ordered (ACME)'),
        renewalWindow: z.object({ start: ms, end: ms }).nullable().describe("the CA's ACME Renewal Information window, where offered"),
        lastError: z
          .object({
            code: z.string(),
            reason: z.enum(['dns', 'connection', 'rate-limit', 'unauthorized', 'ca-unreachable', 'file', 'other']),
            message: z.string(),
            at: ms,
          })
          .nullable(),
        nextAttemptAt: ms.nullable(),
        failures: z.number(),
        renewals: z.number(),
      })
      .nullable()
      .describe('null when TLS is off'),
    process: z.object({
      pid: z.number(),
      uptimeS: z.number(),
      rssBytes: z.number(),
      heapUsedBytes: z.number(),
      cpuMs: z.number(),
      eventLoopDelayP99Ms: z.number(),
      nodeVersion: z.string(),
    }),
    live: z.object({ clients: z.number(), droppedSlow: z.number() }),
  }),
});

export const timelineItem = z.object({
  seq: z.number().int(),
  at: ms,
  type: z.string(),
  detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  by: z.string().optional(),
});

export const eventsQuery = z.object({
  since: z.coerce.number().min(0).default(0).describe('only events after this time (ms since the epoch)'),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});
export const eventsResponse = z.object({ events: z.array(timelineItem) });

export const historyQuery = z.object({
  minutes: z.coerce
    .number()
    .int()
    .min(1)
    .max(3660 * 1440)
    .default(60),
});
export const historyResponse = z.object({
  resolutionSeconds: z.literal(60),
  points: z.array(z.object({ t: ms, total: z.number(), mounts: z.record(z.string(), z.number()) })),
});

export const meResponse = z.object({
  kind: z.enum(['admin', 'appwrite']),
  name: z.string().describe('the Appwrite e-mail (or id), or "admin"'),
  roles: z.array(z.string()),
  canWrite: z.boolean().describe('whether the write routes (emergency files, kick, title, hold) will accept these credentials'),
});

// --- emergency files --------------------------------------------------------------------------------

export const emergencyFile = z.object({
  id: z.string(),
  name: z.string(),
  format: z.string(),
  bytes: z.number(),
  durationMs: z.number(),
  levelDb: z.number(),
  uploadedAt: ms,
  uploadedBy: z.string(),
  builtIn: z.boolean(),
  active: z.boolean(),
});
export const emergencyList = z.object({ active: z.string(), files: z.array(emergencyFile) });
export const idParams = z.object({ id: z.string().regex(/^(default|[0-9a-f]{32})$/, 'a file id') });
export const uploadQuery = z.object({ activate: z.enum(['0', '1', 'true', 'false']).optional() });

// --- control ----------------------------------------------------------------------------------------

export const kickParams = z.object({ input });
export const kickResponse = z.object({ kicked: z.boolean(), input });
export const titleBody = z.object({ title: z.string().max(1024) }).strict();
export const titleResponse = z.object({ title: z.string(), input });
export const holdBody = z.object({ tier: holdTier.nullable() }).strict();
export const holdResponse = z.object({ hold: holdTier.nullable(), onAir: tier });

export type NowPlaying = z.infer<typeof nowPlaying>;
export type Status = z.infer<typeof status>;
