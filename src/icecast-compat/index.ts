// The Icecast-compatible listener side: one Mount per configured mount, fed by the shared encoders,
// and a Fastify plugin serving /listen/*, /status-json.xsl and the admin surface (admin.ts).
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config, MountConfig } from '../config/load.js';
import type { Secrets } from '../config/secrets.js';
import type { EncodedStream, EncoderSpec } from '../types/contracts.js';
import { encoderSpecOf } from '../types/encoder-spec.js';
import type { ListenerEvents } from '../types/events.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { adminRoutes, type AdminActions } from './admin.js';
import { Mount, type DropReason, type Listener } from './mount.js';
import { iso8601, rfc822, statusJson, type StatsTree } from './stats.js';
import {
  CORS_ALLOW_HEADERS,
  MOUNT_FULL_MESSAGE,
  NOT_FOUND_MESSAGE,
  SERVER_FULL_MESSAGE,
  SERVER_ID,
  contentType,
  errorPage,
  listenerHead,
  m3u,
  mountKbps,
  rawError,
  wantsIcy,
  xspf,
} from './wire.js';

export type { AdminActions } from './admin.js';
export type { Listener } from './mount.js';

export interface IcecastCompatOptions {
  readonly config: Config;
  readonly secrets: Secrets;
  readonly log: Logger;
  readonly encoders: { acquire(spec: EncoderSpec): Promise<EncodedStream> };
  /** Admin commands that reach into the pipeline; the composition root provides them. */
  readonly actions?: AdminActions;
}

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

export interface IcecastCompat {
  /** Register on the HTTP server before listen(). */
  readonly plugin: FastifyPluginAsync;
  readonly mounts: ReadonlyMap<string, Mount>;
  /** Listeners arriving and leaving, on every mount. */
  readonly events: TypedEmitter<ListenerEvents>;
  snapshot(): { readonly listeners: number; readonly mounts: readonly MountSnapshot[] };
  statsTree(): StatsTree;
  close(): Promise<void>;
}

