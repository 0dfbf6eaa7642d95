// The API's views of the pipeline: /api/nowplaying (AzuraCast's field names) and /api/status, built
// from a snapshot plus what only events tell (when the tier went on air and why, when the title
// changed, distinct listener addresses), which ProgrammeTracker remembers.
import type { AntennaSnapshot, EventSource } from '../app.js';
import type { Config } from '../config/load.js';
import type { SwitchReason, Tier } from '../types/contracts.js';
import type { AntennaEvents } from '../types/events.js';
import type { LiveFeed } from './live.js';
import type { NowPlaying, Status } from './schemas.js';

/** Listener ids tracked for the unique-address count; more are counted but not told apart. */
const MAX_TRACKED_LISTENERS = 100_000;

export class ProgrammeTracker {
  onAirSince: number | null = null;
  reason: SwitchReason | null = null;
  titleSince: number;
  readonly #listeners = new Map<string, { readonly address: string; readonly mount: string }>();
  readonly #off: (() => void)[] = [];

  constructor(events: EventSource<AntennaEvents>, snapshot: () => AntennaSnapshot) {
    this.titleSince = Date.now();
    const tier: Tier = snapshot().mixer.onAir;
    if (tier !== 'emergency') this.onAirSince = Date.now();
    const onSwitch = (p: AntennaEvents['switch']): void => {
      this.onAirSince = p.at;
      this.reason = p.reason;
    };
    const onMeta = (): void => void (this.titleSince = Date.now());
    const onJoin = (p: AntennaEvents['listener-connected']): void => {
      if (this.#listeners.size < MAX_TRACKED_LISTENERS)
        this.#listeners.set(`${p.protocol}:${p.id}`, { address: p.remoteAddress, mount: p.mount });
    };
    const onLeave = (p: AntennaEvents['listener-disconnected']): void => void this.#listeners.delete(`${p.protocol}:${p.id}`);
    events.on('switch', onSwitch);
    events.on('meta', onMeta);
    events.on('listener-connected', onJoin);
    events.on('listener-disconnected', onLeave);
    this.#off.push(
      () => events.off('switch', onSwitch),
      () => events.off('meta', onMeta),
      () => events.off('listener-connected', onJoin),
      () => events.off('listener-disconnected', onLeave),
    );
  }

