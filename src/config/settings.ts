// Every setting Antenna reads, with its default, unit and the component that reads it: the one table
// (also rendered into the README by `npm run config:doc`). Each has an environment variable:
// ANTENNA_ + the name in upper snake case (silenceSeconds → ANTENNA_SILENCE_SECONDS).
import { z } from 'zod';

const port = z.number().int().min(0).max(65535);
const nonEmpty = z.string().min(1);
/** A port as clients see it: never 0 (that only means "any free port" when binding). */
const publicPort = z.number().int().min(1).max(65535);
const isHttpUrl = (s: string): boolean => {
  try {
    return ['http:', 'https:'].includes(new URL(s).protocol);
  } catch {
    return false;
  }
};
const httpUrl = z.string().refine(isHttpUrl, 'an http(s) URL');
/** Pushover's keys are 30 letters and digits; empty disables it. */
const pushoverKey = z.string().regex(/^(|[A-Za-z0-9]{30})$/, '30 letters and digits, or empty');

/** `ANTENNA_WEBHOOK_URLS`: comma- (or space-) separated. */
export function splitUrls(s: string): string[] {
  return s
    .split(/[\s,]+/)
    .map((u) => u.trim())
    .filter((u) => u !== '');
}

export const mountSchema = z
  .object({
    mount: z.string().regex(/^\/listen\/[A-Za-z0-9._-]+$/, 'a path like /listen/name.ext'),
    codec: z.enum(['mp3', 'aac', 'vorbis']),
    bitrate: z.number().int().min(8_000).max(512_000).optional(),
    quality: z.number().min(-1).max(10).optional(),
    charset: z.enum(['utf-8', 'latin1']).default('utf-8'),
    maxListeners: z.number().int().min(0).optional(),
    burstSeconds: z.number().min(0).max(30).optional(),
  })
  .strict();

export const hlsTierSchema = z
  .object({ name: z.string().regex(/^[A-Za-z0-9_-]+$/), bitrate: z.number().int().min(16_000).max(320_000) })
  .strict();

interface SettingDef<S extends z.ZodType> {
  readonly schema: S;
  readonly default: z.infer<S> | undefined;
  readonly unit: string;
  readonly component: string;
  readonly doc: string;
}

function def<S extends z.ZodType>(schema: S, dflt: z.infer<S> | undefined, unit: string, component: string, doc: string): SettingDef<S> {
  return { schema, default: dflt, unit, component, doc };
}

