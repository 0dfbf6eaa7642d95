// The HTTP front: one Fastify app (listener mounts, status, admin, HLS, API, ACME challenges) served by
// a plain HTTP server and, once a certificate exists, by an HTTPS server speaking HTTP/2 and HTTP/1.1
// (ALPN) — the same routes, hooks and decorators on both, so nothing is registered twice.
// It also says how the server looks from outside (publicOrigin: URLs by the request's transport; HSTS).
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
import { ConnectionPool } from '../util/connection-pool.js';
import type { HttpBudget } from '../util/fd-limit.js';
import { hstsApplies, publicFront, publicOrigin, type PublicFront } from './public-front.js';

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
    /** The descriptor budget shared by the plain and the HTTPS port. */
    readonly connectionPool: ConnectionPool;
    readonly https: HttpsFront;
    /** How the server looks from outside now (public host, ports, certificate names). */
    publicFront(): PublicFront;
    /** `scheme://host[:port]` for public URLs in the answer to `req`: https when it came over HTTPS. */
    publicOrigin(req: FastifyRequest): string;
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
  | 'publicHttpPort'
  | 'publicHttpsPort'
  | 'hstsMaxAge'
>;

export interface HttpServerOptions {
  readonly config: FrontConfig;
  readonly log: Logger;
  /** Descriptor budget from the RLIMIT_NOFILE, shared by both ports (default: no connection cap, config's pending cap). */
  readonly budget?: Pick<HttpBudget, 'maxConnections' | 'maxPending'>;
}

const KEEP_ALIVE_MS = 5_000;
/**
 * Accept queue of the HTTP and HTTPS ports (the kernel caps it at net.core.somaxconn, 4,096 on
 * Debian 12). Node's default, 511, overflowed while 5,000 h2 listeners connected at 500 a second:
 * the kernel dropped 2,484 SYNs, which clients resend only after 1 s, then 3 s (TLS handshake p99
 * 5.9 s). A full queue costs kernel memory only; a SYN flood is met by syncookies, not by this queue.
 */
export const LISTEN_BACKLOG = 4096;
/** An h2 connection with no frames for this long is closed (Fastify's default for its own h2 servers). */
const H2_SESSION_IDLE_MS = 72_000;

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
  // One pool for both ports: together they stay within the descriptor budget (maxConnections).
  const pool = new ConnectionPool({ max: opts.budget?.maxConnections ?? Infinity, log });
  app.decorate('connectionPool', pool);
  const plain = app.server as http.Server;
  pool.attach(plain, (socket) => guard.admit(socket));
  guardServer(plain, guard, endless, (req) => (req as http.IncomingMessage).socket);
  plain.headersTimeout = config.httpHeadTimeoutMs;

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
      pool.attach(s, (rawSocket: Socket) => {
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
      s.on('stream', destroyWhenPeerLeft);
      s.on('tlsClientError', (err: Error & { code?: string }) =>
        log.debug({ code: err.code, message: err.message }, 'TLS handshake failed'),
      );
      guardServer(s, guard, endless, (req) => rawByPeer.get(`${req.socket.remoteAddress}|${req.socket.remotePort}`));
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen({ port: config.httpsPort, host: config.host, backlog: LISTEN_BACKLOG }, () => {
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

  // The plain port is known once listen() has bound it (port 0 in tests); read once, not per request.
  let boundHttp: number | undefined;
  const outside = (): PublicFront => {
    if (boundHttp === undefined) {
      const addr = plain.address();
      if (typeof addr === 'object' && addr) boundHttp = addr.port;
    }
    return publicFront(config, { http: boundHttp ?? config.httpPort, https: securePort }, hosts);
  };
  app.decorate('publicFront', outside);
  app.decorate('publicOrigin', (req: FastifyRequest) => publicOrigin(outside(), req.protocol === 'https' ? 'https' : 'http'));

  // Plain HTTP once HTTPS serves: redirect what the policy says; the ACME challenge never moves.
  app.addHook('onRequest', (req, reply, done) => {
    if (securePort === undefined || req.protocol === 'https' || !redirects(config.httpRedirect, req.url)) return done();
    const port = outside().httpsPort;
    const url = `https://${redirectHost(req, hosts, config.publicHostname)}${port === 443 ? '' : `:${port}`}${req.url}`;
    void reply.code(308).header('location', url).header('cache-control', 'no-store').send();
  });
  // HSTS on every HTTPS response that goes through Fastify (API, pages, admin, status-json, playlists,
  // HLS), when the port layout makes it safe (hstsApplies). It is a promise about the host, not a path:
  // leaving it off /listen/ or /hls/ would protect nothing (the page already pinned the host) and nothing
  // breaks with it there, since everything plain HTTP serves is served over HTTPS too and hardware radios
  // and relay edges, which stay on plain HTTP, ignore HSTS. The listener streams' own heads (hijacked:
  // Icecast's exact head, or an h2 respond()) carry none; a browser reaches them from a page or playlist.
  const hsts = `max-age=${config.hstsMaxAge}`;
  app.addHook('onSend', (req, reply, payload, done) => {
    if (req.protocol === 'https' && hstsApplies(outside())) reply.header('strict-transport-security', hsts);
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

/**
 * Node 20 (fixed by Node 24): a peer's RST_STREAM(NO_ERROR) on a stream whose writes wait on flow
 * control closes the stream on the wire, but Node destroys it only once those writes are done, and
 * they never are. Its 'close' never comes (a listener stays counted, a response's bookkeeping open),
 * its queued body stays in memory, and a graceful session close waits for it for good (one connection
 * with a 1 KB window left 51 such bodies behind in a check). A closed stream can deliver nothing more,
 * so it is destroyed here. 'end' is the last thing Node 20 does for it; a stream that closes normally
 * has been destroyed by then.
 */
function destroyWhenPeerLeft(stream: http2.ServerHttp2Stream): void {
  stream.once('end', () =>
    setImmediate(() => {
      if (stream.closed && !stream.destroyed) stream.destroy();
    }),
  );
}

/** Paths that keep answering over plain HTTP under the `admin` policy: what hardware radios and relays use. */
const PLAIN_OK = ['/listen/', '/hls/', '/status-json.xsl', '/admin/'];
const ACME = '/.well-known/acme-challenge/';

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

/** Starts listening on config.host:httpPort (0 = any free port); resolves with the bound port. */
export async function listenHttp(app: FastifyInstance, config: Pick<Config, 'host' | 'httpPort'>): Promise<number> {
  await app.listen({ host: config.host, port: config.httpPort, backlog: LISTEN_BACKLOG });
  const addr = app.server.address();
  return typeof addr === 'object' && addr ? addr.port : config.httpPort;
}
