// The composition root: builds every component from the frozen config, wires ingest → mixer →
// encoders → outputs, and closes them in reverse order. Nothing else constructs components.
import type { Logger } from 'pino';
import type { Config } from './config/load.js';
import type { Secrets } from './config/secrets.js';
import { resolveFfmpegPath } from './ffmpeg/path.js';
import { createIngest, type Ingest, type IngestPorts, type IngestSnapshot, type InputSnapshot } from './ingest/index.js';
import type { MixerEvents, MixerInputSnapshot, MixerSnapshot } from './mixer/events.js';
import { createMixer, type Mixer } from './mixer/mixer.js';
import { createEncoders, type EncoderSnapshot } from './encoders/index.js';
import { createIcecastCompat, type AdminActions, type MountSnapshot } from './icecast-compat/index.js';
import { createHls, type HlsSnapshot } from './hls/index.js';
import { buildHttpServer, listenHttp } from './http/server.js';
import type { IngestEvents, InputId } from './types/contracts.js';
import { AuthGuard, type AuthGuardSnapshot } from './util/auth-guard.js';
import type { ConnectionGuardSnapshot } from './util/connection-guard.js';
import { httpBudget, readNofileLimit, type HttpBudget } from './util/fd-limit.js';
import type { TypedEmitter } from './util/typed-emitter.js';

export interface AntennaPorts extends IngestPorts {
  readonly http: number;
}

/** One studio input as the status panel shows it: who is connected (ingest) and how it sounds (mixer). */
export interface StudioInputSnapshot {
  readonly source: InputSnapshot;
  readonly mixer: MixerInputSnapshot;
}

export interface AntennaSnapshot {
  readonly inputs: Readonly<Record<InputId, StudioInputSnapshot>>;
  readonly ingest: IngestSnapshot;
  readonly mixer: MixerSnapshot;
  readonly encoders: readonly EncoderSnapshot[];
  readonly mounts: { readonly listeners: number; readonly maxListeners: number; readonly mounts: readonly MountSnapshot[] };
  readonly hls: HlsSnapshot;
  /** Failed logins on the admin paths and source ports, and addresses being slowed down. */
  readonly auth: AuthGuardSnapshot;
  /** The listener port: connections without a request yet, and the descriptor budget it runs under. */
  readonly http: ConnectionGuardSnapshot & { readonly budget: HttpBudget };
}

/** What observers (api, analytics, tests) may use: events and read-only snapshots. */
export interface Antenna {
  readonly ports: AntennaPorts;
  readonly mixer: Pick<Mixer, 'subscribe' | 'currentMeta' | 'onAir'>;
  readonly events: { readonly ingest: TypedEmitter<IngestEvents>; readonly mixer: TypedEmitter<MixerEvents> };
  snapshot(): AntennaSnapshot;
  close(): Promise<void>;
}

export interface AntennaOptions {
  readonly config: Config;
  readonly secrets: Secrets;
  readonly log: Logger;
}

type Closer = { readonly name: string; readonly close: () => Promise<void> };

export async function createAntenna(opts: AntennaOptions): Promise<Antenna> {
  const { config, secrets, log } = opts;
  const ffmpegPath = resolveFfmpegPath(config.ffmpegPath);
  const closers: Closer[] = [];
  const closeAll = async (): Promise<void> => {
    // Reverse order of construction: outputs first, so no listener sees a half-torn pipeline.
    for (const c of closers.splice(0).reverse()) {
      try {
        await c.close();
      } catch (err) {
        log.error({ err, component: c.name }, 'close failed');
      }
    }
  };

  try {
    const mixer = await createMixer({ config, log: log.child({ component: 'mixer' }), ffmpegPath });
    closers.push({ name: 'mixer', close: () => mixer.close() });

    const auth = new AuthGuard({ log });
    // Listener limits follow the descriptor limit, so sources, admin and HLS files always find one free.
    const budget = httpBudget(readNofileLimit(), config);
    log.info(
      {
        nofile: budget.nofile ?? 'unlimited',
        fdReserve: config.fdReserve,
        httpMaxConnections: Number.isFinite(budget.maxConnections) ? budget.maxConnections : 'unlimited',
        httpMaxPending: budget.maxPending,
        httpMaxPendingPerAddress: config.httpMaxPendingPerAddress,
        httpHeadTimeoutMs: config.httpHeadTimeoutMs,
        maxListeners: budget.maxListeners,
        sourceMaxPending: config.maxSourceConnections,
        sourceMaxPendingPerAddress: config.maxSourcePendingPerAddress,
      },
      'connection limits',
    );
    if (budget.maxListeners < config.maxListeners) {
      log.warn(
        { configured: config.maxListeners, allowed: budget.maxListeners, nofile: budget.nofile },
        'maxListeners lowered to fit the file-descriptor limit; raise it with LimitNOFILE / ulimit -n',
      );
    }

    const ingest: Ingest = await createIngest({ config, secrets, log: log.child({ component: 'ingest' }), ffmpegPath, auth });
    closers.push({ name: 'ingest', close: () => ingest.close() });
    wireIngest(ingest, mixer);

    const encoders = await createEncoders({ config, log, ffmpegPath, programme: mixer });
    closers.push({ name: 'encoders', close: () => encoders.close() });

    let httpPort = config.httpPort;
    const icecast = await createIcecastCompat({
      config,
      secrets,
      log,
      encoders,
      actions: adminActions(ingest, mixer, log),
      auth,
      httpPort: () => httpPort,
      maxListeners: budget.maxListeners,
    });
    closers.push({ name: 'icecast-compat', close: () => icecast.close() });

    // HLS tiers with a listener mount's codec and bitrate share that mount's encoder (acquire()).
    const hls = await createHls({
      config,
      log: log.child({ component: 'hls' }),
      dataDir: config.dataDir,
      streams: config.hlsTiers.map((t) => encoders.acquire({ codec: 'aac', bitrate: t.bitrate })),
    });
    closers.push({ name: 'hls', close: () => hls.close() });

    const http = buildHttpServer({ config, log, budget });
    await http.register(icecast.plugin);
    await http.register(hls.plugin);
    httpPort = await listenHttp(http, config);
    closers.push({ name: 'http', close: () => http.close() });

    let closed: Promise<void> | undefined;
    return {
      ports: { ...ingest.ports, http: httpPort },
      mixer,
      events: { ingest: ingest.events, mixer: mixer.events },
      snapshot: () => {
        const i = ingest.snapshot();
        const m = mixer.snapshot();
        const input = (id: InputId): StudioInputSnapshot => ({ source: i.inputs[id], mixer: m.inputs.find((x) => x.inputId === id)! });
        return {
          inputs: { primary: input('primary'), fallback: input('fallback') },
          ingest: i,
          mixer: m,
          encoders: encoders.snapshot(),
          mounts: icecast.snapshot(),
          hls: hls.snapshot(),
          auth: auth.snapshot(),
          http: { ...http.connectionGuard.snapshot(), budget },
        };
      },
      close: () => (closed ??= closeAll()),
    };
  } catch (err) {
    await closeAll();
    throw err;
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

function wireIngest(ingest: Ingest, mixer: Mixer): void {
  ingest.events.on('source-connected', ({ inputId, info }) => mixer.sourceConnected(inputId, info));
  ingest.events.on('pcm', ({ inputId, connectionId, pcm }) => mixer.pushPcm(inputId, connectionId, pcm));
  ingest.events.on('source-disconnected', ({ inputId, info, reason }) => mixer.sourceDisconnected(inputId, info.connectionId, reason));
  ingest.events.on('metadata', ({ inputId, title }) => mixer.setTitle(inputId, title));
}
