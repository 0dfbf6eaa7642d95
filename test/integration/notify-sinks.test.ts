// The outbound sinks against local servers that speak the services' wire protocols: Pushover's
// answers 200, 500, 429 and 400 in turn; a webhook receiver checking signatures; PostHog's /batch/
// driven by the real posthog-node (gzip), up, failing, hanging and unreachable.
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { sendPushover, PUSHOVER_LIMITS } from '../../src/alerts/pushover.js';
import type { Alert } from '../../src/alerts/rules.js';
import { SinkQueue, type SinkOutcome } from '../../src/alerts/sink-queue.js';
import { sendWebhook, sign, webhookBody } from '../../src/alerts/webhook.js';
import { createPosthogSink, type PosthogOutcome } from '../../src/analytics/posthog.js';
import { startPosthogServer, startPushoverServer, startWebhookServer, type LocalServer } from '../helpers/notify-servers.js';
import { sleep, waitFor } from '../helpers/programme.js';

const log = pino({ level: 'silent' });
const TOKEN = 'a'.repeat(30);
const USER = 'u'.repeat(30);
const owned: LocalServer[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
  await Promise.all(owned.splice(0).map((s) => s.close()));
});

function alert(n: number, over: Partial<Alert> = {}): Alert {
  return {
    incident: `i${n}`,
    kind: 'failover',
    phase: 'open',
    title: `Radio: alert ${n}`,
    message: `message ${n}`,
    priority: 0,
    at: Date.now(),
    count: 1,
    ...over,
  };
}

function pushoverQueue(api: string, minRetryMs: number) {
  const outcomes: SinkOutcome<Alert>[] = [];
  const q = new SinkQueue<Alert>({
    maxItems: 10,
    concurrency: 2,
    minRetryMs,
    maxRetryMs: 10_000,
    maxAttempts: 5,
    timeoutMs: 2000,
    send: (a, signal) => sendPushover({ api, token: TOKEN, user: USER }, a, signal, () => undefined),
    onOutcome: (o) => outcomes.push(o),
  });
  closers.push(() => q.close(500));
  return { q, outcomes };
}

