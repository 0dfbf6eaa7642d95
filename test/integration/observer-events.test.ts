// The contract observers are written against: Antenna.events carries every stage's events (ingest,
// mixer, encoders and their supervisor, HLS, listeners) stamped with `at`, and snapshot() covers every component.
import { describe, expect, it } from 'vitest';
import type { AntennaEventName, AntennaEvents } from '../../src/types/events.js';
import { antennaFixture } from '../helpers/antenna.js';
import { listen } from '../helpers/listener.js';
import { sleep, waitFor } from '../helpers/programme.js';

const fx = antennaFixture();

const ALL: AntennaEventName[] = [
  'source-connected',
  'source-disconnected',
  'metadata',
  'decoder-error',
  'source-rejected',
  'switch',
  'silence',
  'sound',
  'alert',
  'meta',
  'hold',
  'encoder-started',
  'encoder-died',
  'encoder-stalled',
  'encoder-restart-scheduled',
  'encoder-restarted',
  'encoder-restart-failed',
  'hls-discontinuity',
  'listener-connected',
  'listener-disconnected',
  'server-started',
  'server-stopping',
];

describe('Antenna.events and snapshot()', () => {
  it('carry sources, switches, listeners (mounts and HLS), encoder deaths and restarts, and shutdown', async () => {
    // ffmpeg encodes the AAC, so aac-64k runs in an ffmpeg process shared with the other AAC encodes (an in-process
    // encoder has no pid to kill: test/integration/fdk-aac.test.ts, native-codecs.test.ts).
    const t = await fx.start({ returnHoldSeconds: 0.5, aacEncoder: 'ffmpeg' }, { record: false });
    const seen: { name: AntennaEventName; p: AntennaEvents[AntennaEventName] }[] = [];
    // A broken observer first: it must not stop the ones after it.
    t.antenna.events.on('listener-connected', () => {
      throw new Error('broken observer');
    });
    for (const name of ALL) t.antenna.events.on(name, (p) => seen.push({ name, p }));
    const of = <K extends AntennaEventName>(name: K): AntennaEvents[K][] =>
      seen.filter((e) => e.name === name).map((e) => e.p as AntennaEvents[K]);

    fx.source('primary', { frequency: 440 });
    await waitFor(() => t.antenna.mixer.onAir === 'primary', 'primary on air');
    const l = listen(t.antenna.ports.http, '/listen/live.mp3');
    await l.waitForBytes(20_000);
    const hls = await fetch(`http://127.0.0.1:${t.antenna.ports.http}/hls/master.m3u8`, { headers: { 'user-agent': 'HlsTest/2' } });
    expect(hls.status).toBe(200);
    await hls.text();

    // An encoder dies: reported with its stderr, restarted by the supervisor, started again.
    // aac-64k runs in a shared process: the supervisor and the encoder events name that process.
    const proc = t.antenna.snapshot().encoders.find((e) => e.key === 'aac-64k')?.process as string;
    expect(proc).toContain('aac-64k+');
    const before = t.antenna.snapshot().supervised.find((c) => c.name === proc);
    expect(before).toMatchObject({ kind: 'encoder', state: 'running', restarts: 0 });
    expect(before?.pid).toBeGreaterThan(0);
    process.kill(before?.pid as number, 'SIGKILL');
    await waitFor(() => of('encoder-restarted').length === 1, 'encoder restarted', 8000);
    l.close();
    await waitFor(() => of('listener-disconnected').some((e) => e.protocol === 'icecast'), 'listener gone');

    const connected = of('listener-connected');
    expect(connected).toContainEqual(
      expect.objectContaining({
        protocol: 'icecast',
        mount: '/listen/live.mp3',
        remoteAddress: '127.0.0.1',
        userAgent: 'AntennaTestListener/1.0',
      }),
    );
    expect(connected).toContainEqual(expect.objectContaining({ protocol: 'hls', mount: '/hls/master.m3u8', userAgent: 'HlsTest/2' }));
    const left = of('listener-disconnected').find((e) => e.protocol === 'icecast');
    expect(left).toMatchObject({ mount: '/listen/live.mp3', reason: 'closed', userAgent: 'AntennaTestListener/1.0' });
    expect(left?.bytes).toBeGreaterThanOrEqual(20_000);
    expect(left?.durationMs).toBeGreaterThan(0);

    expect(of('encoder-died')[0]).toMatchObject({ key: proc, fault: { code: 'ENCODER_FAILED' } });
    expect(of('encoder-died')[0]?.fault.message).toMatch(/SIGKILL/);
    expect(of('encoder-restart-scheduled')[0]).toMatchObject({ name: proc, kind: 'encoder' });
    expect(of('encoder-restarted')[0]).toMatchObject({ name: proc, restarts: 1 });
    expect(of('encoder-started').map((e) => e.key)).toContain(proc);
    expect(of('source-connected')[0]).toMatchObject({ inputId: 'primary' });
    expect(of('switch')[0]).toMatchObject({ from: 'emergency', to: 'primary', reason: 'returned' });

    const s = t.antenna.snapshot();
    const after = s.supervised.find((c) => c.name === proc);
    expect(after).toMatchObject({ state: 'running', restarts: 1, lastError: { code: 'ENCODER_FAILED' } });
    expect(after?.pid).not.toBe(before?.pid);
    expect(s.supervised.map((c) => c.name).sort()).toEqual([...new Set(s.encoders.map((e) => e.process))].sort());
    expect(s.process.rssBytes).toBeGreaterThan(10_000_000);
    expect(s.process.pid).toBe(process.pid);
    expect(s.ports.http).toBe(t.antenna.ports.http);
    expect(s.hls.sessions).toBe(1);

    await t.stop();
    expect(of('server-stopping')).toHaveLength(1);
    // The HLS session ends with the server; every event carried the time it happened.
    expect(of('listener-disconnected')).toContainEqual(expect.objectContaining({ protocol: 'hls', reason: 'shutdown' }));
    for (const e of seen) expect(typeof (e.p as { at?: number }).at === 'number' || e.name === 'meta').toBe(true);
    await sleep(10);
  });
});
