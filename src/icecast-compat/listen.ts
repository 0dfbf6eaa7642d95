// The listener routes: /listen/<mount> (an endless response taken over from Fastify), its .m3u and
// .xspf playlists, and CORS preflights. Listener limits (server-wide and per mount) are checked here.
import type { Http2ServerResponse, ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/load.js';
import { WRITE_COST, type Mount, type Listener } from './mount.js';
import type { Counters } from './stats-tree.js';
import {
  CORS_ALLOW_HEADERS,
  MOUNT_FULL_MESSAGE,
  NOT_FOUND_MESSAGE,
  SERVER_FULL_MESSAGE,
  errorPage,
  listenerHead,
  listenerHeaders,
  m3u,
  rawError,
  wantsIcy,
  xspf,
} from './wire.js';

export interface ListenRoutesOptions {
  readonly config: Config;
  readonly mounts: ReadonlyMap<string, Mount>;
  readonly counters: Counters;
  /** Listeners allowed across mounts: config.maxListeners, lowered to what the descriptor limit allows. */
  readonly maxListeners: number;
  nextListenerId(): number;
}

export function noCache(reply: FastifyReply): FastifyReply {
  return reply
    .header('cache-control', 'no-cache, no-store')
    .header('expires', 'Mon, 26 Jul 1997 05:00:00 GMT')
    .header('pragma', 'no-cache');
}

function notFound(reply: FastifyReply): FastifyReply {
  return reply
    .code(404)
    .header('content-type', 'text/html; charset=utf-8')
    .header('access-control-allow-origin', '*')
    .send(errorPage(404, NOT_FOUND_MESSAGE));
}

export function registerListenRoutes(app: FastifyInstance, opts: ListenRoutesOptions): void {
  const { config, mounts } = opts;
  const listen = (req: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply): FastifyReply | undefined => {
    const name = req.params.name;
    const playlist = /\.(m3u|xspf)$/.exec(name);
    const path = `/listen/${playlist ? name.slice(0, -playlist[0].length) : name}`;
    const mount = mounts.get(path);
    if (!mount) return notFound(reply);
    noCache(reply);
    // A playlist fetched over HTTPS points at HTTPS, one fetched over plain HTTP (a hardware radio) at HTTP.
    const url = (): string => app.publicOrigin(req) + path;
    if (playlist?.[1] === 'm3u') return reply.header('content-type', 'audio/x-mpegurl').send(m3u(url()));
    if (playlist?.[1] === 'xspf')
      return reply.header('content-type', 'application/xspf+xml').send(xspf(url(), config, mount.meta?.title ?? ''));
    serveListener(app, req, reply, mount, opts);
    return undefined;
  };
  app.get('/listen/:name', listen); // also answers HEAD (Fastify exposes HEAD for GET routes)
  app.options('/listen/:name', async (_req, reply) => {
    reply
      .code(204)
      .header('access-control-allow-origin', '*')
      .header('access-control-allow-methods', 'GET, HEAD, OPTIONS')
      .header('access-control-allow-headers', CORS_ALLOW_HEADERS)
      .header('access-control-max-age', '86400');
    return reply.send();
  });
}

function fullMessage(mount: Mount, opts: ListenRoutesOptions): string | undefined {
  return opts.counters.total >= opts.maxListeners
    ? SERVER_FULL_MESSAGE
    : mount.config.maxListeners !== undefined && mount.listeners.size >= mount.config.maxListeners
      ? MOUNT_FULL_MESSAGE
      : undefined;
}

function serveListener(app: FastifyInstance, req: FastifyRequest, reply: FastifyReply, mount: Mount, opts: ListenRoutesOptions): void {
  if (req.raw.httpVersionMajor === 2) {
    serveH2Listener(app, req, reply, mount, opts);
    return;
  }
  const { config } = opts;
  const socket = req.raw.socket;
  reply.hijack();
  const icy = wantsIcy(mount.config.codec, req.headers['icy-metadata']);
  if (req.method === 'HEAD') {
    socket.end(listenerHead(mount.config, config, icy ? config.icyMetaint : undefined));
    return;
  }
  const full = fullMessage(mount, opts);
  if (full) {
    socket.end(rawError(403, full));
    return;
  }
  socket.setNoDelay(true);
  socket.on('error', () => undefined); // a reset peer is a normal way to leave; 'close' follows
  const l = admitListener(app, req, socket, 1, icy ? config.icyMetaint : 0, opts);
  mount.attach(l, Buffer.from(listenerHead(mount.config, config, l.metaint || undefined), 'utf8'));
}

/**
 * A listener on an HTTP/2 stream (a browser that loaded the page over h2 plays <audio> on the same
 * connection). There is no socket to take over: the stream is the sink, its flow-control backlog is
 * the listener's queue, and closing it leaves the connection's other streams alone.
 */
function serveH2Listener(app: FastifyInstance, req: FastifyRequest, reply: FastifyReply, mount: Mount, opts: ListenRoutesOptions): void {
  const { config } = opts;
  const stream = (reply.raw as unknown as Http2ServerResponse).stream;
  reply.hijack();
  if (stream.destroyed) return;
  stream.on('error', () => undefined); // a reset stream is a normal way to leave; 'close' follows
  if (req.method === 'HEAD') {
    stream.respond({ ':status': 200, ...listenerHeaders(mount.config, config) }, { endStream: true });
    return;
  }
  const full = fullMessage(mount, opts);
  if (full) {
    stream.respond({
      ':status': 403,
      'content-type': 'text/html; charset=utf-8',
      'access-control-allow-origin': '*',
      'cache-control': 'no-cache, no-store',
    });
    stream.end(errorPage(403, full));
    return;
  }
  stream.respond({ ':status': 200, ...listenerHeaders(mount.config, config) });
  const l = admitListener(app, req, stream, 2, 0, opts);
  mount.attach(l, undefined, true);
}

/** The listener record for a sink that will stream (either HTTP version): counted, and dropped when it closes. */
function admitListener(
  app: FastifyInstance,
  req: FastifyRequest,
  sink: Socket | ServerHttp2Stream,
  httpVersion: Listener['httpVersion'],
  metaint: number,
  opts: ListenRoutesOptions,
): Listener {
  const l: Listener = {
    id: opts.nextListenerId(),
    sink,
    httpVersion,
    writeCost:
      httpVersion === 2 ? WRITE_COST.h2 : (sink as Socket & { encrypted?: boolean }).encrypted === true ? WRITE_COST.tls : WRITE_COST.plain,
    ip: req.ip,
    userAgent: String(req.headers['user-agent'] ?? ''),
    connectedAt: Date.now(),
    metaint,
    untilMeta: opts.config.icyMetaint,
    lastTitle: undefined,
    bytesSent: 0,
    oggEpoch: undefined,
    mount: undefined,
  };
  opts.counters.total++;
  opts.counters.listenerConnections++;
  app.endlessSockets.add(sink);
  sink.once('close', () => {
    app.endlessSockets.delete(sink);
    l.mount?.drop(l, 'closed');
  });
  return l;
}
