// The observer alone, fed a flood of events through a real TypedEmitter while every service hangs:
// emitting never waits, the queues stay at their bounds, memory stays flat, close keeps its deadline.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { AntennaSnapshot } from '../../src/app.js';
import { createAnalytics } from '../../src/analytics/index.js';
import { loadConfig } from '../../src/config/load.js';
import type { AntennaEvents, NotifierEvents } from '../../src/types/events.js';
import { TypedEmitter } from '../../src/util/typed-emitter.js';
import { startPosthogServer, startPushoverServer, startWebhookServer, type LocalServer } from '../helpers/notify-servers.js';

// A real collection before each heap reading, or garbage would read as growth.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const servers: LocalServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Just what the observer reads from a snapshot. */
const snapshot = (): AntennaSnapshot =>
  ({
    at: Date.now(),
    mixer: { onAir: 'primary' },
    mounts: { listeners: 0, mounts: [] },
    hls: { sessions: 0 },
  }) as unknown as AntennaSnapshot;

describe('the analytics observer under a flood', () => {
  it('50,000 listener sessions and 2,000 alerts with every service hanging: bounded queues, flat memory, close within its deadline', async () => {
    const posthog = await startPosthogServer('hang');
    const pushover = await startPushoverServer([{ status: 200, hang: true }]);
    const hook = await startWebhookServer('s', [200]);
    servers.push(posthog, pushover, hook);
    hook.statuses = [200];
    const config = loadConfig({
      env: {},
      overrides: {
        posthogKey: 'phc_x',
        posthogHost: posthog.url,
        posthogQueueSize: 1000,
        pushoverToken: 'a'.repeat(30),
        pushoverUser: 'b'.repeat(30),
        pushoverApi: pushover.url,
        webhookUrls: pushover.url.replace(/\/$/, '') + '/1/messages.json', // hangs as well
        sinkQueueSize: 50,
        sinkFlushSeconds: 1,
        alertsPerHour: 10_000,
      },
    });
    const events = new TypedEmitter<AntennaEvents>();
    const reported: { name: keyof NotifierEvents }[] = [];
    const analytics = await createAnalytics({
      config,
      log: pino({ level: 'silent' }),
      events,
      snapshot,
      report: (name) => void reported.push({ name }),
    });
    let n = 0;
    const flood = async (): Promise<void> => {
      n++;
      for (let i = 0; i < 50_000; i++) {
        events.emit('listener-disconnected', {
          at: Date.now(),
          id: String(i),
          protocol: 'icecast',
          mount: '/listen/live.mp3',
          remoteAddress: `10.0.${(i >> 8) & 255}.${i & 255}`,
          userAgent: 'VLC/3.0.18 LibVLC/3.0.18',
          durationMs: 60_000,
          bytes: 1_000_000,
          reason: 'closed',
        });
      }
      for (let i = 0; i < 1000; i++) {
        events.emit('switch', { at: Date.now(), from: 'primary', to: 'emergency', reason: 'disconnected' });
        events.emit('switch', { at: Date.now(), from: 'emergency', to: 'primary', reason: 'returned' });
        // The switches stay one outage incident (it settles only after a minute); an encoder dying three
        // times is an alert of its own: 1,000 alerts per flood for the hanging Pushover and webhook.
        for (let d = 0; d < 3; d++) {
          events.emit('encoder-died', {
            at: Date.now(),
            key: `enc-${n}-${i}`,
            fault: { code: 'FFMPEG_DIED', fatal: false, message: 'x' },
            pid: 1,
            stderrTail: [],
          });
        }
      }
      await new Promise((r) => setImmediate(r));
    };
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    await flood();
    const emitMs = performance.now() - t0;
    await flood();
    await new Promise((r) => setTimeout(r, 200));
    gc();
    const heapAfter = process.memoryUsage().heapUsed;
    const snap = analytics.snapshot();
    expect(snap.posthog.queued).toBeLessThanOrEqual(1000);
    expect(snap.pushover.waiting).toBeLessThanOrEqual(50);
    expect(snap.pushover.inFlight).toBeLessThanOrEqual(2);
    for (const w of snap.webhooks) expect(w.waiting).toBeLessThanOrEqual(50);
    expect(snap.recent.length).toBeLessThanOrEqual(50);
    // Generous: the point is "bounded", not a figure (100,000 sessions went in).
    expect(heapAfter - heapBefore).toBeLessThan(64 * 1024 * 1024);
    expect(emitMs).toBeLessThan(20_000);
    const c0 = Date.now();
    await analytics.close();
    expect(Date.now() - c0).toBeLessThan(5000);
    const after = analytics.snapshot();
    const dropped = after.counters.filter((c) => c.sink === 'posthog' && c.outcome === 'dropped').reduce((n, c) => n + c.items, 0);
    // Every capture accounted for (none got through the hanging server): 100,000 sessions and, per
    // switch pair, failover + emergency on air + return + emergency off air.
    expect(dropped).toBe(100_000 + 2 * 1000 * 4);
    expect(reported.some((r) => r.name === 'sink-outcome')).toBe(true);
    expect(reported.filter((r) => r.name === 'alert-raised').length).toBeGreaterThanOrEqual(2000);
    const alertDrops = after.counters.filter((c) => c.sink !== 'posthog' && c.outcome === 'dropped').reduce((k, c) => k + c.items, 0);
    expect(alertDrops).toBeGreaterThan(3000); // Pushover and the webhook each kept at most 50 waiting + 2 in flight
  });
});
