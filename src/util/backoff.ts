// Capped exponential backoff for restarting children: 0.25 s, 0.5 s, 1 s … up to `maxMs`, reset
// after the child has run `stableMs` without dying, so one crash an hour never waits the maximum.
export class Backoff {
  #attempt = 0;
  #lastStart = 0;

  constructor(
    private readonly baseMs = 250,
    private readonly maxMs = 10_000,
    private readonly stableMs = 30_000,
  ) {}

  /** Call when the child starts. */
  started(now = performance.now()): void {
    this.#lastStart = now;
  }

  /** Delay before the next start, after a death at `now`. */
  next(now = performance.now()): number {
    if (this.#lastStart > 0 && now - this.#lastStart >= this.stableMs) this.#attempt = 0;
    const delay = Math.min(this.maxMs, this.baseMs * 2 ** this.#attempt);
    this.#attempt++;
    return delay;
  }

  get attempts(): number {
    return this.#attempt;
  }
}