describe('Pushover', () => {
  it('answers 200, 500, 429 and 400 in turn: sent, retried after the delay, paused until the reset, never resent', async () => {
    const server = await startPushoverServer([{ status: 200 }]);
    owned.push(server);
    const { q, outcomes } = pushoverQueue(server.url, 400);
    const of = (title: string): string[] => outcomes.filter((o) => o.item.title === title).map((o) => o.outcome);

    q.push(alert(1));
    await waitFor(() => of('Radio: alert 1').includes('sent'), 'alert 1 sent');
    expect(server.requests[0]?.form).toMatchObject({
      token: TOKEN,
      user: USER,
      title: 'Radio: alert 1',
      message: 'message 1',
      priority: '0',
    });

    server.replies = [{ status: 500 }, { status: 200 }];
    q.push(alert(2));
    await waitFor(() => of('Radio: alert 2').includes('sent'), 'alert 2 sent after a retry');
    expect(of('Radio: alert 2')).toEqual(['retrying', 'sent']);
    const two = server.requests.filter((r) => r.form.title === 'Radio: alert 2');
    expect((two[1]?.at ?? 0) - (two[0]?.at ?? 0)).toBeGreaterThanOrEqual(380);

    // 429: the monthly limit is spent until the reset (2 s from now): nothing is sent before then.
    server.replies = [{ status: 429, resetInS: 2, remaining: 0 }, { status: 200 }];
    const t429 = Date.now();
    q.push(alert(3));
    await waitFor(() => of('Radio: alert 3').includes('retrying'), 'alert 3 paused');
    q.push(alert(4));
    await waitFor(
      () => of('Radio: alert 3').includes('sent') && of('Radio: alert 4').includes('sent'),
      'alerts 3 and 4 after the reset',
      10_000,
    );
    const after = server.requests.filter((r) => r.at > t429 && r.status === 200);
    expect(Math.min(...after.map((r) => r.at)) - t429).toBeGreaterThanOrEqual(900);

    server.replies = [{ status: 400, errors: ['user identifier is not a valid user, group, or subscribed user key'] }];
    q.push(alert(5));
    await waitFor(() => of('Radio: alert 5').length > 0, 'alert 5 answered');
    await sleep(1000);
    expect(of('Radio: alert 5')).toEqual(['failed']);
    expect(outcomes.find((o) => o.item.title === 'Radio: alert 5')?.detail).toContain('not a valid user');
    expect(server.requests.filter((r) => r.form.title === 'Radio: alert 5')).toHaveLength(1);
  });

  it('the last message of the allowance (X-Limit-App-Remaining: 0): the next waits for the reset instead of meeting a 429', async () => {
    const server = await startPushoverServer([{ status: 200, remaining: 0, resetInS: 2 }, { status: 200 }]);
    owned.push(server);
    const { q, outcomes } = pushoverQueue(server.url, 400);
    q.push(alert(1));
    await waitFor(() => outcomes.length === 1, 'first sent');
    const t0 = Date.now();
    q.push(alert(2));
    await waitFor(() => outcomes.length === 2, 'second sent after the reset', 10_000);
    expect(outcomes.map((o) => o.outcome)).toEqual(['sent', 'sent']);
    expect((server.requests[1]?.at ?? 0) - t0).toBeGreaterThanOrEqual(900);
  });

  it('never more than two requests at a time, and the message limits are respected', async () => {
    const server = await startPushoverServer([{ status: 200, delayMs: 150 }]);
    owned.push(server);
    const { q, outcomes } = pushoverQueue(server.url, 400);
    for (let i = 0; i < 6; i++) q.push(alert(i, { title: 'T'.repeat(400), message: 'é'.repeat(3000) }));
    await waitFor(() => outcomes.filter((o) => o.outcome === 'sent').length === 6, 'six sent');
    expect(server.maxConcurrent()).toBe(2);
    for (const r of server.requests) {
      expect([...(r.form.title ?? '')].length).toBeLessThanOrEqual(PUSHOVER_LIMITS.title);
      expect([...(r.form.message ?? '')].length).toBeLessThanOrEqual(PUSHOVER_LIMITS.message);
    }
  });

  it('retries wait at least 5 s by default, doubling with jitter', () => {
    const q = new SinkQueue<Alert>({
      maxItems: 1,
      concurrency: 2,
      minRetryMs: 5000,
      maxRetryMs: 300_000,
      maxAttempts: 8,
      timeoutMs: 1000,
      send: () => Promise.resolve({ ok: true }),
      onOutcome: () => undefined,
      random: () => 0.999,
    });
    expect(q.retryDelay(1)).toBeGreaterThanOrEqual(5000);
    expect(q.retryDelay(1)).toBeLessThan(7500);
    expect(q.retryDelay(3)).toBeGreaterThanOrEqual(20_000);
    expect(q.retryDelay(20)).toBeLessThanOrEqual(450_000);
  });

  it('a hanging Pushover: the queue stays bounded, the oldest is dropped and counted, close keeps its deadline', async () => {
    const server = await startPushoverServer([{ status: 200, hang: true }]);
    owned.push(server);
    const outcomes: SinkOutcome<Alert>[] = [];
    const q = new SinkQueue<Alert>({
      maxItems: 5,
      concurrency: 2,
      minRetryMs: 5000,
      maxRetryMs: 10_000,
      maxAttempts: 3,
      timeoutMs: 60_000,
      send: (a, signal) => sendPushover({ api: server.url, token: TOKEN, user: USER }, a, signal, () => undefined),
      onOutcome: (o) => outcomes.push(o),
    });
    for (let i = 0; i < 50; i++) q.push(alert(i));
    expect(q.waiting).toBe(5);
    expect(q.inFlight).toBe(2);
    expect(outcomes.filter((o) => o.outcome === 'dropped' && o.detail === 'queue full')).toHaveLength(43);
    const t0 = Date.now();
    await q.close(300);
    expect(Date.now() - t0).toBeLessThan(2000);
    await waitFor(() => outcomes.filter((o) => o.outcome === 'dropped').length === 50, 'everything accounted for');
  });
});

