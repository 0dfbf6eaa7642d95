// The status API's routes on the real server with a real studio source: every response validated
// against the route's own schema, the OpenAPI document covering every route, /metrics parsed by a
// Prometheus text parser, the live feed's rates, and the control routes (hold by ear, kick, title).
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import {
  errorBody,
  eventsResponse,
  historyResponse,
  holdResponse,
  kickResponse,
  nowPlaying,
  status,
  titleResponse,
} from '../../src/api/schemas.js';
import { ADMIN_PASSWORD, antennaFixture, SOURCE_PASSWORD } from '../helpers/antenna.js';
import { listen } from '../helpers/listener.js';
import { firstHeard, heard, sleep, waitFor } from '../helpers/programme.js';
import { startSourceClient } from '../helpers/source-client.js';

const P = 440;
const E = 660;
const ADMIN = 'Basic ' + Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64');
const SMALL = { mounts: [{ mount: '/listen/live.mp3', codec: 'mp3', bitrate: 128_000 }], hlsTiers: [{ name: 'aac_64k', bitrate: 64_000 }] };
const fx = antennaFixture();

async function get(path: string, auth: string | null = ADMIN): Promise<{ status: number; headers: Headers; text: string }> {
  const r = await fetch(`http://127.0.0.1:${fx.t.antenna.ports.http}${path}`, { headers: auth ? { authorization: auth } : {} });
  return { status: r.status, headers: r.headers, text: await r.text() };
}

async function post(path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const r = await fetch(`http://127.0.0.1:${fx.t.antenna.ports.http}${path}`, {
    method: 'POST',
    headers: { authorization: ADMIN, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: r.status, json: (await r.json()) as unknown };
}

/** Reads the live feed for `ms`; returns the events by name. */
function readLive(ms: number, during?: () => Promise<void>): Promise<Map<string, unknown[]>> {
  return new Promise((resolve, reject) => {
    const events = new Map<string, unknown[]>();
    const req = request(
      { host: '127.0.0.1', port: fx.t.antenna.ports.http, path: '/api/live', headers: { authorization: ADMIN } },
      (res) => {
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (s: string) => {
          buf += s;
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const name = /^event: (.+)$/m.exec(block)?.[1];
            const data = /^data: (.+)$/m.exec(block)?.[1];
            if (name && data) events.set(name, [...(events.get(name) ?? []), JSON.parse(data) as unknown]);
          }
        });
        void during?.();
        setTimeout(() => {
          req.destroy();
          resolve(events);
        }, ms);
      },
    );
    req.on('error', (err) => (events.size ? undefined : reject(err)));
    req.end();
  });
}

type Components = ReturnType<typeof status.parse>['components'];

async function components(): Promise<Components> {
  return status.parse(JSON.parse((await get('/api/status')).text)).components;
}

async function decoderOf(input: 'primary' | 'fallback'): Promise<Components['decoders'][number]> {
  const d = (await components()).decoders.find((x) => x.input === input);
  if (!d) throw new Error(`no decoder listed for ${input}`);
  return d;
}

