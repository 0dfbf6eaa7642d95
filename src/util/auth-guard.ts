// Failed logins on the admin paths and the source ports: each one logged (address, user, path; never
// the password) and counted, and an address that keeps failing waits longer and longer for each answer.
// The password is always checked, so the right one is never slowed down: a studio behind the same NAT
// address as an attacker still gets in at once.
import type { Logger } from 'pino';
import type { AuthGuardSnapshot } from '../types/snapshots.js';
export type { AuthGuardSnapshot } from '../types/snapshots.js';

export interface AuthGuardOptions {
  readonly log: Logger;
  /** Failures per address (within windowMs of each other) answered at once; later ones are delayed. */
  readonly freeFailures?: number;
  readonly windowMs?: number;
  readonly maxDelayMs?: number;
  /** Addresses remembered; the least recently failing are forgotten first. */
  readonly maxAddresses?: number;
}

export interface AuthFailure {
  readonly address: string;
  readonly user: string | undefined;
  readonly path: string;
  /** Which surface: 'http' or a source port number. */
  readonly where: string | number;
}

export class AuthGuard {
  readonly #log: Logger;
  readonly #free: number;
  readonly #windowMs: number;
  readonly #maxDelayMs: number;
  readonly #maxAddresses: number;
  readonly #byAddress = new Map<string, { count: number; last: number }>();
  #failures = 0;
  #delayed = 0;

  constructor(opts: AuthGuardOptions) {
    this.#log = opts.log.child({ component: 'auth' });
    this.#free = opts.freeFailures ?? 5;
    this.#windowMs = opts.windowMs ?? 60_000;
    this.#maxDelayMs = opts.maxDelayMs ?? 10_000;
    this.#maxAddresses = opts.maxAddresses ?? 10_000;
  }

  /** Records a failed login and returns how long (ms) to wait before answering it. */
  failed(f: AuthFailure): number {
    const now = performance.now();
    const prev = this.#byAddress.get(f.address);
    const count = prev && now - prev.last < this.#windowMs ? prev.count + 1 : 1;
    // Re-inserted so the map's order is "least recently failing first" for eviction.
    this.#byAddress.delete(f.address);
    this.#byAddress.set(f.address, { count, last: now });
    if (this.#byAddress.size > this.#maxAddresses) this.#byAddress.delete(this.#byAddress.keys().next().value as string);
    this.#failures++;
    const delayMs = count <= this.#free ? 0 : Math.min(this.#maxDelayMs, 250 * 2 ** (count - this.#free - 1));
    if (delayMs > 0) this.#delayed++;
    this.#log.warn(
      { remote: f.address, user: f.user?.slice(0, 64), path: f.path.slice(0, 200), where: f.where, failures: count, delayMs },
      'authentication failed',
    );
    return delayMs;
  }

  snapshot(): AuthGuardSnapshot {
    const now = performance.now();
    let throttled = 0;
    for (const v of this.#byAddress.values()) if (v.count > this.#free && now - v.last < this.#windowMs) throttled++;
    return { failures: this.#failures, delayed: this.#delayed, throttledAddresses: throttled };
  }
}
