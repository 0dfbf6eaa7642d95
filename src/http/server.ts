// The HTTP front: one Fastify app (listener mounts, status, admin, HLS, API, ACME challenges) served by
// a plain HTTP server and, once a certificate exists, by an HTTPS server speaking HTTP/2 and HTTP/1.1
// (ALPN) — the same routes, hooks and decorators on both, so nothing is registered twice.
// Built without listening (tests inject or listen on port 0); endless responses are closed in preClose.
// Connections that have not sent a complete request head (or TLS handshake) are bounded per address and
// overall on both ports, and closed after httpHeadTimeoutMs.
import http from 'node:http';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import { ConnectionGuard } from '../util/connection-guard.js';
import type { HttpBudget } from '../util/fd-limit.js';

/** Anything an endless response owns that must be destroyed on shutdown: an HTTP/1 socket or an h2 stream. */
export interface EndlessResponse {
  destroy(): unknown;
}

export interface TlsCredentials {
  readonly certPem: string;
  readonly keyPem: string;
}

/** The HTTPS side of the front, driven by the certificate manager through the composition root. */
export interface HttpsFront {
  /** First call: starts HTTPS on httpsPort with this certificate; later calls swap it for new handshakes. */
  serve(cred: TlsCredentials): Promise<number>;
  /** The bound HTTPS port, or undefined while there is no certificate. */
  readonly port: number | undefined;
  /** Hosts the redirect may send a browser to (the certificate's names). */
  setHosts(hosts: readonly string[]): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Endless responses (listeners, live feed): HTTP/1 sockets taken over with reply.hijack(), or h2
     * streams. Register each one; they are destroyed in preClose, since server.close() would otherwise
     * wait for them forever.
     */
    readonly endlessSockets: Set<EndlessResponse>;
    /** Accounting of connections that have not sent a request yet (for the status snapshot). */
    readonly connectionGuard: ConnectionGuard;
    readonly https: HttpsFront;
  }
}

type FrontConfig = Pick<
  Config,
  | 'host'
  | 'httpPort'
  | 'httpsPort'
  | 'httpHeadTimeoutMs'
  | 'httpMaxPending'
  | 'httpMaxPendingPerAddress'
  | 'httpRedirect'
  | 'publicHostname'
>;

export interface HttpServerOptions {
  readonly config: FrontConfig;
  readonly log: Logger;
  /** Descriptor budget from the RLIMIT_NOFILE (default: no connection cap, config's pending cap). */
  readonly budget?: Pick<HttpBudget, 'maxConnections' | 'maxPending'>;
}

const KEEP_ALIVE_MS = 5_000;
/** An h2 connection with no frames for this long is closed (Fastify's default for its own h2 servers). */
const H2_SESSION_IDLE_MS = 72_000;
const HSTS = 'max-age=31536000';

type Handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => void;

