// Arrival-jitter measurement for one input: each block's arrival time against the time it would
// arrive at the nominal sample rate. The spread (p95 − min) over the last window is the depth needed
// to ride out the uplink's and the decoder's burstiness. Bounded: a fixed-size ring of arrivals.
import { SAMPLE_RATE } from '../types/pcm.js';

const WINDOW_MS = 15_000;
const MAX_ENTRIES = 2048;
const RECOMPUTE_MS = 500;
/**
 * Arrivals in the first moments of a connection are left out: a client's connect backlog, TCP slow
 * start and the decoder's start-up arrive as one burst that says nothing about the uplink's jitter,
 * and counted it would hold the target near a second for the whole window.
 */
const WARM_UP_MS = 1500;

export class JitterEstimator {
  readonly #times = new Float64Array(MAX_ENTRIES);
  readonly #lateness = new Float64Array(MAX_ENTRIES);
  /**
   * Where the window is copied to be sorted: a typed array sorts natively, with no comparator and no
   * garbage (a number[] and its comparator sort here made ~0.6 MB/s of the server's ~1.35 MB/s of
   * allocation at idle, two inputs sorting twice a second).
   */
  readonly #scratch = new Float64Array(MAX_ENTRIES);
  #count = 0;
  #head = 0;
  #samples = 0;
  #spread = 0;
  #computedAt = -Infinity;
  #firstAt: number | undefined;

  reset(): void {
    this.#firstAt = undefined;
    this.#count = 0;
    this.#head = 0;
    this.#samples = 0;
    this.#spread = 0;
    this.#computedAt = -Infinity;
  }

  arrived(nowMs: number, samples: number): void {
    this.#firstAt ??= nowMs;
    if (nowMs - this.#firstAt < WARM_UP_MS) return;
    // Lateness of the block's last sample relative to a nominal-rate timeline starting at zero.
    this.#samples += samples;
    this.#times[this.#head] = nowMs;
    this.#lateness[this.#head] = nowMs - (this.#samples * 1000) / SAMPLE_RATE;
    this.#head = (this.#head + 1) % MAX_ENTRIES;
    this.#count = Math.min(MAX_ENTRIES, this.#count + 1);
  }

  get spreadMs(): number {
    return this.#spread;
  }

  /** The spread, recomputed at most every RECOMPUTE_MS (it sorts the window). */
  spreadAt(nowMs: number): number {
    if (nowMs - this.#computedAt < RECOMPUTE_MS) return this.#spread;
    this.#computedAt = nowMs;
    let n = 0;
    for (let i = 0; i < this.#count; i++) {
      const idx = (this.#head - 1 - i + MAX_ENTRIES) % MAX_ENTRIES;
      if (nowMs - (this.#times[idx] ?? 0) > WINDOW_MS) break;
      this.#scratch[n++] = this.#lateness[idx] ?? 0;
    }
    if (n < 4) return this.#spread;
    const values = this.#scratch.subarray(0, n).sort();
    const min = values[0] ?? 0;
    const p95 = values[Math.min(n - 1, Math.floor(n * 0.95))] ?? min;
    this.#spread = p95 - min;
    return this.#spread;
  }
}
