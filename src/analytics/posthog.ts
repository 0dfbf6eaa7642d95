// PostHog delivery through posthog-node, whose queue is the policy: bounded (`maxQueueSize`, the
// oldest dropped), batched (up to 100 events a gzip request), retried (3 times, 3 s apart, on
// 5xx/408/429 and network errors; a batch that meets a network error stays queued for the next flush,
// one that still fails with an HTTP error is given up). We call its flush ourselves (every 10 s or at
// 20 events, and on close with a deadline) so failures land in our log as JSON instead of on the
// console, and watch its requests through its `fetch` option to count what was sent, retried, failed
// and dropped.
import { gunzipSync } from 'node:zlib';
import { PostHog } from 'posthog-node';
import type { Logger } from 'pino';
import { errorText, type SinkOutcomeKind } from '../alerts/sink-queue.js';
import type { Capture } from './capture.js';

export interface PosthogOutcome {
  readonly outcome: SinkOutcomeKind;
  readonly items: number;
  readonly detail: string;
}

export interface PosthogSinkOptions {
  readonly key: string;
  readonly host: string;
  readonly maxQueueSize: number;
  readonly log: Logger;
  readonly onOutcome: (o: PosthogOutcome) => void;
  /** Tests shorten these; production keeps posthog-node's defaults. */
  readonly flushIntervalMs?: number;
  readonly flushAt?: number;
  readonly retryDelayMs?: number;
  readonly requestTimeoutMs?: number;
}

export interface PosthogSink {
  capture(c: Capture): void;
  /** Events captured and not yet sent or given up (an estimate kept from the client's own reports). */
  readonly queued: number;
  close(deadlineMs: number): Promise<void>;
}

type PosthogFetch = NonNullable<NonNullable<ConstructorParameters<typeof PostHog>[1]>['fetch']>;

const RETRYABLE = (status: number): boolean => status === 408 || status === 429 || status === 413 || status >= 500;

export function createPosthogSink(o: PosthogSinkOptions): PosthogSink {
  let queued = 0;
  let lastBatch = 0;
  const settle = (n: number): void => {
    queued = Math.max(0, queued - n);
  };
  // Sees every request posthog-node makes, so each attempt is counted with the number of events in it.
  const watchedFetch = async (url: string, init: RequestInit & { body?: unknown }): Promise<Response> => {
    const items = batchSize(init);
    lastBatch = items;
    try {
      const res = await fetch(url, init as RequestInit);
      if (res.ok) {
        settle(items);
        o.onOutcome({ outcome: 'sent', items, detail: String(res.status) });
      } else if (RETRYABLE(res.status)) {
        o.onOutcome({ outcome: 'retrying', items, detail: String(res.status) });
      } else {
        settle(items);
        o.onOutcome({ outcome: 'failed', items, detail: String(res.status) });
        o.log.warn({ status: res.status, events: items }, 'PostHog refused a batch; it is not resent');
      }
      return res;
    } catch (err) {
      o.onOutcome({ outcome: 'retrying', items, detail: errorText(err) });
      throw err;
    }
  };
  const client = new PostHog(o.key, {
    host: o.host,
    // Its own triggers off: a background flush that fails prints to the console. `flushAt` equal to
    // the bound means it only flushes by itself when the queue is full.
    flushAt: o.maxQueueSize,
    flushInterval: 0,
    maxBatchSize: 100,
    maxQueueSize: o.maxQueueSize,
    requestTimeout: o.requestTimeoutMs ?? 10_000,
    fetchRetryCount: 3,
    fetchRetryDelay: o.retryDelayMs ?? 3000,
    // Node's fetch Response satisfies posthog-node's PostHogFetchResponse; its types just do not say so.
    fetch: watchedFetch as unknown as PosthogFetch,
  });
  client.on('error', (err: unknown) => {
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number' && RETRYABLE(status) && status !== 413) {
      // Retries exhausted on an HTTP error: posthog-node has taken the batch off its queue.
      settle(lastBatch);
      o.onOutcome({ outcome: 'failed', items: lastBatch, detail: `${status} (gave up after retries)` });
      o.log.warn({ status, events: lastBatch }, 'PostHog batch given up after retries');
    } else if (typeof status !== 'number') {
      o.log.warn({ err: errorText(err) }, 'PostHog unreachable; events stay queued for the next flush');
    }
  });
  let closing: Promise<void> | undefined;
  let flushing: Promise<void> | undefined;
  const flush = (): Promise<void> =>
    (flushing ??= client
      .flush()
      .catch(() => undefined) // each attempt is already counted and logged by the watcher
      .finally(() => (flushing = undefined)));
  const flushAt = o.flushAt ?? 20;
  // Drops are reported in sums (10,000 listeners leaving at once must not make 9,000 log lines).
  let dropped = 0;
  const reportDrops = (detail: string): void => {
    if (dropped === 0) return;
    o.onOutcome({ outcome: 'dropped', items: dropped, detail });
    o.log.warn({ events: dropped, detail }, 'PostHog events dropped');
    dropped = 0;
  };
  const timer = setInterval(() => {
    reportDrops('queue full');
    if (queued > 0) void flush();
  }, o.flushIntervalMs ?? 10_000);
  timer.unref();
  return {
    capture(c) {
      if (closing) return;
      if (queued >= o.maxQueueSize) {
        // posthog-node drops its oldest event to make room; count it here, where we can.
        queued--;
        dropped++;
      }
      queued++;
      client.capture({ distinctId: c.distinctId, event: c.event, properties: { ...c.properties }, timestamp: c.timestamp });
      if (queued >= flushAt) void flush();
    },
    get queued() {
      return queued;
    },
    close(deadlineMs) {
      return (closing ??= (async () => {
        clearInterval(timer);
        reportDrops('queue full');
        let deadline: NodeJS.Timeout | undefined;
        let expired = false;
        const drain = async (): Promise<void> => {
          // Flush until everything is out, the deadline passes, or a flush makes no progress (PostHog down).
          while (queued > 0 && !expired) {
            const before = queued;
            await flush();
            if (queued >= before) break;
          }
        };
        const timeUp = new Promise<void>((resolve) => {
          deadline = setTimeout(() => {
            expired = true;
            resolve();
          }, deadlineMs);
        });
        await Promise.race([drain(), timeUp]);
        clearTimeout(deadline);
        // With nothing left, shutdown returns at once (and quietly); with events left it would flush again.
        if (queued === 0) await client.shutdown(deadlineMs).catch(() => undefined);
        dropped = queued;
        queued = 0;
        reportDrops('shutdown');
      })());
    },
  };
}

/** Events in a /batch/ body (gzip or plain JSON); 0 when it cannot be read. */
function batchSize(init: { body?: unknown; headers?: unknown }): number {
  try {
    const body = init.body;
    let text: string;
    if (typeof body === 'string') text = body;
    else if (body instanceof Uint8Array) text = isGzip(body) ? gunzipSync(body).toString('utf8') : Buffer.from(body).toString('utf8');
    else if (body instanceof ArrayBuffer) return batchSize({ body: new Uint8Array(body) });
    else return 0;
    const parsed = JSON.parse(text) as { batch?: unknown };
    return Array.isArray(parsed.batch) ? parsed.batch.length : 0;
  } catch {
    return 0;
  }
}

const isGzip = (b: Uint8Array): boolean => b.length > 2 && b[0] === 0x1f && b[1] === 0x8b;
