// One descriptor pool for every port that accepts listeners (plain HTTP and HTTPS): together they hold
// at most `max` sockets. Each server's own maxConnections would let each port take the whole budget,
// and the two together could then eat the reserve that sources, admin, HLS files and ffmpeg pipes need.
import type { Server, Socket } from 'node:net';
import type { Logger } from 'pino';

export interface ConnectionPoolOptions {
  /** Sockets all attached servers may hold at once (Infinity: count only). */
  readonly max: number;
  readonly log: Pick<Logger, 'warn'>;
}

export class ConnectionPool {
  readonly max: number;
  readonly #log: Pick<Logger, 'warn'>;
  #open = 0;
  #refused = 0;
  #lastWarn = -Infinity;

  constructor(opts: ConnectionPoolOptions) {
    this.max = opts.max;
    this.#log = opts.log;
  }

  /** Sockets held now across the attached servers. */
  get open(): number {
    return this.#open;
  }

  /** Connections closed at accept because the pool was full. */
  get refused(): number {
    return this.#refused;
  }

  /**
   * Takes a place for a socket just accepted, or closes it when the pool is full (the newcomer, not a
   * listener already playing). The place is given back when the socket closes. True when admitted.
   */
  admit(socket: Socket): boolean {
    if (this.#open >= this.max) {
      this.#refused++;
      socket.destroy();
      const now = performance.now();
      // One line per 10 s at most: a full pool under a connect storm would otherwise flood the log.
      if (now - this.#lastWarn > 10_000) {
        this.#lastWarn = now;
        this.#log.warn(
          { max: this.max, refused: this.#refused },
          'HTTP connection refused: descriptor budget of the listener ports reached',
        );
      }
      return false;
    }
    this.#open++;
    socket.once('close', () => this.#open--);
    return true;
  }

  /**
   * Counts every TCP socket `server` accepts (for a TLS server: the raw socket, before the handshake).
   * `then` runs for admitted sockets only, so later accounting never sees a refused one.
   */
  attach(server: Server, then: (socket: Socket) => void = () => undefined): void {
    server.on('connection', (socket: Socket) => {
      if (this.admit(socket)) then(socket);
    });
  }
}
