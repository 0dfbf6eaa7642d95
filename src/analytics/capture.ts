// What goes to PostHog, as pure functions of Antenna's events: stream events under the station's id,
// listener sessions under a salted hash that changes every UTC day (never the listener's address),
// and the client family read from the user agent.
import { createHash, randomBytes } from 'node:crypto';
import type { Tier } from '../types/contracts.js';
import type { AntennaEvents } from '../types/events.js';

export interface Capture {
  readonly event: string;
  readonly distinctId: string;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly timestamp: Date;
}

/** Events about the station and its feeds: not people, so PostHog makes no person profiles for them. */
const STATION = { $process_person_profile: false } as const;

const RANK: Record<Tier, number> = { primary: 0, fallback: 1, emergency: 2 };

type Ev<K extends keyof AntennaEvents> = AntennaEvents[K];

/** The stream events that go to PostHog (one each; `switch` may give two: the switch and the emergency edge). */
export function streamCaptures(distinctId: string, e: StreamEvent): Capture[] {
  const c = (event: string, at: number, properties: Record<string, unknown>): Capture => ({
    event,
    distinctId,
    properties: { ...STATION, ...properties },
    timestamp: new Date(at),
  });
  switch (e.name) {
    case 'source-connected': {
      const { info } = e.payload;
      return [
        c('source connected', e.payload.at, {
          input: e.payload.inputId,
          client: info.userAgent,
          client_family: clientFamily(info.userAgent),
          protocol: info.protocol,
          mount: info.mount,
          format: info.format,
        }),
      ];
    }
    case 'source-disconnected': {
      const { info } = e.payload;
      return [
        c('source disconnected', e.payload.at, {
          input: e.payload.inputId,
          client: info.userAgent,
          client_family: clientFamily(info.userAgent),
          reason: e.payload.reason,
          connected_s: Math.round((e.payload.at - info.connectedAt) / 1000),
        }),
      ];
    }
    case 'switch': {
      const { from, to, reason, at } = e.payload;
      const out = [c(RANK[to] > RANK[from] ? 'failover' : 'return', at, { from, to, reason })];
      if (to === 'emergency') out.push(c('emergency on air', at, { from, reason }));
      if (from === 'emergency') out.push(c('emergency off air', at, { to, reason }));
      return out;
    }
    case 'silence':
      return [c('silence detected', e.payload.at, { input: e.payload.inputId })];
    case 'sound':
      return [c('sound restored', e.payload.at, { input: e.payload.inputId })];
    case 'encoder-restarted':
      return [
        c('encoder restarted', e.payload.at, {
          encoder: e.payload.name,
          restarts: e.payload.restarts,
          down_ms: Math.round(e.payload.downMs),
        }),
      ];
    case 'alert':
      return [c('mixer alert', e.payload.at, { code: e.payload.code, message: e.payload.message, cleared: e.payload.cleared })];
    case 'certificate-issued':
    case 'certificate-renewed': {
      const { domains, source, notAfter, at } = e.payload;
      const name = e.name === 'certificate-issued' ? 'certificate issued' : 'certificate renewed';
      return [c(name, at, { domains: domains.join(','), source, expires_at: new Date(notAfter).toISOString() })];
    }
    case 'certificate-failed':
      return [
        c('certificate failed', e.payload.at, {
          domains: e.payload.domains.join(','),
          reason: e.payload.reason,
          attempt: e.payload.attempt,
          message: e.payload.message,
        }),
      ];
    case 'server-started':
      return [c('server started', e.payload.at, {})];
    case 'server-stopping':
      return [c('server stopped', e.payload.at, {})];
  }
}

export type StreamEventName =
  | 'source-connected'
  | 'source-disconnected'
  | 'switch'
  | 'silence'
  | 'sound'
  | 'encoder-restarted'
  | 'alert'
  | 'certificate-issued'
  | 'certificate-renewed'
  | 'certificate-failed'
  | 'server-started'
  | 'server-stopping';