export function buildHttpServer(opts: HttpServerOptions): FastifyInstance {
  const { config } = opts;
  const log = opts.log.child({ component: 'http' });
  let handler: Handler | undefined;
  const app = Fastify({
    loggerInstance: log,
    // One log line per listener request at 500 connections/s is noise; components log what matters.
    logController: new LogController({ disableRequestLogging: true }),
    // The plain server is built here so its handler can serve the HTTPS server too.
    serverFactory: (h) => {
      handler = h as unknown as Handler;
      const server = http.createServer(h);
      // Listener responses never end, so the server must not time requests out after the head.
      server.requestTimeout = 0;
      server.setTimeout(0);
      server.keepAliveTimeout = KEEP_ALIVE_MS;
      return server;
    },
    // Idle keep-alive sockets (playlists, status) are closed on shutdown too.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    bodyLimit: 64 * 1024,
  }) as unknown as FastifyInstance;
  const endless = new Set<EndlessResponse>();
  app.decorate('endlessSockets', endless);

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
  const maxConnections = opts.budget?.maxConnections ?? Infinity;
  const plain = app.server as http.Server;
  guardServer(plain, guard, endless, (req) => (req as http.IncomingMessage).socket);
  plain.headersTimeout = config.httpHeadTimeoutMs;
  limitConnections(plain, maxConnections, log);

  // --- HTTPS (HTTP/2 + HTTP/1.1), started when the first certificate arrives -----------------------
  let secure: http2.Http2SecureServer | undefined;
  let securePort: number | undefined;
  let hosts: readonly string[] = [];
  const tlsSockets = new Set<TLSSocket>();
  // The guard counts the accepted TCP socket from accept on; a request reaches us with the TLS socket (h1)
  // or a proxy of the h2 session's, so the TCP socket is found again by the peer's address and port.
  const rawByPeer = new Map<string, Socket>();
  const front: HttpsFront = {
    get port() {
      return securePort;
    },
    setHosts(h) {
      hosts = h;
    },
    async serve(cred) {
      if (secure) {
        // New handshakes get the new certificate; established connections (listeners, HLS players) go on.
        secure.setSecureContext({ cert: cred.certPem, key: cred.keyPem });
        return securePort as number;
      }
      if (!handler) throw new Error('HTTP front used before the app was built');
      const h = handler;
      const s = http2.createSecureServer(
        {
          cert: cred.certPem,
          key: cred.keyPem,
          allowHTTP1: true,
          // A handshake is part of the request head: same deadline.
          handshakeTimeout: config.httpHeadTimeoutMs,
          // A few concurrent streams are enough for a page, its player and HLS; a client opening
          // thousands per connection is not a listener.
          settings: { maxConcurrentStreams: 128 },
        },
        h,
      );
      s.setTimeout(0);
      s.on('connection', (rawSocket: Socket) => {
        const key = `${rawSocket.remoteAddress}|${rawSocket.remotePort}`;
        rawByPeer.set(key, rawSocket);
        rawSocket.once('close', () => {
          if (rawByPeer.get(key) === rawSocket) rawByPeer.delete(key);
        });
        guard.admit(rawSocket);
      });
      s.on('secureConnection', (t: TLSSocket) => {
        tlsSockets.add(t);
        t.once('close', () => tlsSockets.delete(t));
      });
      s.on('session', (session: http2.ServerHttp2Session) => session.setTimeout(H2_SESSION_IDLE_MS, () => session.close()));
      s.on('tlsClientError', (err: Error & { code?: string }) =>
        log.debug({ code: err.code, message: err.message }, 'TLS handshake failed'),
      );
      guardServer(s, guard, endless, (req) => rawByPeer.get(`${req.socket.remoteAddress}|${req.socket.remotePort}`));
      limitConnections(s, maxConnections, log);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(config.httpsPort, config.host, () => {
          s.off('error', reject);
          resolve();
        });
      });
      secure = s;
      const addr = s.address();
      securePort = typeof addr === 'object' && addr ? addr.port : config.httpsPort;
      log.info({ port: securePort }, 'HTTPS listening (h2, http/1.1)');
      return securePort;
    },
  };
  app.decorate('https', front);

  // Plain HTTP once HTTPS serves: redirect what the policy says; the ACME challenge never moves.
  app.addHook('onRequest', (req, reply, done) => {
    if (securePort === undefined || req.protocol === 'https' || !redirects(config.httpRedirect, req.url)) return done();
    const url = `https://${redirectHost(req, hosts, config.publicHostname)}${securePort === 443 ? '' : `:${securePort}`}${req.url}`;
    void reply.code(308).header('location', url).header('cache-control', 'no-store').send();
  });
  // HSTS only when HTTPS is on 443: a browser upgrades http://host:8000 to https://host:8000, which
  // would break any other port layout (RFC 6797 §8.3 keeps the explicit port).
  app.addHook('onSend', (req, reply, payload, done) => {
    if (req.protocol === 'https' && securePort === 443 && !isListenerPath(req.url)) reply.header('strict-transport-security', HSTS);
    done(null, payload);
  });

  app.addHook('preClose', (done) => {
    for (const s of endless) s.destroy();
    endless.clear();
    done();
  });
  app.addHook('onClose', (_app, done) => {
    guard.close();
    if (!secure) return done();
    const s = secure;
    secure = undefined;
    securePort = undefined;
    s.close(() => done());
    // Listeners went in preClose; what is left is idle (keep-alive, h2 sessions without streams).
    for (const t of tlsSockets) t.destroy();
    tlsSockets.clear();
  });
  return app;
}

