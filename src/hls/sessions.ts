// Counts HLS listeners: HLS has no connection per listener, so a session is a key (the `sid` query
// parameter, else address + user agent) seen within a time-to-live of two target durations.

export class SessionCounter {
  readonly #seen = new Map<string, number>();
  readonly #ttlMs: number;
  readonly #maxKeys: number;
  #started = 0;

  constructor(ttlMs: number, maxKeys = 200_000) {
    this.#ttlMs = ttlMs;
    this.#maxKeys = maxKeys;
  }

  touch(key: string, now = performance.now()): void {
    const last = this.#seen.get(key);
    if (last === undefined || now - last > this.#ttlMs) this.#started++;
    // Re-insert so the Map stays ordered by last sight: pruning then stops at the first live key.
    this.#seen.delete(key);
    this.#seen.set(key, now);
    if (this.#seen.size > this.#maxKeys) this.prune(now, true);
  }

  /** Drops expired keys; `force` also drops the oldest live ones when the map is over its bound. */
  prune(now = performance.now(), force = false): void {
    for (const [key, t] of this.#seen) {
      const over = force && this.#seen.size > this.#maxKeys;
      if (now - t <= this.#ttlMs && !over) break;
      this.#seen.delete(key);
    }
  }

  active(now = performance.now()): number {
    this.prune(now);
    return this.#seen.size;
  }

  /** Sessions started since creation (a key returning after its TTL counts again). */
  get started(): number {
    return this.#started;
  }
}