describe('webhooks', () => {
  it('each alert is POSTed as JSON signed with HMAC-SHA256 of the body; 5xx retried, 4xx not', async () => {
    const secret = 'webhook-secret';
    const hook = await startWebhookServer(secret, [200]);
    owned.push(hook);
    const outcomes: SinkOutcome<Alert>[] = [];
    const q = new SinkQueue<Alert>({
      maxItems: 10,
      concurrency: 2,
      minRetryMs: 200,
      maxRetryMs: 1000,
      maxAttempts: 5,
      timeoutMs: 2000,
      send: (a, signal) => sendWebhook(hook.url, secret, webhookBody('Radio', a), signal),
      onOutcome: (o) => outcomes.push(o),
    });
    closers.push(() => q.close(500));
    q.push(alert(1, { priority: 1, kind: 'outage', incident: 'outage' }));
    await waitFor(() => outcomes.some((o) => o.outcome === 'sent'), 'sent');
    expect(hook.deliveries[0]?.signatureValid).toBe(true);
    expect(hook.deliveries[0]?.body).toMatchObject({
      type: 'alert',
      station: 'Radio',
      incident: 'outage',
      kind: 'outage',
      phase: 'open',
      title: 'Radio: alert 1',
      priority: 1,
      content: 'Radio: alert 1\nmessage 1',
      text: 'Radio: alert 1\nmessage 1',
    });
    hook.statuses = [502, 200];
    q.push(alert(2));
    await waitFor(() => outcomes.filter((o) => o.outcome === 'sent').length === 2, 'second sent after a retry');
    hook.statuses = [410];
    q.push(alert(3));
    await waitFor(() => outcomes.some((o) => o.outcome === 'failed'), 'third refused');
    await sleep(600);
    expect(hook.deliveries.filter((d) => d.body.title === 'Radio: alert 3')).toHaveLength(1);
    expect(hook.deliveries.every((d) => d.signatureValid)).toBe(true);
  });

  it('the signature is the hex HMAC-SHA256 of the exact body', () => {
    expect(sign('key', 'The quick brown fox jumps over the lazy dog')).toBe(
      'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
  });
});

describe('PostHog through posthog-node', () => {
  function sink(host: string, over: { maxQueueSize?: number; requestTimeoutMs?: number } = {}) {
    const outcomes: PosthogOutcome[] = [];
    const s = createPosthogSink({
      key: 'phc_test_key',
      host,
      maxQueueSize: over.maxQueueSize ?? 1000,
      log,
      onOutcome: (o) => outcomes.push(o),
      flushIntervalMs: 200,
      flushAt: 20,
      retryDelayMs: 100,
      requestTimeoutMs: over.requestTimeoutMs ?? 2000,
    });
    closers.push(() => s.close(1000));
    return { s, outcomes };
  }
  const capture = (i: number) => ({ event: 'listener session', distinctId: `id-${i}`, properties: { n: i }, timestamp: new Date() });

  it('batches arrive gzip-compressed at /batch/ with the key, events and properties', async () => {
    const ph = await startPosthogServer('ok');
    owned.push(ph);
    const { s, outcomes } = sink(ph.url);
    for (let i = 0; i < 25; i++) s.capture(capture(i));
    await waitFor(() => ph.events().length === 25, 'all 25 events');
    // The server has the events before the client has read its answer and reported the outcome.
    const sent = (): number => outcomes.filter((o) => o.outcome === 'sent').reduce((n, o) => n + o.items, 0);
    await waitFor(() => sent() >= 25, 'outcomes reported');
    expect(ph.batches.every((b) => b.gzip && b.apiKey === 'phc_test_key')).toBe(true);
    expect(ph.events().map((e) => e.distinct_id)).toEqual(Array.from({ length: 25 }, (_, i) => `id-${i}`));
    expect(ph.events()[3]).toMatchObject({ event: 'listener session', properties: { n: 3 } });
    expect(sent()).toBe(25);
    expect(s.queued).toBe(0);
  });

  it('PostHog answering 503: retried, then given up and counted as failed', async () => {
    const ph = await startPosthogServer('error');
    owned.push(ph);
    const { s, outcomes } = sink(ph.url);
    for (let i = 0; i < 3; i++) s.capture(capture(i));
    await waitFor(() => outcomes.some((o) => o.outcome === 'failed'), 'given up', 10_000);
    expect(ph.requests).toBe(4); // 1 + fetchRetryCount 3
    expect(outcomes.filter((o) => o.outcome === 'retrying')).toHaveLength(4);
    expect(outcomes.find((o) => o.outcome === 'failed')).toMatchObject({ items: 3 });
    expect(s.queued).toBe(0);
  });

  it('PostHog unreachable for long: the queue stays bounded, the oldest are dropped and counted', async () => {
    const ph = await startPosthogServer('ok');
    const url = ph.url;
    await ph.close(); // nothing listens there now: connection refused
    const { s, outcomes } = sink(url, { maxQueueSize: 50 });
    for (let i = 0; i < 500; i++) s.capture(capture(i));
    expect(s.queued).toBeLessThanOrEqual(50);
    // Drops are reported in sums, on the next flush tick.
    await waitFor(() => outcomes.some((o) => o.outcome === 'dropped'), 'drops reported');
    expect(outcomes.filter((o) => o.outcome === 'dropped')).toEqual([{ outcome: 'dropped', items: 450, detail: 'queue full' }]);
    const t0 = Date.now();
    await s.close(500);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(outcomes.filter((o) => o.outcome === 'dropped').reduce((n, o) => n + o.items, 0)).toBe(500);
  });

  it('PostHog hanging: close returns within its deadline and counts what was not delivered', async () => {
    const ph = await startPosthogServer('hang');
    owned.push(ph);
    const { s, outcomes } = sink(ph.url, { requestTimeoutMs: 30_000 });
    for (let i = 0; i < 5; i++) s.capture(capture(i));
    await waitFor(() => ph.requests > 0, 'a request hangs');
    const t0 = Date.now();
    await s.close(500);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(outcomes.find((o) => o.outcome === 'dropped')).toMatchObject({ items: 5, detail: 'shutdown' });
  });
});