/** Whether a process with this pid exists (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('status API routes on the real server', () => {
  it('nowplaying, status, events and history answer what their schemas say, with a source and a listener', async () => {
    // ffmpeg encodes everything here (the MP3 mount and the AAC tier); test/integration/fdk-aac.test.ts and
    // native-codecs.test.ts show in-process encoders' components.
    await fx.start(
      { ...SMALL, returnHoldSeconds: 0.5, aacEncoder: 'ffmpeg', mp3VorbisEncoder: 'ffmpeg' },
      { emergencyTone: E, record: false },
    );
    fx.source('primary', { frequency: P });
    await waitFor(() => fx.t.antenna.mixer.onAir === 'primary', 'primary on air');
    const l = listen(fx.t.antenna.ports.http, '/listen/live.mp3');
    fx.track({ close: async () => l.close() });
    await l.waitForBytes(10_000);
    await sleep(1200); // one history sample

    const np = await get('/api/nowplaying', null);
    expect(np.status).toBe(200);
    expect(np.headers.get('access-control-allow-origin')).toBe('*');
    expect(np.headers.get('cache-control')).toBe('public, max-age=1');
    const n = nowPlaying.parse(JSON.parse(np.text));
    expect(n).toMatchObject({ is_online: true, tier: 'primary', held: null, live: { is_live: true } });
    expect(n.listeners.total).toBe(1);
    expect(n.listeners.unique).toBe(1);
    expect(n.station.mounts[0]).toMatchObject({ path: '/listen/live.mp3', format: 'mp3', bitrate: 128, listeners: { current: 1 } });

    const st = status.parse(JSON.parse((await get('/api/status')).text));
    expect(st.onAir).toMatchObject({ tier: 'primary', reason: 'returned', hold: null });
    const primary = st.inputs.find((i) => i.id === 'primary')!;
    expect(primary).toMatchObject({ state: 'streaming', clientAddress: '127.0.0.1', format: 'mp3', silent: false, available: true });
    expect(primary.levelDb).toBeGreaterThan(-30);
    expect(primary.bytesIn).toBeGreaterThan(0);
    expect(primary.buffer.targetMs).toBeGreaterThan(0);
    expect(st.mounts[0]).toMatchObject({ mount: '/listen/live.mp3', listeners: 1, encoderRunning: true });
    // One shared ffmpeg encodes the MP3 mount and the AAC HLS tier (ANTENNA_ENCODER_LAYOUT=shared).
    expect(st.components.supervised.map((c) => c.name)).toEqual(['mp3-128k+aac-64k']);
    expect(st.components.supervised.every((c) => typeof c.pid === 'number')).toBe(true);
    expect(st.components.http).toEqual([{ protocol: 'http', port: fx.t.antenna.ports.http }]);
    expect(st.components.process.rssBytes).toBeGreaterThan(0);

    const ev = eventsResponse.parse(JSON.parse((await get('/api/events')).text));
    const sw = ev.events.find((e) => e.type === 'switch');
    expect(sw?.detail).toMatchObject({ from: 'emergency', to: 'primary', reason: 'returned' });
    expect(ev.events.some((e) => e.type === 'source-connected' && e.detail.inputId === 'primary')).toBe(true);
    const later = eventsResponse.parse(JSON.parse((await get(`/api/events?since=${sw!.at}`)).text));
    expect(later.events.every((e) => e.at > sw!.at)).toBe(true);

    const hist = historyResponse.parse(JSON.parse((await get('/api/listeners/history?minutes=10')).text));
    expect(hist.points.at(-1)?.mounts['/listen/live.mp3']).toBe(1);
    expect(hist.points.at(-1)?.total).toBeGreaterThanOrEqual(1);

    // Bad input: a clear 400 with what was wrong.
    const bad = await get('/api/events?since=yesterday');
    expect(bad.status).toBe(400);
    expect(errorBody.parse(JSON.parse(bad.text)).error.code).toBe('BAD_REQUEST');
    expect((await get('/api/listeners/history?minutes=0')).status).toBe(400);
  });

  it('components list each studio decoder (live pid, growing uptime, its format) and the emergency file’s; a source that leaves shows stopped, a decoder killed is counted as failed', async () => {
    // Every source in an ffmpeg child here (MP3 too), so that one can be killed; the next test covers mpg123.
    const t = await fx.start({ ...SMALL, returnHoldSeconds: 0.5, mp3Decoder: 'ffmpeg' }, { emergencyTone: E, record: false });
    const before = await components();
    expect(before.decoders.map((d) => [d.input, d.state, d.running, d.pid, d.starts, d.failures])).toEqual([
      ['primary', 'idle', false, null, 0, 0],
      ['fallback', 'idle', false, null, 0, 0],
    ]);
    expect(before.emergencyDecoder).toMatchObject({ state: 'loaded', problem: null, failures: 0, lastProblem: null, pid: null });
    expect(before.emergencyDecoder.durationMs).toBeGreaterThan(3500); // the 4 s tone, edges trimmed
    expect(before.emergencyDecoder.decodedAt).toBeLessThanOrEqual(Date.now());
    expect(before.emergencyDecoder.decodeMs).toBeGreaterThan(0);

    fx.source('primary', { frequency: P });
    const ogg = fx.track(startSourceClient({ port: t.antenna.ports.fallback, password: SOURCE_PASSWORD, frequency: E, codec: 'ogg' }));
    await expect.poll(async () => (await components()).decoders.map((d) => d.state), { timeout: 10_000 }).toEqual(['running', 'running']);
    const p1 = await decoderOf('primary');
    const f1 = await decoderOf('fallback');
    expect(p1).toMatchObject({ engine: 'ffmpeg', running: true, format: 'mp3', starts: 1, failures: 0, lastError: null, exitedAt: null });
    expect(f1).toMatchObject({ engine: 'ffmpeg', running: true, format: 'ogg', starts: 1, failures: 0 });
    expect(p1.pid).not.toBe(f1.pid);
    for (const d of [p1, f1]) {
      expect(d.pid !== null && alive(d.pid), `decoder pid ${d.pid} alive`).toBe(true);
      expect(d.pid).not.toBe(process.pid);
    }
    // Not an encoder's process: the decoders are their own ffmpeg children.
    expect(before.supervised.map((c) => c.pid)).not.toContain(p1.pid);
    await sleep(700);
    const p2 = await decoderOf('primary');
    expect(p2.pid).toBe(p1.pid);
    expect(p2.startedAt).toBe(p1.startedAt);
    expect(p2.uptimeMs - p1.uptimeMs).toBeGreaterThanOrEqual(500);

    // The studio leaves: its decoder flushes, exits, and shows as not running.
    await ogg.stop();
    await expect.poll(async () => (await decoderOf('fallback')).state, { timeout: 8000 }).toBe('stopped');
    const f2 = await decoderOf('fallback');
    expect(f2).toMatchObject({ running: false, uptimeMs: 0, starts: 1, failures: 0, lastError: null, format: 'ogg', pid: f1.pid });
    expect(f2.exitedAt).toBeGreaterThanOrEqual(f2.startedAt!);
    expect(alive(f1.pid!)).toBe(false);

    // The decoder dies under a connected source: the connection ends and the failure is counted.
    process.kill(p1.pid!, 'SIGKILL');
    await expect.poll(async () => (await decoderOf('primary')).state, { timeout: 8000 }).toBe('failed');
    const p3 = await decoderOf('primary');
    expect(p3).toMatchObject({ running: false, failures: 1, starts: 1, lastError: { code: 'DECODER_FAILED' } });
    expect(p3.lastError?.message).toMatch(/SIGKILL/);
    expect(p3.lastError?.at).toBeGreaterThanOrEqual(p2.startedAt!);

    // The studio comes back: a new decoder, the failure still on the input's record.
    fx.source('primary', { frequency: P });
    await expect.poll(async () => (await decoderOf('primary')).state, { timeout: 10_000 }).toBe('running');
    const p4 = await decoderOf('primary');
    expect(p4).toMatchObject({ starts: 2, failures: 1, lastError: { code: 'DECODER_FAILED' } });
    expect(p4.pid).not.toBe(p1.pid);

    // The emergency file turns unusable: counted, with its problem; the audio decoded before keeps playing.
    writeFileSync(before.emergencyDecoder.file, Buffer.alloc(64 * 1024, 0x55));
    await expect.poll(async () => (await components()).emergencyDecoder.state, { timeout: 10_000 }).toBe('failed');
    const e = (await components()).emergencyDecoder;
    expect(e).toMatchObject({ failures: 1, durationMs: before.emergencyDecoder.durationMs });
    expect(e.problem).toMatch(/cannot be used|no decodable audio/);
    expect(e.lastProblem?.message).toBe(e.problem);
    const st = status.parse(JSON.parse((await get('/api/status')).text));
    expect(st.emergency).toMatchObject({ loaded: true, problem: e.problem }); // the existing fields, unchanged
  });

  it('by default an MP3 studio at 44.1 kHz is decoded in the server (mpg123, no pid) and an Ogg one by ffmpeg; both play', async () => {
    const t = await fx.start({ ...SMALL, returnHoldSeconds: 0.5 }, { emergencyTone: E, record: false });
    const mp3 = fx.source('primary', { frequency: P });
    const ogg = fx.track(startSourceClient({ port: t.antenna.ports.fallback, password: SOURCE_PASSWORD, frequency: E, codec: 'ogg' }));
    await expect.poll(async () => (await components()).decoders.map((d) => d.state), { timeout: 10_000 }).toEqual(['running', 'running']);
    const p1 = await decoderOf('primary');
    expect(p1).toMatchObject({ engine: 'mpg123', pid: null, running: true, format: 'mp3', starts: 1, failures: 0, lastError: null });
    expect(await decoderOf('fallback')).toMatchObject({ engine: 'ffmpeg', running: true, format: 'ogg' });
    expect((await decoderOf('fallback')).pid).toBeGreaterThan(0);
    await waitFor(() => fx.t.antenna.mixer.onAir === 'primary', 'primary on air');
    // Decoded audio reaches the input's meter at the test tone's level: -24.5 dB, as with ffmpeg decoding.
    const st = status.parse(JSON.parse((await get('/api/status')).text));
    const primary = st.inputs.find((i) => i.id === 'primary');
    expect(primary?.levelDb ?? -Infinity).toBeGreaterThan(-27);
    expect(primary?.levelDb ?? 0).toBeLessThan(-22);
    await sleep(600);
    const p2 = await decoderOf('primary');
    expect(p2.uptimeMs - p1.uptimeMs).toBeGreaterThanOrEqual(400);
    await ogg.stop();
    await mp3.stop();
    await expect.poll(async () => (await components()).decoders.map((d) => d.state), { timeout: 8000 }).toEqual(['stopped', 'stopped']);
    expect(await decoderOf('primary')).toMatchObject({ engine: 'mpg123', running: false, failures: 0, lastError: null });
  });

  it('the OpenAPI document lists every route with its schemas; /metrics parses and uses icecast_exporter names', async () => {
    await fx.start({ ...SMALL, metricsToken: 'metrics-token-123', returnHoldSeconds: 0.5 }, { emergencyTone: E, record: false });
    fx.source('primary', { frequency: P });
    await waitFor(() => fx.t.antenna.mixer.onAir === 'primary', 'primary on air');
    const l = listen(fx.t.antenna.ports.http, '/listen/live.mp3');
    fx.track({ close: async () => l.close() });
    await sleep(500);

    const doc = JSON.parse((await get('/api/openapi.json', null)).text) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const routes = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    expect(routes.sort()).toEqual(
      [
        'GET /api/nowplaying',
        'GET /api/config',
        'GET /api/me',
        'GET /api/status',
        'GET /api/events',
        'GET /api/live',
        'GET /api/listeners/history',
        'GET /api/emergency',
        'POST /api/emergency',
        'POST /api/emergency/{id}/activate',
        'DELETE /api/emergency/{id}',
        'GET /api/emergency/{id}/audio',
        'POST /api/sources/{input}/kick',
        'POST /api/title',
        'POST /api/mixer/hold',
        'GET /metrics',
      ].sort(),
    );
    expect(doc.paths['/api/status']!.get!.responses['200']).toBeDefined();
    expect(doc.paths['/api/status']!.get!.responses['401']).toBeDefined();
    // The decoders are documented with the rest of the components (the document is generated from the schemas).
    const statusDoc = JSON.stringify(doc.paths['/api/status']!.get!.responses['200']);
    for (const field of ['"decoders"', '"emergencyDecoder"', '"failures"', '"draining"', '"reloading"']) expect(statusDoc).toContain(field);

    expect((await get('/metrics', null)).status).toBe(401);
    expect((await get('/metrics', 'Bearer wrong')).status).toBe(401);
    const m = await get('/metrics', 'Bearer metrics-token-123');
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toMatch(/^text\/plain/);
    const families = parsePrometheusTextFormat(m.text);
    const fam = (name: string) => families.find((f) => f.name === name);
    const port = fx.t.antenna.ports.http;
    expect(fam('icecast_listeners')?.metrics).toEqual([
      { value: '1', labels: { listenurl: `http://localhost:${port}/listen/live.mp3`, server_type: 'audio/mpeg' } },
    ]);
    expect(fam('antenna_on_air')?.metrics.find((x) => x.labels?.tier === 'primary')?.value).toBe('1');
    expect(fam('antenna_switches_total')?.type).toBe('COUNTER');
    expect(fam('antenna_switches_total')?.metrics).toContainEqual({ value: '1', labels: { to: 'primary', reason: 'returned' } });
    expect(fam('antenna_source_connected')?.metrics.find((x) => x.labels?.input === 'primary')?.value).toBe('1');
    expect(Number(fam('antenna_input_level_dbfs')?.metrics.find((x) => x.labels?.input === 'primary')?.value)).toBeGreaterThan(-30);
    for (const name of [
      'antenna_input_buffer_seconds',
      'antenna_input_underruns',
      'antenna_input_overflow_dropped_seconds',
      'antenna_hls_sessions',
      'antenna_event_loop_delay_p99_seconds',
      'process_cpu_user_seconds_total',
      'antenna_encoder_restarts_total',
    ])
      expect(fam(name), name).toBeDefined();
    expect((await get('/metrics', ADMIN)).status).toBe(200);
  });

  it('the live feed sends levels at 10 Hz, listener counts each second and timeline items as they happen', async () => {
    await fx.start({ ...SMALL, returnHoldSeconds: 0.5 }, { emergencyTone: E, record: false });
    fx.source('primary', { frequency: P });
    await waitFor(() => fx.t.antenna.mixer.onAir === 'primary', 'primary on air');
    const events = await readLive(2300, async () => {
      await sleep(300);
      await post('/api/title', { title: 'Live - Feed' });
    });
    const levels = events.get('levels') ?? [];
    expect(levels.length).toBeGreaterThanOrEqual(15); // 10 Hz over ~2.3 s, generous for a shared machine
    expect(levels.at(-1)).toMatchObject({ onAir: 'primary', primary: { connected: true, silent: false } });
    expect((events.get('listeners') ?? []).length).toBeGreaterThanOrEqual(1);
    expect(events.get('timeline')).toContainEqual(
      expect.objectContaining({ type: 'title', by: 'admin', detail: { inputId: 'primary', title: 'Live - Feed' } }),
    );
    expect(events.get('nowplaying')).toContainEqual({ title: 'Live - Feed', tier: 'primary' });
  });

  it('hold: the programme goes to the emergency tier and stays (shown as held), then returns on release; a throwing subscriber hurts nothing', async () => {
    const t = await fx.start({ ...SMALL, returnHoldSeconds: 0.5 }, { emergencyTone: E });
    t.antenna.events.on('switch', () => {
      throw new Error('a broken observer');
    });
    fx.source('primary', { frequency: P });
    await waitFor(() => t.antenna.mixer.onAir === 'primary', 'primary on air');
    await sleep(500);

    const heldAt = performance.now();
    const h = await post('/api/mixer/hold', { tier: 'emergency' });
    expect(h.status).toBe(200);
    expect(holdResponse.parse(h.json).hold).toBe('emergency');
    await waitFor(() => t.antenna.mixer.onAir === 'emergency', 'held on emergency');
    await sleep(2000); // far past the return hold: the primary stays off air
    expect(t.antenna.mixer.onAir).toBe('emergency');
    expect(firstHeard(heard(t, [P, E], heldAt), E, heldAt)).toBeDefined();
    const st = status.parse(JSON.parse((await get('/api/status')).text));
    expect(st.onAir).toMatchObject({ tier: 'emergency', hold: 'emergency', reason: 'held' });
    expect(nowPlaying.parse(JSON.parse((await get('/api/nowplaying', null)).text)).held).toBe('emergency');

    const releasedAt = performance.now();
    expect((await post('/api/mixer/hold', { tier: null })).status).toBe(200);
    await waitFor(() => t.antenna.mixer.onAir === 'primary', 'primary back after release');
    await sleep(800);
    expect(firstHeard(heard(t, [P, E], releasedAt), P, releasedAt)).toBeDefined();
    const ev = eventsResponse.parse(JSON.parse((await get('/api/events')).text)).events;
    expect(ev.filter((e) => e.type === 'switch').map((e) => e.detail.reason)).toEqual(['returned', 'held', 'released']);
    expect(ev.filter((e) => e.type.startsWith('hold')).map((e) => [e.type, e.by])).toEqual([
      ['hold', 'admin'],
      ['hold-released', 'admin'],
    ]);
    expect((await post('/api/mixer/hold', { tier: 'primary' })).status).toBe(400);
  });

  it('title and kick act on the on-air input; kicking an empty input is 409', async () => {
    const t = await fx.start({ ...SMALL, returnHoldSeconds: 0.5 }, { emergencyTone: E, record: false });
    expect((await post('/api/title', { title: 'x' })).status).toBe(409); // emergency on air
    fx.source('primary', { frequency: P });
    await waitFor(() => t.antenna.mixer.onAir === 'primary', 'primary on air');
    const title = await post('/api/title', { title: 'Artist - Song' });
    expect(titleResponse.parse(title.json)).toEqual({ title: 'Artist - Song', input: 'primary' });
    const np = nowPlaying.parse(JSON.parse((await get('/api/nowplaying', null)).text));
    expect(np.now_playing.song).toEqual({ text: 'Artist - Song', artist: 'Artist', title: 'Song' });

    const kick = await post('/api/sources/primary/kick');
    expect(kickResponse.parse(kick.json)).toEqual({ kicked: true, input: 'primary' });
    await waitFor(() => t.antenna.snapshot().inputs.primary.source.state === 'idle', 'primary kicked');
    const again = await post('/api/sources/fallback/kick');
    expect(again.status).toBe(409);
    expect(errorBody.parse(again.json).error.code).toBe('NO_SOURCE');
    const ev = eventsResponse.parse(JSON.parse((await get('/api/events')).text)).events;
    expect(ev.find((e) => e.type === 'source-disconnected')?.detail.reason).toBe('kicked');
    expect(ev.find((e) => e.type === 'kick')).toMatchObject({ by: 'admin', detail: { inputId: 'primary' } });
  });
});
