// The one Fastify instance every HTTP surface registers on (listener mounts, status, admin, HLS, API).
// Built without listening (tests inject or listen on port 0); endless responses are closed in preClose.
// Connections that have not sent a complete request head are bounded per address and overall, and
// closed after httpHeadTimeoutMs; the port never holds more than its share of file descriptors.
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import { ConnectionGuard } from '../util/connection-guard.js';
import type { HttpBudget } from '../util/fd-limit.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Sockets of endless responses taken over with reply.hijack() (listeners). Register each one;
     * they are destroyed in preClose, since server.close() would otherwise wait for them forever.
     */
    readonly endlessSockets: Set<Socket>;
    /** Accounting of connections that have not sent a request yet (for the status snapshot). */
    readonly connectionGuard: ConnectionGuard;
  }
}

export interface HttpServerOptions {
  readonly config: Pick<Config, 'host' | 'httpPort' | 'httpHeadTimeoutMs' | 'httpMaxPending' | 'httpMaxPendingPerAddress'>;
  readonly log: Logger;
  /** Descriptor budget from the RLIMIT_NOFILE (default: no connection cap, config's pending cap). */
  readonly budget?: Pick<HttpBudget, 'maxConnections' | 'maxPending'>;
}

export function buildHttpServer(opts: HttpServerOptions): FastifyInstance {
  const { config } = opts;
  const log = opts.log.child({ component: 'http' });
  const app = Fastify({
    loggerInstance: log,
    // One log line per listener request at 500 connections/s is noise; components log what matters.
    logController: new LogController({ disableRequestLogging: true }),
    // Listener responses never end, so the server must not time requests out after the head.
    requestTimeout: 0,
    connectionTimeout: 0,
    keepAliveTimeout: 5_000,
    // Idle keep-alive sockets (playlists, status) are closed on shutdown too.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    bodyLimit: 64 * 1024,
  }) as unknown as FastifyInstance;
  const sockets = new Set<Socket>();
  app.decorate('endlessSockets', sockets);

  const guard = new ConnectionGuard({
    log,
    maxPerAddress: config.httpMaxPendingPerAddress,
    maxTotal: opts.budget?.maxPending ?? config.httpMaxPending,
    timeoutMs: config.httpHeadTimeoutMs,
    // Measured: at 10,000 listeners connecting at 500/s from one address, an event-loop pause of ~90 ms
    // left more than 32 requests unread at once, and shedding them closed 19 real listeners.
    graceMs: 2000,
  });
  app.decorate('connectionGuard', guard);
  // A connection is pending from accept until a request head is parsed; then it is a listener (or a
  // client) and is never limited per address: many real listeners share one CGNAT address. A kept-alive
  // connection whose last response has finished is idle again, so it counts again until its next request
  // (otherwise one cheap request per socket would buy an attacker an unlimited idle connection).
  const inFlight = new WeakMap<Socket, number>();
  app.server.on('connection', (socket: Socket) => guard.admit(socket));
  app.server.on('request', (req: { socket: Socket }, res: { once(e: 'close', fn: () => void): unknown; writableFinished: boolean }) => {
    const socket = req.socket;
    guard.done(socket);
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      inFlight.set(socket, left);
      // Hijacked listener responses never finish; a finished response on a live socket leaves it idle.
      if (left === 0 && res.writableFinished && !socket.destroyed && !sockets.has(socket)) guard.admit(socket);
    });
  });
  // Later requests on a kept-alive connection: Node's own head timeout (the first is the guard's).
  app.server.headersTimeout = config.httpHeadTimeoutMs;
  const maxConnections = opts.budget?.maxConnections ?? Infinity;
  if (Number.isFinite(maxConnections)) app.server.maxConnections = maxConnections;
  let lastDropWarn = 0;
  app.server.on('drop', () => {
    // Over maxConnections Node closes the new connection at once; one line per 10 s at most.
    const now = performance.now();
    if (now - lastDropWarn > 10_000) {
      lastDropWarn = now;
      log.warn({ maxConnections }, 'HTTP connection refused: descriptor budget of the listener port reached');
    }
  });

  app.addHook('preClose', (done) => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    done();
  });
  app.addHook('onClose', (_app, done) => {
    guard.close();
    done();
  });
  return app;
}

/** Starts listening on config.host:httpPort (0 = any free port); resolves with the bound port. */
export async function listenHttp(app: FastifyInstance, config: Pick<Config, 'host' | 'httpPort'>): Promise<number> {
  await app.listen({ host: config.host, port: config.httpPort });
  const addr = app.server.address();
  return typeof addr === 'object' && addr ? addr.port : config.httpPort;
}