export async function createIcecastCompat(opts: IcecastCompatOptions): Promise<IcecastCompat> {
  const { config } = opts;
  const log = opts.log.child({ component: 'icecast-compat' });
  const startedAt = new Date();
  const counters = { listenerConnections: 0, clientConnections: 0, total: 0 };
  let nextId = 1;
  let boundPort = config.httpPort;
  const mounts = new Map<string, Mount>();
  const events = new TypedEmitter<ListenerEvents>(log);
  const onLeave = (_l: Listener, _reason: DropReason): void => {
    counters.total--;
  };
  for (const m of config.mounts) {
    const spec: EncoderSpec = encoderSpecOf(m);
    mounts.set(
      m.mount,
      await Mount.create({
        config: m,
        stream: await opts.encoders.acquire(spec),
        log,
        queueBytes: config.queueBytes,
        burstSeconds: m.burstSeconds ?? config.burstSeconds,
        onLeave,
        events,
      }),
    );
  }

  const listenUrl = (mount: string): string => `http://${config.publicHostname}:${boundPort}${mount}`;

  const statsTree = (): StatsTree => {
    const start = new Date(startedAt);
    const sources = [...mounts.values()].map((m) => ({ mount: m.path, fields: sourceFields(m, config, listenUrl(m.path)) }));
    const listeners = [...mounts.values()].reduce((n, m) => n + m.listeners.size, 0);
    return {
      global: {
        admin: 'icemaster@localhost',
        client_connections: String(counters.clientConnections),
        clients: String(listeners),
        connections: String(counters.clientConnections),
        file_connections: '0',
        host: config.publicHostname,
        listener_connections: String(counters.listenerConnections),
        listeners: String(listeners),
        location: 'Earth',
        server_id: SERVER_ID,
        server_start: rfc822(start),
        server_start_iso8601: iso8601(start),
        source_client_connections: '0',
        source_relay_connections: '0',
        source_total_connections: '0',
        sources: String(mounts.size),
        stats: '0',
        stats_connections: '0',
      },
      sources,
    };
  };

  const plugin: FastifyPluginAsync = async (app: FastifyInstance) => {
    app.addHook('onRequest', async (req) => {
      counters.clientConnections++;
      // Port 0 (tests): listen URLs name the port the server actually bound.
      if (boundPort === 0 && req.socket.localPort) boundPort = req.socket.localPort;
    });

    const notFound = (reply: FastifyReply): FastifyReply =>
      reply
        .code(404)
        .header('content-type', 'text/html; charset=utf-8')
        .header('access-control-allow-origin', '*')
        .send(errorPage(404, NOT_FOUND_MESSAGE));

    const listen = (req: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply): FastifyReply | undefined => {
      const name = req.params.name;
      const playlist = /\.(m3u|xspf)$/.exec(name);
      const path = `/listen/${playlist ? name.slice(0, -playlist[0].length) : name}`;
      const mount = mounts.get(path);
      if (!mount) return notFound(reply);
      noCache(reply);
      if (playlist?.[1] === 'm3u') return reply.header('content-type', 'audio/x-mpegurl').send(m3u(listenUrl(path)));
      if (playlist?.[1] === 'xspf')
        return reply.header('content-type', 'application/xspf+xml').send(xspf(listenUrl(path), config, mount.meta?.title ?? ''));
      serveListener(app, req, reply, mount);
      return undefined;
    };

    const serveListener = (app: FastifyInstance, req: FastifyRequest, reply: FastifyReply, mount: Mount): void => {
      const socket = req.raw.socket;
      reply.hijack();
      const icy = wantsIcy(mount.config.codec, req.headers['icy-metadata']);
      if (req.method === 'HEAD') {
        socket.end(listenerHead(mount.config, config, icy ? config.icyMetaint : undefined));
        return;
      }
      const full =
        counters.total >= config.maxListeners
          ? SERVER_FULL_MESSAGE
          : mount.config.maxListeners !== undefined && mount.listeners.size >= mount.config.maxListeners
            ? MOUNT_FULL_MESSAGE
            : undefined;
      if (full) {
        socket.end(rawError(403, full));
        return;
      }
      const l: Listener = {
        id: nextId++,
        socket,
        ip: req.ip,
        userAgent: String(req.headers['user-agent'] ?? ''),
        connectedAt: Date.now(),
        metaint: icy ? config.icyMetaint : 0,
        untilMeta: config.icyMetaint,
        lastTitle: undefined,
        bytesSent: 0,
        oggEpoch: undefined,
        mount: undefined,
      };
      counters.total++;
      counters.listenerConnections++;
      app.endlessSockets.add(socket);
      socket.setNoDelay(true);
      socket.on('error', () => undefined); // a reset peer is a normal way to leave; 'close' follows
      socket.once('close', () => {
        app.endlessSockets.delete(socket);
        l.mount?.drop(l, 'closed');
      });
      mount.attach(l, Buffer.from(listenerHead(mount.config, config, l.metaint || undefined), 'utf8'));
    };

    app.get('/listen/:name', listen); // also answers HEAD (Fastify exposes HEAD for GET routes)
    app.options('/listen/:name', async (req, reply) => {
      reply
        .code(204)
        .header('access-control-allow-origin', '*')
        .header('access-control-allow-methods', 'GET, HEAD, OPTIONS')
        .header('access-control-allow-headers', CORS_ALLOW_HEADERS)
        .header('access-control-max-age', '86400');
      return reply.send();
    });
    app.get('/status-json.xsl', async (_req, reply) => {
      noCache(reply);
      return reply
        .header('content-type', 'application/json; charset=UTF-8')
        .header('access-control-allow-origin', '*')
        .send(statusJson(statsTree()));
    });
    const admin = adminRoutes({ config, secrets: opts.secrets, log, mounts, statsTree, listenUrl, actions: opts.actions });
    await app.register(admin, { prefix: '/admin' });
    await app.register(admin, { prefix: '/icecast-admin' });
  };

  log.info({ mounts: [...mounts.keys()] }, 'listener mounts ready');
  let closed = false;
  return {
    plugin,
    events,
    mounts,
    statsTree,
    snapshot: () => ({
      listeners: counters.total,
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

function noCache(reply: FastifyReply): void {
  reply.header('cache-control', 'no-cache, no-store').header('expires', 'Mon, 26 Jul 1997 05:00:00 GMT').header('pragma', 'no-cache');
}

function sourceFields(m: Mount, config: Config, listenurl: string): Record<string, string> {
  const kbps = mountKbps(m.config);
  const start = new Date(m.startedAt);
  const f: Record<string, string> = {
    genre: config.stationGenre || 'various',
    listener_peak: String(m.peak),
    listeners: String(m.listeners.size),
    listenurl,
    max_listeners: m.config.maxListeners === undefined ? 'unlimited' : String(m.config.maxListeners),
    public: '1',
    server_description: config.stationDescription || 'Unspecified description',
    server_name: config.stationName || 'Unspecified name',
    server_type: contentType(m.config.codec),
    slow_listeners: String(m.slowListeners),
    source_ip: '127.0.0.1',
    stream_start: rfc822(start),
    stream_start_iso8601: iso8601(start),
    total_bytes_read: String(m.bytesIn),
    total_bytes_sent: String(m.bytesSent),
    user_agent: 'Antenna',
  };
  if (config.stationUrl) f.server_url = config.stationUrl;
  if (m.meta?.title) f.title = m.meta.title;
  if (m.config.codec === 'vorbis') {
    // What Icecast reads from the Vorbis identification header.
    Object.assign(f, {
      audio_bitrate: String(kbps * 1000),
      audio_channels: '2',
      audio_samplerate: '44100',
      'ice-bitrate': String(kbps),
      subtype: 'Vorbis',
    });
  } else {
    Object.assign(f, {
      audio_info: `ice-bitrate=${kbps};ice-channels=2;ice-samplerate=44100`,
      bitrate: String(kbps),
      'ice-bitrate': String(kbps),
      'ice-channels': '2',
      'ice-samplerate': '44100',
    });
  }
  return f;
}

export type { MountConfig };