/** Paths that keep answering over plain HTTP under the `admin` policy: what hardware radios and relays use. */
const PLAIN_OK = ['/listen/', '/hls/', '/status-json.xsl', '/admin/'];
const ACME = '/.well-known/acme-challenge/';

function isListenerPath(url: string): boolean {
  return url.startsWith('/listen/') || url.startsWith('/hls/');
}

/** Whether a plain-HTTP request for `url` is answered with a redirect to HTTPS under `policy`. */
export function redirects(policy: Config['httpRedirect'], url: string): boolean {
  if (policy === 'none' || url.startsWith(ACME)) return false;
  if (policy === 'all') return true;
  return !PLAIN_OK.some((p) => url === p.replace(/\/$/, '') || url.startsWith(p) || (p.endsWith('.xsl') && url.startsWith(p + '?')));
}

/** The Host header's name when the certificate covers it; otherwise the first name (never an attacker's host). */
function redirectHost(req: FastifyRequest, hosts: readonly string[], fallback: string): string {
  const host = (req.hostname || '').toLowerCase();
  return hosts.includes(host) ? host : (hosts[0] ?? fallback);
}

/**
 * A connection is pending from accept until a request head is parsed; then it is a listener (or a
 * client) and is never limited per address: many real listeners share one CGNAT address. A kept-alive
 * connection whose last response has finished is idle again, so it counts again until its next request
 * (otherwise one cheap request per socket would buy an attacker an unlimited idle connection).
 */
function guardServer(
  server: http.Server | http2.Http2SecureServer,
  guard: ConnectionGuard,
  endless: Set<EndlessResponse>,
  socketOf: (req: http.IncomingMessage | http2.Http2ServerRequest) => Socket | undefined,
): void {
  const inFlight = new WeakMap<Socket, number>();
  if (server instanceof http.Server) server.on('connection', (socket: Socket) => guard.admit(socket));
  server.on('request', (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => {
    const socket = socketOf(req);
    if (!socket) return;
    guard.done(socket);
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    const h1 = (req as http.IncomingMessage).socket;
    res.once('close', () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      inFlight.set(socket, left);
      // Hijacked listener responses never finish; a finished response on a live socket leaves it idle.
      if (left === 0 && res.writableFinished && !socket.destroyed && !endless.has(h1)) guard.admit(socket);
    });
  });
}

function limitConnections(server: http.Server | http2.Http2SecureServer, maxConnections: number, log: Logger): void {
  if (Number.isFinite(maxConnections)) server.maxConnections = maxConnections;
  let lastDropWarn = 0;
  server.on('drop', () => {
    // Over maxConnections Node closes the new connection at once; one line per 10 s at most.
    const now = performance.now();
    if (now - lastDropWarn > 10_000) {
      lastDropWarn = now;
      log.warn({ maxConnections }, 'HTTP connection refused: descriptor budget of the listener port reached');
    }
  });
}

/** Starts listening on config.host:httpPort (0 = any free port); resolves with the bound port. */
export async function listenHttp(app: FastifyInstance, config: Pick<Config, 'host' | 'httpPort'>): Promise<number> {
  await app.listen({ host: config.host, port: config.httpPort });
  const addr = app.server.address();
  return typeof addr === 'object' && addr ? addr.port : config.httpPort;
}
