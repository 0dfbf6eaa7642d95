// One listening source port: a raw `net` server whose connections are admitted through a
// ConnectionGuard (only accepted sources leave its accounting) and handed to handleConnection.
import net from 'node:net';
import type { Logger } from 'pino';
import { AntennaError } from '../errors.js';
import { ConnectionGuard, type ConnectionGuardSnapshot } from '../util/connection-guard.js';
import { handleConnection, type PortContext } from './connection.js';

export interface SourcePortOptions {
  readonly host: string;
  /** 0 = any free port. */
  readonly port: number;
  /** Role names, for messages. */
  readonly names: string;
  readonly maxPending: number;
  readonly maxPendingPerAddress: number;
  readonly log: Logger;
  /** Built once the port is known. */
  context(port: number): PortContext;
  nextConnectionId(): number;
}

export interface SourcePort {
  readonly port: number;
  snapshot(): ConnectionGuardSnapshot;
  close(): Promise<void>;
}

/** Listens; resolves once bound, rejects with PORT_IN_USE / CONFIG_INVALID. */
export function listenSourcePort(opts: SourcePortOptions): Promise<SourcePort> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    const sockets = new Set<net.Socket>();
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new AntennaError(
          err.code === 'EADDRINUSE' ? 'PORT_IN_USE' : 'CONFIG_INVALID',
          `cannot listen on ${opts.host}:${opts.port} (${opts.names}): ${err.message}`,
          { fatal: true, cause: err },
        ),
      );
    });
    server.listen(opts.port, opts.host, () => {
      const port = (server.address() as net.AddressInfo).port;
      const log = opts.log.child({ port });
      // The header timeout is handleConnection's (it answers 408), so the guard needs none of its own.
      const guard = new ConnectionGuard({ log, maxPerAddress: opts.maxPendingPerAddress, maxTotal: opts.maxPending, timeoutMs: 0 });
      const base = opts.context(port);
      const ctx: PortContext = {
        ...base,
        // An accepted source has earned its place: it no longer counts against the idle limits.
        startSource: (req) => {
          guard.done(req.socket);
          base.startSource(req);
        },
      };
      server.on('error', (err) => log.error({ err }, 'listener error'));
      server.on('connection', (socket) => {
        socket.setNoDelay(true);
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        guard.admit(socket);
        if (!socket.destroyed) handleConnection(socket, ctx, opts.nextConnectionId());
      });
      log.info(
        { roles: opts.names, maxPending: opts.maxPending, maxPendingPerAddress: opts.maxPendingPerAddress },
        'source port listening',
      );
      let closing: Promise<void> | undefined;
      resolve({
        port,
        snapshot: () => guard.snapshot(),
        close: () =>
          (closing ??= new Promise<void>((done) => {
            guard.close();
            server.close(() => done());
            // Connections still sending their head (sources are closed by their sessions).
            for (const s of sockets) s.destroy();
          })),
      });
    });
  });
}
