// Alerts and analytics on the real server with real ffmpeg sources (primary 440 Hz, fallback 880 Hz,
// emergency 660 Hz): local Pushover, webhook and PostHog servers receive exactly the alerts and events
// that should go, alerts within a second of the switch; with the services hanging the audio is untouched.
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, FFMPEG, antennaFixture, type TestAntenna } from '../helpers/antenna.js';
import { listen as listenDecoded, longestSilence } from '../helpers/timed-listener.js';
import { heard, longestSilenceMs, sleep, waitFor } from '../helpers/programme.js';
import type { ProcessHandle } from '../helpers/source-client.js';
import {
  startPosthogServer,
  startPushoverServer,
  startWebhookServer,
  type LocalServer,
  type PosthogServer,
  type PushoverServer,
  type WebhookServer,
} from '../helpers/notify-servers.js';
import type { AntennaEvents } from '../../src/types/events.js';

const P = 440;
const F = 880;
const E = 660;
const TONES = [P, F, E];
const TOKEN = 'A'.repeat(30);
const USER = 'B'.repeat(30);
const SECRET = 'hook-secret';

const fx = antennaFixture();
const servers: LocalServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

interface Rig {
  t: TestAntenna;
  pushover: PushoverServer;
  hook: WebhookServer;
  posthog: PosthogServer;
  switches: AntennaEvents['switch'][];
  source(input: 'primary' | 'fallback', lavfi?: string): ProcessHandle;
  onAir(): string;
  titles(): string[];
}

async function rig(overrides: Record<string, unknown> = {}, logTo?: NodeJS.WritableStream): Promise<Rig> {
  const pushover = await startPushoverServer([{ status: 200 }]);
  const hook = await startWebhookServer(SECRET);
  const posthog = await startPosthogServer('ok');
  servers.push(pushover, hook, posthog);
  const t = await fx.start(
    {
      returnHoldSeconds: 0.5,
      alertSettleSeconds: 2,
      pushoverToken: TOKEN,
      pushoverUser: USER,
      pushoverApi: pushover.url,
      webhookUrls: hook.url,
      webhookSecret: SECRET,
      posthogKey: 'phc_station_key',
      posthogHost: posthog.url,
      sinkFlushSeconds: 3,
      stationName: 'Radio Test',
      ...overrides,
    },
    { emergencyTone: E, ...(logTo ? { logTo } : {}) },
  );
  const switches: AntennaEvents['switch'][] = [];
  t.antenna.events.on('switch', (s) => switches.push(s));
  return {
    t,
    pushover,
    hook,
    posthog,
    switches,
    source: (input, lavfi) => fx.source(input, { frequency: input === 'primary' ? P : F, ...(lavfi ? { lavfi } : {}) }),
    onAir: () => t.antenna.mixer.onAir,
    titles: () => pushover.requests.map((r) => r.form.title ?? ''),
  };
}

/** ms from the last switch to `to` until the Pushover request whose title contains `title`. */
function alertDelay(r: Rig, to: string, title: string): number {
  const sw = r.switches.filter((s) => s.to === to).at(-1);
  const req = r.pushover.requests.find((q) => (q.form.title ?? '').includes(title));
  expect(sw, `a switch to ${to}`).toBeDefined();
  expect(req, `an alert "${title}"`).toBeDefined();
  const ms = (req?.at ?? Infinity) - (sw?.at ?? 0);
  if (process.env.ANTENNA_TEST_SHOW_DELAYS) console.log(`alert "${title}" ${ms} ms after the switch`);
  return ms;
}