export const SETTINGS = {
  logLevel: def(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info', '', 'log', 'pino log level'),
  host: def(nonEmpty, '0.0.0.0', 'address', 'ingest, http', 'address every port binds to'),
  publicHostname: def(
    nonEmpty.optional(),
    undefined,
    'host name',
    'http',
    'host name in listen URLs (playlists, status-json, Icecast admin stats, /api/nowplaying); default the first of domains, else localhost',
  ),
  primaryPort: def(port, 8010, 'TCP port', 'ingest', 'primary studio encoder port (Shoutcast v1 clients set to it stream to +1)'),
  fallbackPort: def(port, 8011, 'TCP port', 'ingest', 'fallback encoder port (Shoutcast v1 clients set to it stream to +1)'),
  primaryShoutcastPort: def(
    port.optional(),
    undefined,
    'TCP port',
    'ingest',
    'Shoutcast v1 port of the primary (default primaryPort + 1; shared with fallbackPort by sniffing the first line)',
  ),
  fallbackShoutcastPort: def(
    port.optional(),
    undefined,
    'TCP port',
    'ingest',
    'Shoutcast v1 port of the fallback (default fallbackPort + 1)',
  ),
  httpPort: def(
    port.optional(),
    undefined,
    'TCP port',
    'http',
    'plain HTTP port: listeners, HLS, API (default 8000; 80 when TLS is on, where it also answers ACME HTTP-01 and redirects)',
  ),
  // TLS (src/tls): off unless domains or a certificate file are given
  domains: def(
    z.string().regex(/^\s*$|^\s*[A-Za-z0-9.-]+(\s*,\s*[A-Za-z0-9.-]+)*\s*$/, 'comma-separated host names'),
    '',
    'host names',
    'tls',
    'host names of the certificate (comma-separated); empty = no TLS',
  ),
  acmeEmail: def(z.email().optional(), undefined, 'address', 'tls', 'contact address of the ACME account (expiry warnings from the CA)'),
  acmeDirectory: def(
    z.union([z.enum(['letsencrypt', 'letsencrypt-staging']), z.url({ protocol: /^https?$/ })]),
    'letsencrypt',
    'word or URL',
    'tls',
    'ACME directory: letsencrypt, letsencrypt-staging, or any directory URL',
  ),
  acmeCaFile: def(
    nonEmpty.optional(),
    undefined,
    'path',
    'tls',
    'extra CA certificate(s), PEM, trusted when talking to the ACME directory (a private CA, or pebble in tests)',
  ),
  httpsPort: def(port.optional(), undefined, 'TCP port', 'http', 'HTTPS port, HTTP/2 and HTTP/1.1 (default 443 when TLS is on)'),
  publicHttpPort: def(
    publicPort.optional(),
    undefined,
    'TCP port',
    'http',
    'port clients reach plain HTTP on when a router or firewall forwards it to httpPort (default httpPort); listen URLs and HSTS follow it',
  ),
  publicHttpsPort: def(
    publicPort.optional(),
    undefined,
    'TCP port',
    'http',
    'port clients reach HTTPS on when it is forwarded to httpsPort (default httpsPort); listen URLs, the redirect and HSTS follow it',
  ),
  hstsMaxAge: def(
    z.number().int().min(0).max(63_072_000),
    31_536_000,
    's',
    'http',
    'Strict-Transport-Security max-age on HTTPS responses, sent only while HTTPS is public on 443 and plain HTTP on 80; 0 tells browsers to forget it (set it for a while before turning TLS off)',
  ),
  httpRedirect: def(
    z.enum(['all', 'admin', 'none']),
    'admin',
    '',
    'http',
    'plain-HTTP requests answered 308 to HTTPS once a certificate exists: all, admin (API, Icecast admin, pages; listeners, HLS, status-json and relay edges stay on HTTP), none',
  ),
  tlsCertFile: def(
    nonEmpty.optional(),
    undefined,
    'path',
    'tls',
    'certificate chain (PEM) you bring instead of ACME; reloaded when the file changes',
  ),
  tlsKeyFile: def(nonEmpty.optional(), undefined, 'path', 'tls', 'private key (PEM) of tlsCertFile'),
  sourcePassword: def(
    nonEmpty.optional(),
    undefined,
    '',
    'ingest',
    'password for source clients (user "source"); generated and kept in the data dir if unset',
  ),
  adminPassword: def(
    nonEmpty.optional(),
    undefined,
    '',
    'icecast-compat',
    'password for the admin user; generated and kept in the data dir if unset',
  ),
  relayPassword: def(
    nonEmpty.optional(),
    undefined,
    '',
    'icecast-compat',
    'password for relay edges (user "relay"); defaults to the admin password',
  ),
  dataDir: def(nonEmpty, './data', 'path', 'app', 'where generated passwords and persistent state are kept'),
  emergencyFile: def(nonEmpty, 'emergency-audio/fallback.mp3', 'path', 'mixer', 'audio looped when neither studio input is available'),
  emergencyTitle: def(z.string(), 'We will be right back', '', 'mixer', 'on-air title while the emergency file plays'),
  emergencyMaxSeconds: def(
    z.number().min(1).max(3600),
    600,
    's',
    'mixer',
    'longest emergency audio held in memory (a longer file is cut and the log says so)',
  ),
  stationName: def(z.string(), 'Antenna', '', 'icecast-compat', 'icy-name of every mount'),
  stationDescription: def(z.string(), 'An Antenna radio station', '', 'icecast-compat', 'icy-description'),
  stationGenre: def(z.string(), 'various', '', 'icecast-compat', 'icy-genre'),
  stationUrl: def(z.string(), '', 'URL', 'icecast-compat', 'icy-url (omitted when empty)'),
  // Ingest
  headerTimeoutMs: def(
    z.number().int().min(100).max(300_000),
    5_000,
    'ms',
    'ingest',
    'time a source client has to send its request head (every encoder sends it at once)',
  ),
  maxHeaderBytes: def(
    z.number().int().min(1024).max(1_048_576),
    16_384,
    'bytes',
    'ingest',
    'largest request head accepted on a source port',
  ),
  maxSourceConnections: def(
    z.number().int().min(2).max(1000),
    32,
    'connections',
    'ingest',
    'connections per source port that are not an accepted source (heads being read, pokes, title updates); ' +
      'a new one closes the oldest of the busiest address',
  ),
  maxSourcePendingPerAddress: def(
    z.number().int().min(1).max(1000),
    8,
    'connections',
    'ingest',
    "of those, per remote address; a new one closes that address's oldest",
  ),
  // Mixer
  frameMs: def(
    z.number().int().min(5).max(100),
    20,
    'ms',
    'mixer',
    'mixer frame: audio is produced in frames of this length on a monotonic clock',
  ),
  minBufferMs: def(z.number().int().min(20).max(10_000), 150, 'ms', 'mixer', 'smallest adaptive jitter-buffer target per input'),
  maxBufferMs: def(
    z.number().int().min(100).max(30_000),
    2000,
    'ms',
    'mixer',
    'largest jitter-buffer target; also the byte bound of each input buffer',
  ),
  stallMs: def(
    z.number().int().min(20).max(60_000),
    300,
    'ms',
    'mixer',
    'an input whose buffer stays empty this long is stalled (not available)',
  ),
  sourceTimeoutS: def(z.number().min(1).max(3600), 10, 's', 'ingest', 'a source that sends no bytes this long is disconnected'),
  mp3Decoder: def(
    z.enum(['auto', 'ffmpeg']),
    'auto',
    '',
    'ingest',
    'auto: MP3 sources at 44.1 kHz are decoded inside the server (mpg123 in WebAssembly: ~50 ms less latency and one process fewer per source, for no more CPU), other formats and rates by an ffmpeg child; ffmpeg: every source by an ffmpeg child',
  ),
  silenceThresholdDb: def(z.number().min(-120).max(0), -50, 'dBFS', 'mixer', 'RMS below this counts as silence'),
  silenceSeconds: def(z.number().min(0.1).max(3600), 10, 's', 'mixer', 'silence this long makes an input unavailable'),
  soundSeconds: def(z.number().min(0).max(600), 2, 's', 'mixer', 'sustained sound needed before a silent input is available again'),
  returnHoldSeconds: def(
    z.number().min(0).max(600),
    3,
    's',
    'mixer',
    'a higher tier must stay available this long before the mixer switches up to it (0 disables)',
  ),
  crossfadeMs: def(z.number().int().min(0).max(10_000), 500, 'ms', 'mixer', 'equal-power crossfade on every switch'),
  timelineSize: def(z.number().int().min(10).max(10_000), 200, 'events', 'mixer', 'how many recent events the in-memory timeline keeps'),
  // Outputs
  mounts: def(
    z.array(mountSchema).min(1),
    undefined,
    'JSON list',
    'encoders',
    'listener mounts: [{ mount, codec, bitrate | quality }] (default: the six below the table)',
  ),
  encoderLayout: def(
    z.enum(['shared', 'isolated']),
    'shared',
    '',
    'encoders',
    'shared: one ffmpeg for every encode, fed one PCM pipe (least CPU); isolated: one ffmpeg per encode (a crash takes one mount)',
  ),
  aacEncoder: def(
    z.enum(['auto', 'fdk-aac', 'ffmpeg']),
    'auto',
    '',
    'encoders',
    "who encodes the AAC mounts and HLS: fdk-aac is Fraunhofer's encoder (Debian's non-free libfdk-aac2) inside the server, about half of ffmpeg's CPU (see the README's AAC encoder table); ffmpeg is ffmpeg's own aac in the encoder process; auto (the default): fdk-aac when the library loads, else ffmpeg. fdk-aac refuses to start without the library",
  ),
  mp3VorbisEncoder: def(
    z.enum(['auto', 'in-process', 'ffmpeg']),
    'auto',
    '',
    'encoders',
    "who encodes the MP3 and Vorbis mounts: in-process is LAME and libvorbis (Debian's libmp3lame0, libvorbisenc2) called inside the server, the same bitstreams as ffmpeg's encoders without a process, its pipes and muxers (see the README's Always-on cost); ffmpeg is the encoder process; auto (the default): in-process for each library that loads when AAC is in the server too (libfdk-aac), so no encoder process is left; else ffmpeg, which runs for AAC anyway. in-process refuses to start without both. A crash inside a library takes the server, where ffmpeg's would take its encodes",
  ),
  aacCoder: def(
    z.enum(['auto', 'twoloop', 'fast']),
    'auto',
    '',
    'encoders',
    "when ffmpeg encodes AAC, its coder for the AAC mounts and HLS: twoloop is ffmpeg 5's default; fast costs about a third of twoloop's CPU on music (more on steady tones); auto (the default): fast from 192 kb/s, where PEAQ finds it sounds as good, twoloop below (see the README's AAC coder table)",
  ),
  burstSeconds: def(z.number().min(0).max(30), 2, 's', 'icecast-compat', 'audio sent at once to a new listener'),
  queueBytes: def(
    z
      .number()
      .int()
      .min(65_536)
      .max(64 * 1_048_576),
    524_288,
    'bytes',
    'icecast-compat',
    'how far a listener may fall behind before it is dropped',
  ),
  icyMetaint: def(z.number().int().min(256).max(65_536), 16_000, 'bytes', 'icecast-compat', 'ICY metadata interval'),
  maxListeners: def(
    z.number().int().min(0),
    20_000,
    'listeners',
    'icecast-compat',
    'listeners across all mounts (0 = none allowed); lowered at start to fit the file-descriptor limit (see fdReserve)',
  ),
  httpHeadTimeoutMs: def(
    z.number().int().min(500).max(60_000),
    5_000,
    'ms',
    'http',
    'a connection to the HTTP port that has not sent a complete request head by then is closed',
  ),
  httpMaxPending: def(
    z.number().int().min(16).max(100_000),
    1_024,
    'connections',
    'http',
    'connections to the HTTP port without a complete request head; a new one closes the oldest of the busiest address',
  ),
  httpMaxPendingPerAddress: def(
    z.number().int().min(1).max(10_000),
    32,
    'connections',
    'http',
    'of those, per remote address (listeners that sent their request are never limited per address)',
  ),
  fdReserve: def(
    z.number().int().min(64).max(100_000),
    256,
    'descriptors',
    'http',
    'file descriptors kept free of listeners for sources, admin, HLS files, ffmpeg pipes and the API',
  ),
  hlsTiers: def(
    z.array(hlsTierSchema).min(1),
    undefined,
    'JSON list',
    'hls',
    'HLS AAC tiers [{ name, bitrate }] (default 64k, 128k, 192k)',
  ),
  hlsSegmentSeconds: def(z.number().min(1).max(30), 4, 's', 'hls', 'HLS segment duration'),
  hlsPartSeconds: def(z.number().min(0.2).max(5), 1, 's', 'hls', 'Low-Latency HLS part target'),
  hlsWindowSegments: def(z.number().int().min(6).max(100), 6, 'segments', 'hls', 'segments listed in each media playlist'),
  // Analytics and alerts (observers; every key, token and URL here is a secret: never logged)
  posthogKey: def(z.string(), '', '', 'analytics', 'PostHog project API key (empty: PostHog disabled, nothing is sent or queued)'),
  posthogHost: def(
    httpUrl,
    'https://us.i.posthog.com',
    'URL',
    'analytics',
    'PostHog host: US cloud, https://eu.i.posthog.com or a self-hosted instance',
  ),
  posthogIntervalS: def(z.number().min(1).max(86_400), 60, 's', 'analytics', 'listener counts (each mount, HLS and total) sent this often'),
  posthogQueueSize: def(
    z.number().int().min(20).max(100_000),
    1000,
    'events',
    'analytics',
    'events held while PostHog is unreachable; past this the oldest are dropped and counted',
  ),
  pushoverToken: def(pushoverKey, '', '', 'alerts', 'Pushover application token (empty: Pushover disabled)'),
  pushoverUser: def(pushoverKey, '', '', 'alerts', 'Pushover user or group key that receives the alerts'),
  pushoverApi: def(httpUrl, 'https://api.pushover.net', 'URL', 'alerts', 'Pushover API base URL (another one for tests)'),
  webhookUrls: def(
    z.string().refine((s) => splitUrls(s).every(isHttpUrl), 'comma-separated http(s) URLs'),
    '',
    'URLs',
    'alerts',
    'comma-separated URLs that get every alert as a JSON POST (Discord, Slack, your own)',
  ),
  webhookSecret: def(z.string(), '', '', 'alerts', 'key of the HMAC-SHA256 signature of each webhook body (X-Antenna-Signature: sha256=…)'),
  alertSettleSeconds: def(
    z.number().min(0).max(86_400),
    60,
    's',
    'alerts',
    'an incident ends only after its cause has stayed away this long (flaps within it are counted, not alerted)',
  ),
  alertHoldSeconds: def(
    z
      .number()
      .min(1)
      .max(7 * 86_400),
    3600,
    's',
    'alerts',
    'the programme below the primary tier this long raises an alert',
  ),
  alertsPerHour: def(
    z.number().int().min(1).max(10_000),
    20,
    'alerts',
    'alerts',
    'alerts of normal priority per hour (outages always go out)',
  ),
  sinkQueueSize: def(
    z.number().int().min(1).max(10_000),
    100,
    'alerts',
    'alerts',
    'alerts waiting per destination (Pushover, each webhook); past this the oldest are dropped and counted',
  ),
  sinkFlushSeconds: def(z.number().min(0).max(60), 5, 's', 'analytics, alerts', 'on shutdown, time given to deliver what is queued'),
  // Status API
  appwriteEndpoint: def(
    z.url({ protocol: /^https?$/ }).optional(),
    undefined,
    'URL',
    'api',
    'Appwrite API endpoint, e.g. https://cloud.appwrite.io/v1 (unset: only the admin credentials open the API)',
  ),
  appwriteProject: def(nonEmpty.optional(), undefined, '', 'api', 'Appwrite project id'),
  appwriteTeamId: def(nonEmpty.optional(), undefined, '', 'api', 'Appwrite team whose confirmed members may read the status API'),
  appwriteWriteRoles: def(
    z.string().regex(/^[A-Za-z0-9_-]+(,[A-Za-z0-9_-]+)*$/, 'a comma-separated list of role names'),
    'owner,admin',
    'roles',
    'api',
    'team roles allowed to write (emergency files, kick, title, hold)',
  ),
  appwriteApiKey: def(
    nonEmpty.optional(),
    undefined,
    '',
    'api',
    "optional Appwrite API key: memberships are then read with it (GET /users/{id}/memberships) instead of the user's JWT",
  ),
  appwriteTimeoutMs: def(z.number().int().min(100).max(60_000), 5000, 'ms', 'api', 'longest wait for Appwrite before answering 503'),
  authCacheSeconds: def(z.number().min(0).max(900), 30, 's', 'api', 'how long an Appwrite verdict for a JWT is reused'),
  authFailuresPerMinute: def(
    z.number().int().min(1).max(10_000),
    10,
    'attempts',
    'api',
    'failed credential attempts allowed per client address per minute (then 429)',
  ),
  uploadMaxBytes: def(
    z
      .number()
      .int()
      .min(1024)
      .max(1024 * 1_048_576),
    50 * 1_048_576,
    'bytes',
    'api',
    'largest emergency-audio upload',
  ),
  listenerHistoryDays: def(z.number().int().min(30).max(3660), 30, 'days', 'api', 'listener history kept in the data dir'),
  metricsToken: def(nonEmpty.optional(), undefined, '', 'api', 'bearer token that may read /metrics (besides the admin credentials)'),
  metricsPublic: def(z.boolean(), false, '', 'api', '/metrics open to everyone'),
} as const;

export type SettingName = keyof typeof SETTINGS;

export const DEFAULT_MOUNTS: z.input<typeof mountSchema>[] = [
  { mount: '/listen/live.mp3', codec: 'mp3', bitrate: 320_000 },
  { mount: '/listen/live-128.mp3', codec: 'mp3', bitrate: 128_000 },
  { mount: '/listen/live.aac', codec: 'aac', bitrate: 128_000 },
  { mount: '/listen/live-64.aac', codec: 'aac', bitrate: 64_000 },
  { mount: '/listen/live.ogg', codec: 'vorbis', quality: 6 },
  { mount: '/listen/live-96.ogg', codec: 'vorbis', quality: 2 },
];

export const DEFAULT_HLS_TIERS: z.input<typeof hlsTierSchema>[] = [
  { name: 'aac_64k', bitrate: 64_000 },
  { name: 'aac_128k', bitrate: 128_000 },
  { name: 'aac_192k', bitrate: 192_000 },
];

export function envName(setting: string): string {
  return 'ANTENNA_' + setting.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}
