// The composition root: builds every component from the frozen config, wires ingest → mixer →
// encoders → outputs, and closes them in reverse order. Nothing else constructs components.
// Observers get `Antenna.events` (every stage's events, stamped, in one exact map) and `snapshot()`.
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Config } from './config/load.js';
import type { Secrets } from './config/secrets.js';
import { selectFfmpeg } from './ffmpeg/select.js';
import { selectAacEncoder } from './encoders/fdk-aac.js';
import { selectNativeCodecs } from './encoders/native-select.js';
import { createIngest, type Ingest } from './ingest/index.js';
import type { MixerInputSnapshot } from './mixer/events.js';
import { createMixer, type Mixer } from './mixer/mixer.js';
import { createEncoders, type Encoders } from './encoders/index.js';
import { createIcecastCompat, type AdminActions, type IcecastCompat } from './icecast-compat/index.js';
import { createHls, type Hls } from './hls/index.js';
import { buildHttpServer, listenHttp } from './http/server.js';
import { Supervisor } from './supervisor/supervisor.js';
import { createAnalytics, type Analytics, type AnalyticsSnapshot } from './analytics/index.js';
import type { HoldTier, InputId } from './types/contracts.js';
import { createApi } from './api/index.js';
import { pagesPlugin } from './pages/index.js';
import type { AntennaEvents } from './types/events.js';
import { TypedEmitter, type EventName } from './util/typed-emitter.js';
import { AuthGuard } from './util/auth-guard.js';
import { descriptorBudget } from './util/fd-limit.js';
import type { AntennaPorts, StudioInputSnapshot, ProcessSnapshot, AntennaSnapshot } from './types/snapshots.js';
export type { AntennaPorts, StudioInputSnapshot, ProcessSnapshot, AntennaSnapshot } from './types/snapshots.js';
import { ChallengeStore, createTls, type Tls } from './tls/index.js';
import { acmeChallengeRoutes } from './tls/plugin.js';

/** Subscribe-only view of an emitter: observers listen, they never emit. */
export type EventSource<E extends object> = Pick<TypedEmitter<E>, 'on' | 'once' | 'off'>;

/**
 * The few things observers may do to the pipeline (the status API's write routes). Everything else
 * they only watch. Each command logs what it did; who asked is the caller's to record.
 */
export interface AntennaCommands {
  /** Disconnects the studio source on `input` (reason 'kicked'); false if none was connected. */
  kickSource(input: InputId): Promise<boolean>;
  /** Sets the on-air input's title (as Icecast's admin metadata does); the tier it went to, or null when the emergency tier is on air. */
  setTitle(title: string): InputId | null;
  /** Holds the programme on a lower tier for maintenance (null releases). */
  hold(tier: HoldTier | null): void;
  /** Plays another emergency file: decoded in full first; rejects (the current file plays on) if unusable. */
  useEmergencyFile(path: string): Promise<void>;
  /** Orders a successor certificate now (or rereads the certificate files); false when TLS is off. Resolves when the attempt ends; its outcome is in the events and the snapshot. */
  renewCertificate(): Promise<boolean>;
}

/** What observers (api, analytics, tests) may use: events and read-only snapshots. */
export interface Antenna {
  readonly ports: AntennaPorts;
  readonly commands: AntennaCommands;
  /** The programme (tests record it; the encoders are its real consumers). */
  readonly mixer: Pick<Mixer, 'subscribe' | 'currentMeta' | 'onAir'>;
  readonly events: EventSource<AntennaEvents>;
  snapshot(): AntennaSnapshot;
  /** The analytics and alerts observer: what was sent, retried, failed and dropped (status API, /metrics). */
  analyticsSnapshot(): AnalyticsSnapshot;
  close(): Promise<void>;
}

export interface AntennaOptions {
  readonly config: Config;
  readonly secrets: Secrets;
  /** The root logger: each component binds its own `component` once. */
  readonly log: Logger;
}

type Closer = { readonly name: string; readonly close: () => Promise<void> | void };