describe('alerts on the real server', () => {
  it('primary killed, then the fallback, then both back: failover, outage, and a recovery for each, within a second', async () => {
    const r = await rig();
    let fallback = r.source('fallback');
    let primary = r.source('primary');
    await waitFor(() => r.onAir() === 'primary', 'primary on air');
    await sleep(1000);
    const from = performance.now();
    expect(r.pushover.requests).toHaveLength(0); // coming on air at start is no incident

    await primary.stop();
    await waitFor(() => r.titles().some((x) => x.includes('Failover')), 'failover alert');
    expect(alertDelay(r, 'fallback', 'Failover')).toBeLessThan(1000);
    await sleep(500);
    await fallback.stop();
    await waitFor(() => r.titles().some((x) => x.includes('Outage')), 'outage alert');
    expect(alertDelay(r, 'emergency', 'Outage')).toBeLessThan(1000);
    expect(r.pushover.requests.find((q) => q.form.title?.includes('Outage'))?.form.priority).toBe('1');

    fallback = r.source('fallback');
    await waitFor(() => r.onAir() === 'fallback', 'fallback back');
    await waitFor(() => r.titles().length === 3, 'outage recovery', 10_000);
    primary = r.source('primary');
    await waitFor(() => r.onAir() === 'primary', 'primary back');
    await waitFor(() => r.titles().length === 4, 'failover recovery', 10_000);
    await sleep(2500);

    expect(r.titles()).toEqual([
      'Radio Test: Failover: fallback on air',
      'Radio Test: Outage: emergency audio on air',
      'Radio Test: Recovered: fallback on air',
      'Radio Test: Recovered: primary back on air',
    ]);
    // The same alerts reached the webhook, each signed.
    expect(r.hook.deliveries.map((d) => d.body.title)).toEqual(r.titles());
    expect(r.hook.deliveries.every((d) => d.signatureValid)).toBe(true);
    // What was raised and sent is in the status API's timeline and in /metrics.
    const auth = { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` };
    const base = `http://127.0.0.1:${r.t.antenna.ports.http}`;
    const timeline = (await (await fetch(`${base}/api/events?limit=1000`, { headers: auth })).json()) as {
      events: { type: string; detail: Record<string, unknown> }[];
    };
    const raised = timeline.events.filter((i) => i.type === 'alert-raised');
    expect(raised.map((i) => `${String(i.detail.incident)} ${String(i.detail.phase)}`)).toEqual(
      expect.arrayContaining(['failover open', 'outage open', 'outage close', 'failover close']),
    );
    expect(timeline.events.some((i) => i.type === 'sink-outcome' && i.detail.sink === 'pushover' && i.detail.outcome === 'sent')).toBe(
      true,
    );
    const metrics = await (await fetch(`${base}/metrics`, { headers: auth })).text();
    expect(metrics).toMatch(/antenna_notifications_total\{sink="pushover",target="[^"]*",outcome="sent"\} 4\b/);
    expect(metrics).toMatch(/antenna_alerts_total\{kind="[a-z-]+",phase="open"\} \d/);
    // The listener's programme never went quiet through all of it.
    const w = heard(r.t, TONES, from);
    expect(longestSilenceMs(w, from, performance.now())).toBe(0);
    // What was sent is counted for /metrics.
    const snap = r.t.antenna.analyticsSnapshot();
    expect(snap.counters.filter((c) => c.sink === 'pushover' && c.outcome === 'sent').reduce((n, c) => n + c.items, 0)).toBe(4);
    expect(snap.recent.filter((x) => x.sink === 'webhook' && x.outcome === 'sent')).toHaveLength(4);
    expect(JSON.stringify(snap)).not.toContain(TOKEN);
    expect(JSON.stringify(snap)).not.toContain('secret-token-in-path');

    // PostHog gets the stream events (flushed on shutdown at the latest).
    await r.t.stop();
    const names = r.posthog.events().map((e) => e.event);
    for (const name of [
      'server started',
      'source connected',
      'source disconnected',
      'failover',
      'emergency on air',
      'emergency off air',
      'return',
      'server stopped',
    ])
      expect(names, name).toContain(name);
    const fo = r.posthog.events().find((e) => e.event === 'failover');
    expect(fo?.distinct_id).toBe('station:Radio Test');
    expect(fo?.properties).toMatchObject({ from: 'primary', to: 'fallback', reason: 'disconnected' });
    expect(r.posthog.batches.every((b) => b.gzip && b.apiKey === 'phc_station_key')).toBe(true);
    void fallback;
    void primary;
  });

  it('a flapping primary: one failover alert and one recovery with the count', async () => {
    const r = await rig({ alertSettleSeconds: 4 });
    r.source('fallback');
    let primary = r.source('primary');
    await waitFor(() => r.onAir() === 'primary', 'primary on air');
    await sleep(500);
    const flaps = 4;
    for (let i = 0; i < flaps; i++) {
      await primary.stop();
      await waitFor(() => r.onAir() === 'fallback', 'fallback on air');
      primary = r.source('primary');
      await waitFor(() => r.onAir() === 'primary', 'primary back on air');
      await sleep(300);
    }
    await waitFor(() => r.titles().length === 2, 'recovery', 15_000);
    await sleep(1500);
    expect(r.titles()).toEqual(['Radio Test: Failover: fallback on air', 'Radio Test: Recovered: primary back on air']);
    expect(r.pushover.requests[1]?.form.message).toContain(`${flaps} times`);
    expect(alertDelay(r, 'fallback', 'Failover')).toBeLessThan(60_000); // the first switch's alert…
    const firstSwitch = r.switches.find((s) => s.to === 'fallback');
    expect((r.pushover.requests[0]?.at ?? Infinity) - (firstSwitch?.at ?? 0)).toBeLessThan(1000); // …within a second of it
  });

  it('a silent primary: one alert that says so, and its recovery', async () => {
    const r = await rig({ silenceSeconds: 1.5, soundSeconds: 1 });
    r.source('fallback');
    // 440 Hz for 4 s, silence for 4 s, then 440 Hz again.
    r.source('primary', `aevalsrc=exprs='if(between(t\\,4\\,8)\\,0\\,0.5*sin(2*PI*${P}*t))':s=44100:c=stereo`);
    await waitFor(() => r.onAir() === 'primary', 'primary on air');
    await waitFor(() => r.onAir() === 'fallback', 'fallback after silence', 15_000);
    await waitFor(() => r.titles().length === 1, 'silence alert');
    expect(alertDelay(r, 'fallback', 'Failover')).toBeLessThan(1000);
    expect(r.pushover.requests[0]?.form.message).toContain('Primary silent');
    await waitFor(() => r.onAir() === 'primary', 'primary back after sound', 15_000);
    await waitFor(() => r.titles().length === 2, 'recovery', 10_000);
    await sleep(1500);
    expect(r.titles()).toEqual(['Radio Test: Failover: fallback on air', 'Radio Test: Recovered: primary back on air']);
  });

  it('every service hanging: the programme is untouched, the queues stay bounded, shutdown keeps its deadline', async () => {
    const r = await rig({ sinkQueueSize: 3, sinkFlushSeconds: 1, alertsPerHour: 1000, alertSettleSeconds: 0 });
    r.pushover.replies = [{ status: 200, hang: true }];
    r.hook.statuses = [200];
    r.posthog.mode = 'hang';
    // A real listener decodes /listen/live.mp3 throughout.
    const listener = fx.track(await listenDecoded(FFMPEG, `http://127.0.0.1:${r.t.antenna.ports.http}/listen/live.mp3`, 'mp3', TONES));
    r.source('fallback');
    let primary = r.source('primary');
    await waitFor(() => r.onAir() === 'primary', 'primary on air');
    await sleep(1500);
    const from = performance.now();
    for (let i = 0; i < 4; i++) {
      await primary.stop();
      await waitFor(() => r.onAir() === 'fallback', 'fallback on air');
      primary = r.source('primary');
      await waitFor(() => r.onAir() === 'primary', 'primary back on air');
      await sleep(1200); // past the 0 s settle (ticks are 1 s): each flap is an incident of its own here
    }
    const snap = r.t.antenna.analyticsSnapshot();
    expect(snap.pushover.waiting).toBeLessThanOrEqual(3);
    expect(snap.pushover.inFlight).toBeLessThanOrEqual(2);
    expect(snap.counters.some((c) => c.sink === 'pushover' && c.outcome === 'dropped')).toBe(true);
    expect(longestSilenceMs(heard(r.t, TONES, from), from, performance.now())).toBe(0);
    await sleep(1000); // the listener is ~0.5 s behind the programme
    expect(longestSilence(listener.windows, from, performance.now() - 1000)).toBe(0);
    expect(listener.disconnected()).toBe(false);
    const t0 = Date.now();
    await r.t.stop();
    // Sinks get 1 s; the rest of the pipeline's own shutdown is a few seconds at most.
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});

describe('held below the primary', () => {
  it('the fallback on air longer than alertHoldSeconds: one alert; the primary back: one recovery', async () => {
    const r = await rig({ alertHoldSeconds: 3 });
    r.source('fallback');
    const primary = r.source('primary');
    await waitFor(() => r.onAir() === 'primary', 'primary on air');
    await primary.stop();
    await waitFor(() => r.titles().length === 2, 'failover, then held', 10_000);
    expect(r.titles()[0]).toBe('Radio Test: Failover: fallback on air');
    expect(r.titles()[1]).toMatch(/^Radio Test: Off the primary for [34] s$/); // checked once a second
    r.source('primary');
    await waitFor(() => r.titles().length === 3, 'recovery', 15_000);
    await sleep(1500);
    expect(r.titles()[2]).toBe('Radio Test: Recovered: primary back on air');
    expect(r.titles()).toHaveLength(3);
  });
});

describe('operator hold', () => {
  it('an operator holding the fallback: no failover alert; past alertHoldSeconds one hold alert saying so; release: one recovery', async () => {
    const r = await rig({ alertHoldSeconds: 2 });
    r.source('fallback');
    r.source('primary');
    await waitFor(() => r.onAir() === 'primary', 'primary on air');
    r.t.antenna.commands.hold('fallback');
    await waitFor(() => r.onAir() === 'fallback', 'held on the fallback');
    await waitFor(() => r.titles().length === 1, 'hold alert', 10_000);
    expect(r.titles()[0]).toMatch(/^Radio Test: Off the primary for [23] s$/);
    expect(r.pushover.requests[0]?.form.message).toContain('held there by an operator');
    r.t.antenna.commands.hold(null);
    await waitFor(() => r.onAir() === 'primary', 'released');
    await waitFor(() => r.titles().length === 2, 'recovery', 10_000);
    await sleep(1500);
    expect(r.titles()).toHaveLength(2);
    expect(r.titles()[1]).toBe('Radio Test: Recovered: primary back on air');
  });
});

describe('encoder alerts on the real server', () => {
  it('an encoder killed three times in a row: one loop alert with the error, one when it has stayed up', async () => {
    // ffmpeg encodes everything here (AAC, MP3 and Vorbis), so every encode shares one process to kill.
    const r = await rig({ aacEncoder: 'ffmpeg', mp3VorbisEncoder: 'ffmpeg' });
    r.source('primary');
    await waitFor(() => r.onAir() === 'primary', 'primary on air');
    // The alert names the ffmpeg process (the supervised unit): every encode shares one.
    const enc = (): { pid: number | undefined; process: string } | undefined =>
      r.t.antenna.snapshot().encoders.find((e) => e.key === 'mp3-320k');
    const key = enc()?.process as string;
    expect(key).toBe('mp3-320k+mp3-128k+aac-128k+aac-64k+vorbis-q6+vorbis-q2+aac-192k');
    const pid = (): number | undefined => enc()?.pid;
    for (let i = 0; i < 3; i++) {
      const before = pid();
      expect(before).toBeDefined();
      process.kill(before as number, 'SIGKILL');
      await waitFor(() => pid() !== undefined && pid() !== before, `encoder restarted (${i + 1})`, 20_000);
    }
    await waitFor(() => r.titles().length === 1, 'loop alert');
    expect(r.titles()[0]).toBe(`Radio Test: Encoder ${key} restarting in a loop`);
    expect(r.pushover.requests[0]?.form.message).toContain('died 3 times');
    await waitFor(() => r.titles().length === 2, 'stable again', 15_000);
    expect(r.titles()[1]).toBe(`Radio Test: Encoder ${key} stable again`);
  });
});

describe('analytics on the real server', () => {
  it('listener sessions (salted daily hash, never the address) and periodic counts go to PostHog', async () => {
    const r = await rig({ posthogIntervalS: 1, pushoverToken: '', pushoverUser: '', webhookUrls: '' });
    r.source('primary');
    await waitFor(() => r.onAir() === 'primary', 'primary on air');
    const base = `http://127.0.0.1:${r.t.antenna.ports.http}`;
    // A player that says it is VLC, reading the mount until it hangs up.
    const hangUp = new AbortController();
    const res = await fetch(`${base}/listen/live-128.mp3`, {
      headers: { 'user-agent': 'VLC/3.0.18 LibVLC/3.0.18' },
      signal: hangUp.signal,
    });
    let got = 0;
    const reading = (async () => {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) got += chunk.length;
    })().catch(() => undefined);
    await waitFor(() => got > 10_000, 'listener gets audio');
    // An HLS session: the master playlist and a tier's playlist.
    const master = await (await fetch(`${base}/hls/master.m3u8`)).text();
    const tierPath = master.split('\n').find((l) => l.endsWith('.m3u8') && !l.startsWith('#'));
    expect(tierPath).toBeDefined();
    await (await fetch(new URL(tierPath as string, `${base}/hls/master.m3u8`))).text();
    await sleep(2500); // at least one count with both listening
    hangUp.abort();
    await reading;
    await sleep(500);
    await r.t.stop();

    const events = r.posthog.events();
    const counts = events.filter((e) => e.event === 'listener count');
    expect(counts.length).toBeGreaterThanOrEqual(2);
    expect(counts.some((c) => c.properties['mount /listen/live-128.mp3'] === 1 && (c.properties.total as number) >= 1)).toBe(true);
    const sessions = events.filter((e) => e.event === 'listener session');
    const mp3 = sessions.find((e) => e.properties.mount === '/listen/live-128.mp3');
    expect(mp3).toBeDefined();
    expect(mp3?.properties).toMatchObject({ protocol: 'icecast', client_family: 'VLC', $process_person_profile: false });
    expect(mp3?.properties.duration_s as number).toBeGreaterThanOrEqual(2);
    expect(mp3?.properties.bytes as number).toBeGreaterThan(10_000);
    expect(mp3?.distinct_id).toMatch(/^[0-9a-f]{32}$/);
    // The HLS session is counted per tier and reported when it ends (here: at shutdown).
    expect(counts.some((c) => (c.properties.hls as number) >= 1)).toBe(true);
    const hls = sessions.find((e) => e.properties.protocol === 'hls');
    expect(hls?.properties.hls_tier).toMatch(/^aac_/);
    // No address anywhere in what went out.
    expect(JSON.stringify(events)).not.toContain('127.0.0.1');
    // Alerts are off: nothing was decided or sent.
    expect(r.pushover.requests).toHaveLength(0);
    expect(r.hook.deliveries).toHaveLength(0);
  });
});

describe('secrets', () => {
  it('no key, token, user key, webhook URL path or secret appears in the logs, even when every service fails', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const r = await rig({ logLevel: 'debug', sinkFlushSeconds: 1 }, sink);
    r.pushover.replies = [{ status: 400, errors: ['application token is invalid'] }];
    r.hook.statuses = [500, 200];
    r.posthog.mode = 'error';
    r.source('fallback');
    const primary = r.source('primary');
    await waitFor(() => r.onAir() === 'primary', 'primary on air');
    await primary.stop();
    await waitFor(() => r.pushover.requests.length === 1, 'the alert is refused');
    await waitFor(() => r.hook.deliveries.length === 1, 'the webhook fails once');
    await r.t.stop();
    const text = lines.join('\n');
    expect(text).toContain('application token is invalid'); // Pushover's error list is logged…
    for (const secret of [TOKEN, USER, SECRET, 'secret-token-in-path', 'phc_station_key']) expect(text, secret).not.toContain(secret); // …never a secret
    for (const line of lines) JSON.parse(line);
  });
});
