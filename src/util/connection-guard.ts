// Accounting of connections that have not (yet) earned their place: no complete request head on the
// listener port, anything but an accepted source on a source port. Bounded per address and overall;
// at a bound the oldest connection of the busiest address is closed, never the newcomer, so an
// attacker holding idle sockets crowds out only itself and a studio's fresh connection gets through.
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ConnectionGuardSnapshot } from '../types/snapshots.js';
export type { ConnectionGuardSnapshot } from '../types/snapshots.js';

export interface ConnectionGuardOptions {
  readonly log: Logger;
  /** Pending connections one address may hold; a new one closes that address's oldest. */
  readonly maxPerAddress: number;
  /** Pending connections overall; a new one closes the oldest of the address holding the most. */
  readonly maxTotal: number;
  /** Pending longer than this is closed (0 = the owner times heads out itself). */
  readonly timeoutMs: number;
  /**
   * A connection younger than this is never closed for its address's limit: its request may simply not
   * have been read yet (a connect storm from one carrier-grade NAT address while the event loop is busy).
   * The overall limit stays hard. Default 0 (the source ports, where the studio's newcomer must win).
   */
  readonly graceMs?: number;
}

export class ConnectionGuard {
  readonly #opts: ConnectionGuardOptions;
  /** Insertion order = arrival order, so the first entry is the oldest. */
  readonly #pending = new Map<Socket, { address: string; at: number }>();
  readonly #byAddress = new Map<string, Set<Socket>>();
  readonly #watched = new WeakSet<Socket>();
  #sweep: NodeJS.Timeout | undefined;
  #closed = false;
  #shed = 0;
  #timedOut = 0;
  #lastWarn = 0;

  constructor(opts: ConnectionGuardOptions) {
    this.#opts = opts;
  }

  /** A new (or newly idle) connection: pending until done() or its close. May close older pending ones. */
  admit(socket: Socket): void {
    if (this.#pending.has(socket)) return;
    this.#startSweep();
    const address = socket.remoteAddress ?? 'unknown';
    let mine = this.#byAddress.get(address);
    if (mine) this.#trim(mine, this.#opts.maxPerAddress - 1);
    if (this.#pending.size >= this.#opts.maxTotal) {
      const victim = this.#busiestOldest();
      if (victim) this.#drop(victim, 'overall limit');
    }
    mine = this.#byAddress.get(address);
    if (!mine) this.#byAddress.set(address, (mine = new Set()));
    mine.add(socket);
    this.#pending.set(socket, { address, at: performance.now() });
    // Once per socket, however often it becomes pending again (kept-alive connections).
    if (!this.#watched.has(socket)) {
      this.#watched.add(socket);
      socket.once('close', () => this.done(socket));
    }
  }

  /** The connection earned its place (a complete request, an accepted source): no longer counted. */
  done(socket: Socket): void {
    const entry = this.#pending.get(socket);
    if (!entry) return;
    this.#pending.delete(socket);
    const set = this.#byAddress.get(entry.address);
    set?.delete(socket);
    if (set?.size === 0) this.#byAddress.delete(entry.address);
  }

  snapshot(): ConnectionGuardSnapshot {
    return { pending: this.#pending.size, addresses: this.#byAddress.size, shed: this.#shed, timedOut: this.#timedOut };
  }

  /** Stops the sweep; the sockets belong to their server, which closes them. */
  close(): void {
    this.#closed = true;
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  /**
   * One sweep for all sockets rather than a timer each (at 20,000 idle sockets that is 20,000 timers),
   * running only while some connection is pending.
   */
  #startSweep(): void {
    if (this.#sweep || this.#closed || this.#opts.timeoutMs <= 0) return;
    this.#sweep = setInterval(() => this.#expire(), Math.max(100, Math.min(1000, this.#opts.timeoutMs / 4)));
    this.#sweep.unref();
  }

  /** Closes the address's oldest connections past the grace until it holds at most `keep`. */
  #trim(mine: Set<Socket>, keep: number): void {
    const grace = this.#opts.graceMs ?? 0;
    const now = performance.now();
    while (mine.size > keep) {
      const oldest = first(mine);
      if (now - (this.#pending.get(oldest)?.at ?? 0) < grace) return;
      this.#drop(oldest, 'per-address limit');
    }
  }

  #busiestOldest(): Socket | undefined {
    let best: Set<Socket> | undefined;
    for (const set of this.#byAddress.values()) if (!best || set.size > best.size) best = set;
    return best ? first(best) : undefined;
  }

  #drop(socket: Socket, why: string): void {
    const entry = this.#pending.get(socket);
    this.done(socket);
    this.#shed++;
    // One line per second at most: the point of shedding is that a flood costs little.
    const now = performance.now();
    if (now - this.#lastWarn > 1000) {
      this.#lastWarn = now;
      this.#opts.log.warn(
        { remote: entry?.address, why, shedSoFar: this.#shed, pending: this.#pending.size },
        'closing an idle connection',
      );
    }
    socket.destroy();
  }

  #expire(): void {
    // Connections admitted over an address's limit during their grace are trimmed once it has passed.
    if (this.#opts.graceMs) for (const mine of [...this.#byAddress.values()]) this.#trim(mine, this.#opts.maxPerAddress);
    const limit = performance.now() - this.#opts.timeoutMs;
    for (const [socket, entry] of this.#pending) {
      if (entry.at > limit) break;
      this.done(socket);
      this.#timedOut++;
      socket.destroy();
    }
    if (this.#pending.size === 0 && this.#sweep) {
      clearInterval(this.#sweep);
      this.#sweep = undefined;
    }
  }
}

function first(set: Set<Socket>): Socket {
  return set.values().next().value as Socket;
}