export type StreamEvent = { [K in StreamEventName]: { readonly name: K; readonly payload: Ev<K> } }[StreamEventName];

export const STREAM_EVENTS: readonly StreamEventName[] = [
  'source-connected',
  'source-disconnected',
  'switch',
  'silence',
  'sound',
  'encoder-restarted',
  'alert',
  'certificate-issued',
  'certificate-renewed',
  'certificate-failed',
  'server-started',
  'server-stopping',
];

/** One listener session, sent when it ends. */
export function listenerCapture(distinctId: string, p: Ev<'listener-disconnected'>): Capture {
  return {
    event: 'listener session',
    distinctId,
    properties: {
      // A listener is anonymous and changes id daily: a person profile would be noise (and cost).
      $process_person_profile: false,
      protocol: p.protocol,
      mount: p.protocol === 'hls' ? undefined : p.mount,
      hls_tier: p.protocol === 'hls' ? hlsTier(p.mount) : undefined,
      duration_s: Math.round(p.durationMs / 1000),
      bytes: p.bytes,
      client_family: clientFamily(p.userAgent),
      reason: p.reason,
    },
    timestamp: new Date(p.at),
  };
}

/** `/hls/aac_128k/…` → `aac_128k`. */
export function hlsTier(mount: string): string {
  return /^\/hls\/([^/]+)/.exec(mount)?.[1] ?? mount;
}

const FAMILIES: readonly (readonly [RegExp, string])[] = [
  [/\bVLC\b|LibVLC/i, 'VLC'],
  [/iTunes|AppleCoreMedia|\bMusic\//i, 'Apple'],
  [/foobar2000/i, 'foobar2000'],
  [/Winamp/i, 'Winamp'],
  [/\bmpv\b/i, 'mpv'],
  [/mpg123/i, 'mpg123'],
  [/Lavf|ffmpeg|ffplay/i, 'FFmpeg'],
  [/Icecast/i, 'Icecast'],
  [/Liquidsoap/i, 'Liquidsoap'],
  [/butt/i, 'BUTT'],
  [/darkice/i, 'DarkIce'],
  [/libshout|ezstream/i, 'libshout'],
  [/Mixxx/i, 'Mixxx'],
  [/TuneIn/i, 'TuneIn'],
  [/Sonos/i, 'Sonos'],
  [/Alexa|Echo/i, 'Alexa'],
  [/ExoPlayer|Android/i, 'Android'],
  [/Edg\//, 'Edge'],
  [/Firefox\//, 'Firefox'],
  [/Chrome\/|Chromium\//, 'Chrome'],
  [/Safari\//, 'Safari'],
  [/curl\//i, 'curl'],
  [/Wget/i, 'Wget'],
  [/python|Go-http-client|node|undici|axios/i, 'script'],
  [/bot|crawler|spider/i, 'bot'],
];

/** The player family, never the full string (user agents can carry device identifiers). */
export function clientFamily(userAgent: string): string {
  if (userAgent.trim() === '') return 'unknown';
  for (const [re, family] of FAMILIES) if (re.test(userAgent)) return family;
  return 'other';
}

/**
 * Listener ids: SHA-256 of a random salt of the day, the address and the user agent. The salt lives
 * in memory only and is replaced at UTC midnight, so yesterday's ids cannot be linked to today's or
 * recomputed from an address, even by the operator (a restart also starts a new salt).
 */
export class DailySalt {
  #day = '';
  #salt: Buffer = Buffer.alloc(0);

  constructor(private readonly random: (n: number) => Buffer = randomBytes) {}

  listenerId(remoteAddress: string, userAgent: string, now: number): string {
    const day = new Date(now).toISOString().slice(0, 10);
    if (day !== this.#day) {
      this.#day = day;
      this.#salt = this.random(32);
    }
    return createHash('sha256')
      .update(this.#salt)
      .update('\0')
      .update(remoteAddress)
      .update('\0')
      .update(userAgent)
      .digest('hex')
      .slice(0, 32);
  }
}
