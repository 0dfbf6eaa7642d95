// The one Fastify instance every HTTP surface registers on (listener mounts, status, admin, HLS, API).
// Built without listening (tests inject or listen on port 0); endless responses are closed in preClose.
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Sockets of endless responses taken over with reply.hijack() (listeners). Register each one;
     * they are destroyed in preClose, since server.close() would otherwise wait for them forever.
     */
    readonly endlessSockets: Set<Socket>;
  }
}

export interface HttpServerOptions {
  readonly config: Pick<Config, 'host' | 'httpPort'>;
  readonly log: Logger;
}

export function buildHttpServer(opts: HttpServerOptions): FastifyInstance {
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
  app.addHook('preClose', (done) => {
    for (const s of sockets) s.destroy();
    sockets.clear();
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
