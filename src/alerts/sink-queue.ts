// An outbound sink as a queue with a policy: bounded (the oldest item is dropped and counted past the
// bound), a fixed number of requests in flight, retries with exponential backoff and jitter on what the
// remote says is retryable, a pause when the remote says so (429), and a flush on close with a deadline.
// Nothing here is awaited by the pipeline: `push()` returns at once.
import type { SinkOutcomeKind } from '../types/events.js';

export type { SinkOutcomeKind } from '../types/events.js';

/** What one attempt came to, as the remote said. */
export type SendResult =
  /** Delivered; `pauseUntil` when the remote says nothing more will go through before then (allowance spent). */
  | { readonly ok: true; readonly detail?: string; readonly pauseUntil?: number }
  /** Try again later: 5xx, network errors, timeouts; `pauseUntil` (wall-clock ms) holds the whole queue (429). */
  | { readonly ok: false; readonly retry: true; readonly detail: string; readonly pauseUntil?: number }
  /** Never resend (4xx): counted as failed. */
  | { readonly ok: false; readonly retry: false; readonly detail: string };

export interface SinkOutcome<T> {
  readonly outcome: SinkOutcomeKind;
  readonly item: T;
  readonly attempt: number;
  readonly detail: string;
}

export interface SinkQueueOptions<T> {
  /** Largest number of items waiting (not counting those in flight). */
  readonly maxItems: number;
  readonly concurrency: number;
  /** First retry delay; the later ones double up to `maxRetryMs`, plus up to 50 % jitter. */
  readonly minRetryMs: number;
  readonly maxRetryMs: number;
  /** Attempts per item before it is given up as failed. */
  readonly maxAttempts: number;
  /** Each attempt is aborted after this long (a hanging remote is a retryable failure). */
  readonly timeoutMs: number;
  readonly send: (item: T, signal: AbortSignal) => Promise<SendResult>;
  readonly onOutcome: (o: SinkOutcome<T>) => void;
  readonly random?: () => number;
}

interface Entry<T> {
  readonly item: T;
  attempt: number;
  /** Not before this wall-clock time. */
  notBefore: number;
}

export class SinkQueue<T> {
  readonly #o: SinkQueueOptions<T>;
  readonly #waiting: Entry<T>[] = [];
  readonly #inFlight = new Set<AbortController>();
  #pauseUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #idle: (() => void)[] = [];

  constructor(opts: SinkQueueOptions<T>) {
    this.#o = opts;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Queue an item; never blocks. Past the bound the oldest waiting item is dropped and reported. */
  push(item: T): void {
    if (this.#closed) {
      this.#o.onOutcome({ outcome: 'dropped', item, attempt: 0, detail: 'closed' });
      return;
    }
    this.#waiting.push({ item, attempt: 0, notBefore: 0 });
    while (this.#waiting.length > this.#o.maxItems) {
      const old = this.#waiting.shift() as Entry<T>;
      this.#o.onOutcome({ outcome: 'dropped', item: old.item, attempt: old.attempt, detail: 'queue full' });
    }
    this.#pump();
  }

  /**
   * Stop taking items, try to deliver what is queued until `deadlineMs` has passed, then abort what is
   * in flight and drop (and report) what is left. Idempotent.
   */
  async close(deadlineMs: number): Promise<void> {
    this.#closed = true;
    if (this.#waiting.length > 0 || this.#inFlight.size > 0) {
      // Retries waiting for a later time are tried once more now: there is no later.
      for (const e of this.#waiting) e.notBefore = 0;
      this.#pauseUntil = Math.min(this.#pauseUntil, Date.now());
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<void>((resolve) => this.#idle.push(resolve));
      this.#pump();
      await Promise.race([idle, new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)))]);
      clearTimeout(timer);
      this.#idle = [];
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const ctrl of this.#inFlight) ctrl.abort(new Error('shutdown'));
    for (const e of this.#waiting.splice(0))
      this.#o.onOutcome({ outcome: 'dropped', item: e.item, attempt: e.attempt, detail: 'shutdown' });
  }

  #pump(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const now = Date.now();
    if (now < this.#pauseUntil) return this.#wake(this.#pauseUntil - now);
    let nextAt = Infinity;
    for (let i = 0; i < this.#waiting.length && this.#inFlight.size < this.#o.concurrency;) {
      const e = this.#waiting[i] as Entry<T>;
      if (e.notBefore > now) {
        nextAt = Math.min(nextAt, e.notBefore);
        i++;
        continue;
      }
      this.#waiting.splice(i, 1);
      this.#attempt(e);
    }
    if (nextAt !== Infinity) this.#wake(nextAt - now);
    if (this.#waiting.length === 0 && this.#inFlight.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  #wake(ms: number): void {
    if (this.#closed && this.#idle.length === 0) return;
    this.#timer = setTimeout(() => this.#pump(), Math.max(0, ms));
    // A queue waiting to retry must not keep the process alive on its own.
    this.#timer.unref();
  }

  #attempt(e: Entry<T>): void {
    const ctrl = new AbortController();
    this.#inFlight.add(ctrl);
    e.attempt++;
    const timeout = setTimeout(() => ctrl.abort(new Error(`timed out after ${this.#o.timeoutMs} ms`)), this.#o.timeoutMs);
    const done = (r: SendResult): void => {
      clearTimeout(timeout);
      this.#inFlight.delete(ctrl);
      this.#settle(e, r);
      this.#pump();
    };
    this.#o.send(e.item, ctrl.signal).then(done, (err: unknown) => {
      const why = ctrl.signal.aborted ? String((ctrl.signal.reason as Error | undefined)?.message ?? 'aborted') : errorText(err);
      done({ ok: false, retry: true, detail: why });
    });
  }

  #settle(e: Entry<T>, r: SendResult): void {
    const report = (outcome: SinkOutcomeKind, detail: string): void =>
      this.#o.onOutcome({ outcome, item: e.item, attempt: e.attempt, detail });
    if (r.ok) {
      if (r.pauseUntil !== undefined) this.#pauseUntil = Math.max(this.#pauseUntil, r.pauseUntil);
      return report('sent', r.detail ?? 'ok');
    }
    if (!r.retry) return report('failed', r.detail);
    if (e.attempt >= this.#o.maxAttempts) return report('failed', `${r.detail} (gave up after ${e.attempt} attempts)`);
    if (this.#closed && this.#idle.length === 0) return report('dropped', `${r.detail} (shutdown)`);
    if (r.pauseUntil !== undefined) this.#pauseUntil = Math.max(this.#pauseUntil, r.pauseUntil);
    e.notBefore = Date.now() + this.retryDelay(e.attempt);
    report('retrying', r.detail);
    // Back at the head: a retried alert keeps its place before newer ones.
    this.#waiting.unshift(e);
    while (this.#waiting.length > this.#o.maxItems) {
      const old = this.#waiting.shift() as Entry<T>;
      this.#o.onOutcome({ outcome: 'dropped', item: old.item, attempt: old.attempt, detail: 'queue full' });
    }
  }

  /** Delay before attempt `attempt + 1`: never below `minRetryMs`, doubling, capped, with up to 50 % jitter. */
  retryDelay(attempt: number): number {
    const base = Math.min(this.#o.maxRetryMs, this.#o.minRetryMs * 2 ** Math.max(0, attempt - 1));
    return Math.round(base * (1 + 0.5 * (this.#o.random ?? Math.random)()));
  }
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ? `${err.message} (${cause.code})` : err.message;
  }
  return String(err);
}
