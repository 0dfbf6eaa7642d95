// The Icecast-compatible listener side: one Mount per configured mount, fed by the shared encoders,
// and a Fastify plugin serving /listen/* (listen.ts), /status-json.xsl and the admin surface (admin.ts).
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type { Config, MountConfig } from '../config/load.js';
import type { Secrets } from '../config/secrets.js';
import type { EncodedStream, EncoderSpec } from '../types/contracts.js';
import { encoderSpecOf } from '../types/encoder-spec.js';
import type { ListenerEvents } from '../types/events.js';
import type { AuthGuard } from '../util/auth-guard.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { adminRoutes, type AdminActions } from './admin.js';
import { noCache, registerListenRoutes } from './listen.js';
import { Mount } from './mount.js';
import { statusJson, type StatsTree } from './stats.js';
import { statsTree, type Counters } from './stats-tree.js';
import type { MountSnapshot } from '../types/snapshots.js';
export type { MountSnapshot } from '../types/snapshots.js';

export type { AdminActions } from './admin.js';
export type { Listener } from './mount.js';

export interface IcecastCompatOptions {
  readonly config: Config;
  readonly secrets: Secrets;
  readonly log: Logger;
  readonly encoders: { acquire(spec: EncoderSpec): Promise<EncodedStream> };
  /** Admin commands that reach into the pipeline; the composition root provides them. */
  readonly actions?: AdminActions;
  /** Failed-login accounting shared with the source ports. */
  readonly auth: AuthGuard;
  /** Listener cap after the descriptor budget (default config.maxListeners). */
  readonly maxListeners?: number;
}

export interface IcecastCompat {
  /** Register on the HTTP server before listen(). */
  readonly plugin: FastifyPluginAsync;
  readonly mounts: ReadonlyMap<string, Mount>;
  /** Listeners arriving and leaving, on every mount. */
  readonly events: TypedEmitter<ListenerEvents>;
  snapshot(): { readonly listeners: number; readonly maxListeners: number; readonly mounts: readonly MountSnapshot[] };
  /** The stats tree with listen URLs under `origin` (`scheme://host[:port]`). */
  statsTree(origin: string): StatsTree;
  close(): Promise<void>;
}

export async function createIcecastCompat(opts: IcecastCompatOptions): Promise<IcecastCompat> {
  const { config } = opts;
  const log = opts.log.child({ component: 'icecast-compat' });
  const startedAt = new Date();
  const counters: Counters = { listenerConnections: 0, clientConnections: 0, total: 0 };
  const maxListeners = opts.maxListeners ?? config.maxListeners;
  let nextId = 1;
  const mounts = new Map<string, Mount>();
  const events = new TypedEmitter<ListenerEvents>(log);
  const onLeave = (): void => {
    counters.total--;
  };
  for (const m of config.mounts) {
    mounts.set(
      m.mount,
      await Mount.create({
        config: m,
        stream: await opts.encoders.acquire(encoderSpecOf(m)),
        log,
        queueBytes: config.queueBytes,
        burstSeconds: m.burstSeconds ?? config.burstSeconds,
        onLeave,
        events,
      }),
    );
  }

  // Listen URLs follow the transport of the request that asks for them (app.publicOrigin, the HTTP
  // front's one rule): a playlist fetched over HTTPS points at HTTPS, one fetched over HTTP at HTTP.
  const tree = (origin: string): StatsTree => statsTree(config, mounts, counters, startedAt, (mount) => origin + mount);

  const plugin: FastifyPluginAsync = async (app: FastifyInstance) => {
    app.addHook('onRequest', async () => {
      counters.clientConnections++;
    });
    registerListenRoutes(app, { config, mounts, counters, maxListeners, nextListenerId: () => nextId++ });
    app.get('/status-json.xsl', async (req, reply) =>
      noCache(reply)
        .header('content-type', 'application/json; charset=UTF-8')
        .header('access-control-allow-origin', '*')
        .send(statusJson(tree(app.publicOrigin(req)))),
    );
    const admin = adminRoutes({ secrets: opts.secrets, log, auth: opts.auth, mounts, statsTree: tree, actions: opts.actions });
    await app.register(admin, { prefix: '/admin' });
    await app.register(admin, { prefix: '/icecast-admin' });
  };

  log.info({ mounts: [...mounts.keys()], maxListeners }, 'listener mounts ready');
  let closed = false;
  return {
    plugin,
    events,
    mounts,
    statsTree: tree,
    snapshot: () => ({
      listeners: counters.total,
      maxListeners,
      mounts: [...mounts.values()].map((m) => ({
        mount: m.path,
        listeners: m.listeners.size,
        peak: m.peak,
        slowListeners: m.slowListeners,
        bytesSent: m.bytesSent,
        bytesIn: m.bytesIn,
        bufferedSeconds: m.bufferedSeconds,
        title: m.meta?.title,
      })),
    }),
    async close() {
      if (closed) return;
      closed = true;
      for (const m of mounts.values()) m.close();
      events.removeAllListeners();
    },
  };
}

export type { MountConfig };
