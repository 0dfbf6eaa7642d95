// Blocking requests (LL-HLS playlist reloads and preload-hinted parts) parked until the part they ask
// for is published: bounded in number and in time, checked on every publish and by one shared sweep timer.

export type WaitResult = 'ready' | 'timeout' | 'closed';

interface Waiter {
  readonly ready: () => boolean;
  readonly deadline: number;
  readonly resolve: (r: WaitResult) => void;
}

export class Waiters {
  readonly #set = new Set<Waiter>();
  readonly #max: number;
  readonly #sweepMs: number;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(max: number, sweepMs = 100) {
    this.#max = max;
    this.#sweepMs = sweepMs;
  }

  get size(): number {
    return this.#set.size;
  }

  /**
   * Resolves 'ready' as soon as `ready()` holds (at once if it already does), 'timeout' after `timeoutMs`,
   * 'closed' on close() or when `signal` aborts. Returns undefined when too many requests are parked.
   */
  wait(ready: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<WaitResult> | undefined {
    if (ready()) return Promise.resolve('ready');
    if (this.#closed) return Promise.resolve('closed');
    if (this.#set.size >= this.#max) return undefined;
    return new Promise((resolve) => {
      const waiter: Waiter = {
        ready,
        deadline: performance.now() + timeoutMs,
        resolve: (r) => {
          if (!this.#set.delete(waiter)) return;
          signal?.removeEventListener('abort', onAbort);
          resolve(r);
        },
      };
      const onAbort = (): void => waiter.resolve('closed');
      this.#set.add(waiter);
      // One timer for all waiters rather than one per request (10,000 parked players must stay cheap),
      // running only while someone waits.
      if (!this.#timer) {
        this.#timer = setInterval(() => this.#sweep(), this.#sweepMs);
        this.#timer.unref();
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Call after every publish. */
  notify(): void {
    for (const w of this.#set) if (w.ready()) w.resolve('ready');
  }

  #sweep(): void {
    const now = performance.now();
    for (const w of this.#set) if (w.deadline <= now) w.resolve('timeout');
    if (this.#set.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const w of this.#set) w.resolve('closed');
  }
}