export async function createAntenna(opts: AntennaOptions): Promise<Antenna> {
  const { config, secrets, log } = opts;
  const ffmpeg = selectFfmpeg(config.ffmpegPath);
  const ffmpegPath = ffmpeg.path;
  log.info({ component: 'app', ffmpeg: ffmpeg.path, version: ffmpeg.version, chosen: ffmpeg.source, why: ffmpeg.why }, 'ffmpeg chosen');
  const aac = await selectAacEncoder(config.aacEncoder);
  log.info({ component: 'app', engine: aac.engine, why: aac.why }, 'aac encoder chosen');
  const mp3Vorbis = await selectNativeCodecs(config.mp3VorbisEncoder, aac.engine === 'fdk-aac');
  log.info({ component: 'app', mp3: mp3Vorbis.mp3, vorbis: mp3Vorbis.vorbis, why: mp3Vorbis.why }, 'mp3 and vorbis encoders chosen');
  const events = new TypedEmitter<AntennaEvents>(log.child({ component: 'events' }));
  const closers: Closer[] = [];
  const closeAll = async (): Promise<void> => {
    // Reverse order of construction: outputs first, so no listener sees a half-torn pipeline.
    for (const c of closers.splice(0).reverse()) {
      try {
        await c.close();
      } catch (err) {
        log.error({ err, closing: c.name }, 'close failed');
      }
    }
  };
  // Closed last: observers keep hearing events (listeners leaving, encoders stopping) until the end.
  closers.push({ name: 'events', close: () => events.removeAllListeners() });
  // The process's event-loop delay (the snapshot's and /metrics' p99): how late the mixer's frame timer
  // fires, recorded by the mixer 50 times a second. Not monitorEventLoopDelay(), whose own timer woke the
  // process 50 more times a second (at 20 ms resolution) on a server with nothing else to do.
  const loopDelay = createHistogram();
  // Closed after every stage, so the sinks still get the last listener sessions and "server stopped".
  let analytics: Analytics | undefined;
  closers.push({ name: 'analytics', close: () => analytics?.close() });

  try {
    const supervisor = new Supervisor({ log: log.child({ component: 'supervisor' }) });
    closers.push({ name: 'supervisor', close: () => supervisor.close() });

    const mixer = await createMixer({ config, log: log.child({ component: 'mixer' }), ffmpegPath, lateness: loopDelay });
    closers.push({ name: 'mixer', close: () => mixer.close() });

    const auth = new AuthGuard({ log });
    // Listener limits follow the descriptor limit, so sources, admin and HLS files always find one free.
    const budget = descriptorBudget(config, log);

    const ingest: Ingest = await createIngest({ config, secrets, log: log.child({ component: 'ingest' }), ffmpegPath, auth });
    closers.push({ name: 'ingest', close: () => ingest.close() });
    wireIngest(ingest, mixer);

    const encoders = await createEncoders({
      config,
      log: log.child({ component: 'encoders' }),
      ffmpegPath,
      programme: mixer,
      supervisor,
      // Declared up front so the layout can place the HLS-only encodes in the shared process too.
      extraSpecs: config.hlsTiers.map((t) => ({ codec: 'aac', bitrate: t.bitrate })),
      layout: config.encoderLayout,
      aacCoder: config.aacCoder,
      ...(aac.library ? { fdkAac: aac.library } : {}),
      ...(mp3Vorbis.codecs ? { native: mp3Vorbis.codecs } : {}),
    });
    closers.push({ name: 'encoders', close: () => encoders.close() });

    const icecast = await createIcecastCompat({
      config,
      secrets,
      log,
      encoders,
      actions: adminActions(ingest, mixer, log),
      auth,
      maxListeners: budget.maxListeners,
    });
    closers.push({ name: 'icecast-compat', close: () => icecast.close() });

    // HLS tiers with a listener mount's codec and bitrate share that mount's encoder (acquire()).
    const hls = await createHls({
      config,
      log,
      dataDir: config.dataDir,
      streams: await Promise.all(config.hlsTiers.map((t) => encoders.acquire({ codec: 'aac', bitrate: t.bitrate }))),
    });
    closers.push({ name: 'hls', close: () => hls.close() });

    forwardEvents(events, { ingest, mixer, encoders, supervisor, hls, icecast });

    // The HTTP port is known only after listen(); the snapshot reads it from here.
    const ports: { -readonly [K in keyof AntennaPorts]: AntennaPorts[K] } = { ...ingest.ports, http: 0 };
    const snapshot = (): AntennaSnapshot => {
      const i = ingest.snapshot();
      const m = mixer.snapshot();
      const input = (id: InputId): StudioInputSnapshot => ({
        source: i.inputs[id],
        mixer: m.inputs.find((x) => x.inputId === id) as MixerInputSnapshot,
      });
      return {
        at: Date.now(),
        ports: { ...ports },
        inputs: { primary: input('primary'), fallback: input('fallback') },
        ingest: i,
        mixer: m,
        encoders: encoders.snapshot(),
        mounts: icecast.snapshot(),
        hls: hls.snapshot(),
        supervised: supervisor.snapshot(),
        process: processSnapshot(loopDelay),
        auth: auth.snapshot(),
        http: { ...http.connectionGuard.snapshot(), budget },
        tls: tls?.snapshot() ?? null,
      };
    };
    let tls: Tls | undefined;
    const commands = antennaCommands(ingest, mixer, log.child({ component: 'commands' }), () => tls);

    const http = buildHttpServer({ config, log, budget });
    await http.register(icecast.plugin);
    await http.register(hls.plugin);
    // The status API is an observer: events, snapshots and the commands above, never a stage.
    const api = await createApi({ events, snapshot, commands, config, secrets, log: log.child({ component: 'api' }), ffmpegPath });
    closers.push({ name: 'api', close: () => api.close() });
    await http.register(api.plugin);
    // The station page and the dashboard: static files that use the API above like any other client.
    await http.register(pagesPlugin({ config, log }));
    const challenges = new ChallengeStore();
    if (config.tls === 'acme') await http.register(acmeChallengeRoutes(challenges));
    ports.http = await listenHttp(http, config);
    closers.push({ name: 'http', close: () => http.close() });

    // TLS after the plain port listens (the CA's HTTP-01 fetch lands there); never waits for the CA:
    // HTTPS starts when the kept certificate is loaded, or later when the first one is issued.
    if (config.tls !== 'off') {
      const t = await createTls({ config, log, challenges });
      tls = t;
      closers.push({ name: 'tls', close: () => t.close() });
      const serve = async (): Promise<void> => {
        const cur = t.current();
        if (!cur) return;
        http.https.setHosts([...config.domains, ...cur.info.altNames]);
        try {
          ports.https = await http.https.serve(cur);
        } catch (err) {
          log.child({ component: 'http' }).error({ err, port: config.httpsPort }, 'HTTPS could not start');
        }
      };
      t.events.on('certificate-issued', () => void serve());
      t.events.on('certificate-renewed', () => void serve());
      const stamp = <T extends object>(p: T): T & { at: number } => ({ ...p, at: Date.now() });
      t.events.on('certificate-issued', (p) => events.emit('certificate-issued', stamp(p)));
      t.events.on('certificate-renewed', (p) => events.emit('certificate-renewed', stamp(p)));
      t.events.on('certificate-failed', (p) => events.emit('certificate-failed', stamp(p)));
      t.events.on('certificate-expiring', (p) => events.emit('certificate-expiring', stamp(p)));
      // A kept (or file) certificate was installed inside createTls, before anyone subscribed: HTTPS
      // starts now, before server-started, and observers hear of it here.
      const kept = t.current();
      if (kept) {
        await serve();
        const snap = t.snapshot();
        events.emit('certificate-issued', {
          at: Date.now(),
          domains: snap.domains,
          source: snap.source,
          notBefore: kept.info.notBefore,
          notAfter: kept.info.notAfter,
          kept: true,
        });
      }
    }
    // Analytics and alerts: an observer too; created before "server-started" so it hears it.
    const observer = await createAnalytics({
      config,
      log,
      events,
      snapshot,
      report: (name, payload) => events.emit(name, payload as AntennaEvents[typeof name]),
    });
    analytics = observer;

    // Closed first: observers hear "stopping" while everything still runs.
    closers.push({ name: 'stopping', close: () => events.emit('server-stopping', { at: Date.now() }) });
    events.emit('server-started', { at: Date.now(), ports: { ...ports } });

    let closed: Promise<void> | undefined;
    return {
      ports,
      mixer,
      events,
      commands,
      snapshot,
      analyticsSnapshot: () => observer.snapshot(),
      close: () => (closed ??= closeAll()),
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

function processSnapshot(loopDelay: RecordableHistogram): ProcessSnapshot {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    pid: process.pid,
    uptimeS: Math.round(process.uptime()),
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    eventLoopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e4) / 100,
    nodeVersion: process.version,
  };
}

interface Stages {
  readonly ingest: Ingest;
  readonly mixer: Mixer;
  readonly encoders: Encoders;
  readonly supervisor: Supervisor;
  readonly hls: Hls;
  readonly icecast: IcecastCompat;
}

/** Every stage's events onto the one observer stream, stamped with the time they happened. */
function forwardEvents(out: TypedEmitter<AntennaEvents>, s: Stages): void {
  const stamp = <T extends object>(p: T): T & { at: number } => ({ ...p, at: Date.now() });
  const pass =
    <K extends EventName<AntennaEvents>>(name: K) =>
    (p: AntennaEvents[K]) =>
      out.emit(name, p);
  s.ingest.events.on('source-connected', (p) => out.emit('source-connected', stamp(p)));
  s.ingest.events.on('source-disconnected', (p) => out.emit('source-disconnected', stamp(p)));
  s.ingest.events.on('metadata', (p) => out.emit('metadata', stamp(p)));
  s.ingest.events.on('decoder-error', (p) => out.emit('decoder-error', stamp(p)));
  s.ingest.events.on('rejected', (p) => out.emit('source-rejected', stamp(p)));
  s.mixer.events.on('switch', pass('switch'));
  s.mixer.events.on('silence', pass('silence'));
  s.mixer.events.on('sound', pass('sound'));
  s.mixer.events.on('alert', pass('alert'));
  s.mixer.events.on('meta', pass('meta'));
  s.mixer.events.on('hold', pass('hold'));
  s.encoders.events.on('started', (p) => out.emit('encoder-started', stamp(p)));
  s.encoders.events.on('died', (p) => out.emit('encoder-died', stamp(p)));
  s.encoders.events.on('stalled', (p) => out.emit('encoder-stalled', stamp(p)));
  s.supervisor.events.on('restart-scheduled', (p) => out.emit('encoder-restart-scheduled', stamp(p)));
  s.supervisor.events.on('restarted', (p) => out.emit('encoder-restarted', stamp(p)));
  s.supervisor.events.on('restart-failed', (p) => out.emit('encoder-restart-failed', stamp(p)));
  s.hls.events.on('discontinuity', (p) => out.emit('hls-discontinuity', stamp(p)));
  for (const listeners of [s.icecast.events, s.hls.events]) {
    listeners.on('listener-connected', pass('listener-connected'));
    listeners.on('listener-disconnected', pass('listener-disconnected'));
  }
}

/** What Icecast's admin commands may do to the pipeline: act on the studio input on air. */
function adminActions(ingest: Ingest, mixer: Mixer, log: Logger): AdminActions {
  return {
    kickSource: (mount) => {
      const tier = mixer.onAir;
      if (tier === 'emergency') return false;
      log.info({ mount, inputId: tier }, 'admin killsource');
      void ingest.kick(tier);
      return true;
    },
    setTitle: (title, mount) => {
      const tier = mixer.onAir;
      log.info({ mount, tier, title }, 'admin metadata update');
      if (tier !== 'emergency') mixer.setTitle(tier, title);
    },
  };
}

function antennaCommands(ingest: Ingest, mixer: Mixer, log: Logger, tls: () => Tls | undefined): AntennaCommands {
  return {
    renewCertificate: async () => {
      const t = tls();
      if (!t) return false;
      log.info('certificate renewal requested');
      await t.renewNow();
      return true;
    },
    kickSource: (input) => {
      log.info({ inputId: input }, 'kick source');
      return ingest.kick(input);
    },
    setTitle: (title) => {
      const tier = mixer.onAir;
      if (tier === 'emergency') return null;
      log.info({ tier, title }, 'title set');
      mixer.setTitle(tier, title);
      return tier;
    },
    hold: (tier) => mixer.hold(tier),
    useEmergencyFile: (path) => mixer.useEmergencyFile(path),
  };
}

function wireIngest(ingest: Ingest, mixer: Mixer): void {
  ingest.events.on('source-connected', ({ inputId, info }) => mixer.sourceConnected(inputId, info));
  ingest.events.on('pcm', ({ inputId, connectionId, pcm }) => mixer.pushPcm(inputId, connectionId, pcm));
  ingest.events.on('source-disconnected', ({ inputId, info, reason }) => mixer.sourceDisconnected(inputId, info.connectionId, reason));
  ingest.events.on('metadata', ({ inputId, title }) => mixer.setTitle(inputId, title));
}