  /** Distinct listener addresses on `mount`, or across every mount and HLS. */
  unique(mount?: string): number {
    const seen = new Set<string>();
    for (const l of this.#listeners.values()) if (mount === undefined || l.mount === mount) seen.add(l.address);
    return seen.size;
  }

  close(): void {
    for (const off of this.#off.splice(0)) off();
  }
}

const FORMAT: Record<string, string> = { mp3: 'mp3', aac: 'aac', vorbis: 'ogg' };

/** `base` is the public origin for the asking request (the HTTP front's publicOrigin: https over HTTPS). */
export function buildNowPlaying(s: AntennaSnapshot, t: ProgrammeTracker, config: Config, base: string): NowPlaying {
  const byMount = new Map(s.mounts.mounts.map((m) => [m.mount, m]));
  const mounts = config.mounts.map((m, i) => {
    const listeners = byMount.get(m.mount)?.listeners ?? 0;
    return {
      name: m.mount.replace(/^\/listen\//, ''),
      url: base + m.mount,
      path: m.mount,
      format: FORMAT[m.codec] ?? m.codec,
      bitrate: m.bitrate === undefined ? null : Math.round(m.bitrate / 1000),
      listeners: { total: listeners, unique: t.unique(m.mount), current: listeners },
      is_default: i === 0,
    };
  });
  const total = s.mounts.listeners + s.hls.sessions;
  const title = s.mixer.meta.title;
  const dash = title.indexOf(' - ');
  const live = s.mixer.onAir !== 'emergency';
  const source = live ? s.inputs[s.mixer.onAir as 'primary' | 'fallback'].source : undefined;
  const now = Date.now();
  return {
    station: {
      name: config.stationName,
      description: config.stationDescription,
      listen_url: mounts[0]?.url ?? '',
      mounts,
      hls_enabled: true,
      hls_url: `${base}/hls/master.m3u8`,
      hls_listeners: s.hls.sessions,
    },
    listeners: { total, unique: t.unique(), current: total },
    live: {
      is_live: live,
      streamer_name: source?.headers?.['ice-name'] ?? source?.headers?.['icy-name'] ?? '',
      broadcast_start: live && t.onAirSince !== null ? Math.floor(t.onAirSince / 1000) : null,
    },
    now_playing: {
      played_at: Math.floor(t.titleSince / 1000),
      elapsed: Math.max(0, Math.floor((now - t.titleSince) / 1000)),
      song: { text: title, artist: dash > 0 ? title.slice(0, dash) : '', title: dash > 0 ? title.slice(dash + 3) : title },
    },
    // Online = listeners can hear the station: at least one mount's encoder runs (the emergency tier counts).
    is_online: s.encoders.some((e) => e.running),
    tier: s.mixer.onAir,
    held: s.mixer.hold,
  };
}

export function buildStatus(s: AntennaSnapshot, t: ProgrammeTracker, config: Config, activeEmergencyId: string, live: LiveFeed): Status {
  const specs = new Map(config.mounts.map((m) => [m.mount, m]));
  const input = (id: 'primary' | 'fallback'): Status['inputs'][number] => {
    const { source, mixer } = s.inputs[id];
    const br = Number(source.headers?.['ice-bitrate'] ?? source.headers?.['icy-br'] ?? NaN);
    const b = mixer.buffer;
    return {
      id,
      state: source.state,
      clientAddress: source.remoteAddress ?? null,
      userAgent: source.userAgent ?? null,
      protocol: source.protocol ?? null,
      format: source.format ?? null,
      bitrate: Number.isFinite(br) ? br : null,
      bytesIn: source.bytesIn,
      connectedSince: source.connectedAt ?? null,
      title: mixer.title,
      available: mixer.available,
      unavailableReason: mixer.unavailableReason,
      silent: mixer.silent,
      levelDb: mixer.levelDb,
      peakDb: mixer.peakDb,
      buffer: {
        state: b.state,
        depthMs: b.depthMs,
        targetMs: b.targetMs,
        jitterMs: b.jitterMs,
        underruns: b.underruns,
        correctedMs: b.correctedMs,
        ratio: b.ratio,
      },
    };
  };
  const e = s.mixer.emergency;
  return {
    at: s.at,
    onAir: {
      tier: s.mixer.onAir,
      title: s.mixer.meta.title,
      since: t.onAirSince,
      reason: t.reason,
      hold: s.mixer.hold,
      fading: s.mixer.fading,
    },
    inputs: [input('primary'), input('fallback')],
    emergency: {
      file: s.mixer.emergency.file,
      activeId: activeEmergencyId,
      loaded: s.mixer.emergency.loaded,
      durationMs: s.mixer.emergency.durationMs,
      problem: s.mixer.emergency.problem,
    },
    mounts: s.mounts.mounts.map((m) => {
      const spec = specs.get(m.mount);
      // The mount's shared encoder is the one with its codec and rate.
      const enc = s.encoders.find(
        (e) => e.spec.codec === spec?.codec && e.spec.bitrate === spec.bitrate && e.spec.quality === spec.quality,
      );
      return {
        mount: m.mount,
        codec: spec?.codec ?? '',
        bitrate: spec?.bitrate ?? null,
        listeners: m.listeners,
        peak: m.peak,
        slowDrops: m.slowListeners,
        bytesSent: m.bytesSent,
        encoderRunning: enc?.running ?? false,
      };
    }),
    hls: {
      tiers: s.hls.tiers.map((x) => ({ name: x.name, bitrate: x.bitrate })),
      sessions: s.hls.sessions,
      mediaSequence: s.hls.mediaSequence ?? null,
      discontinuities: s.hls.discontinuities,
    },
    components: {
      supervised: s.supervised.map((c) => ({
        name: c.name,
        kind: c.kind,
        engine: c.engine,
        state: c.state,
        pid: c.pid ?? null,
        uptimeMs: c.uptimeMs,
        restarts: c.restarts,
        lastError: c.lastError ? { code: c.lastError.code, message: c.lastError.message, at: c.lastError.at } : null,
      })),
      decoders: (['primary', 'fallback'] as const).map((id) => {
        const d = s.inputs[id].source.decoder;
        return {
          input: id,
          state: d.state,
          running: d.running,
          engine: d.engine ?? null,
          pid: d.pid ?? null,
          format: d.format ?? null,
          startedAt: d.startedAt ?? null,
          exitedAt: d.exitedAt ?? null,
          uptimeMs: d.uptimeMs,
          starts: d.starts,
          failures: d.failures,
          lastError: d.lastError ? { ...d.lastError } : null,
        };
      }),
      emergencyDecoder: {
        file: e.file,
        state: e.state,
        pid: e.decoderPid ?? null,
        decodedAt: e.decodedAt ?? null,
        decodeMs: e.decodeMs ?? null,
        durationMs: e.durationMs,
        problem: e.problem,
        lastProblem: e.lastProblem ? { ...e.lastProblem } : null,
        failures: e.failures,
        reloads: e.reloads,
      },
      sourcePorts: {
        primary: s.ports.primary,
        fallback: s.ports.fallback,
        primaryShoutcast: s.ports.primaryShoutcast,
        fallbackShoutcast: s.ports.fallbackShoutcast,
      },
      http: [
        { protocol: 'http' as const, port: s.ports.http },
        ...(s.ports.https !== undefined ? [{ protocol: 'https' as const, port: s.ports.https }] : []),
      ],
      certificate: s.tls ? { ...s.tls, domains: [...s.tls.domains] } : null,
      process: s.process,
      live: { clients: live.clients, droppedSlow: live.dropped },
    },
  };
}
