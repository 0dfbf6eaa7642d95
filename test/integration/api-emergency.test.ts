// Emergency audio through the status API, end to end on the real server: real MP3 and FLAC uploads
// decoded by ffmpeg, activated live and heard on /listen/live.mp3 (tones); garbage, empty, silent,
// oversized, path-traversal and read-role uploads refused with the reason while the previous file
// plays on; concurrent uploads; the active choice surviving a restart.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emergencyFile, emergencyList, errorBody } from '../../src/api/schemas.js';
import { ADMIN_PASSWORD, FFMPEG, makeToneFile, startAntenna, type TestAntenna } from '../helpers/antenna.js';
import { PROJECT, startAppwriteStandIn, type AppwriteStandIn } from '../helpers/appwrite-stand-in.js';
import { decodeUrl } from '../helpers/listener.js';
import { firstHeard, heard, longestSilenceMs, maxStep, sleep } from '../helpers/programme.js';
import { analyseTones } from '../helpers/tones.js';

const E = 660; // the configured emergency file
const MP3_TONE = 1000;
const FLAC_TONE = 1500;
const TONES = [E, MP3_TONE, FLAC_TONE];
const ADMIN = 'Basic ' + Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64');
const MEMBER_JWT = 'jwt-reader-0123456789abcdef';
const SMALL = { mounts: [{ mount: '/listen/live.mp3', codec: 'mp3', bitrate: 128_000 }], hlsTiers: [{ name: 'aac_64k', bitrate: 64_000 }] };
const MAX_BYTES = 400_000;

let dir: string;
let dataDir: string;
let appwrite: AppwriteStandIn;
let t: TestAntenna | undefined;
let base = '';

function makeAudio(name: string, lavfi: string, codecArgs: string[]): string {
  const path = join(dir, name);
  const r = spawnSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', lavfi, '-ac', '2', ...codecArgs, '-y', path]);
  if (r.status !== 0) throw new Error(`ffmpeg could not make ${name}: ${r.stderr.toString()}`);
  return path;
}

async function upload(
  bytes: Buffer,
  name: string,
  opts: { auth?: string; activate?: boolean; field?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> & { error?: { code: string; message: string } } }> {
  const form = new FormData();
  form.append(opts.field ?? 'file', new Blob([new Uint8Array(bytes)]), name);
  const r = await fetch(`${base}/api/emergency${opts.activate ? '?activate=1' : ''}`, {
    method: 'POST',
    headers: { authorization: opts.auth ?? ADMIN },
    body: form,
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

async function api(path: string, method = 'GET'): Promise<{ status: number; body: unknown }> {
  const r = await fetch(base + path, { method, headers: { authorization: ADMIN } });
  const text = await r.text();
  return { status: r.status, body: text ? (JSON.parse(text) as unknown) : null };
}

/** What a listener of /listen/live.mp3 hears at the end of `seconds` of listening (the burst comes first). */
async function listenerHears(seconds = 4): Promise<number | null> {
  const d = await decodeUrl(`${base}/listen/live.mp3`, seconds);
  const tail = d.pcm.subarray(Math.max(0, d.pcm.length - 44_100 * 4)); // the last second
  const w = analyseTones(tail, TONES);
  const counts = new Map<number | null, number>();
  for (const x of w) counts.set(x.dominant, (counts.get(x.dominant) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
}

async function start(): Promise<void> {
  t = await startAntenna(
    {
      ...SMALL,
      dataDir,
      uploadMaxBytes: MAX_BYTES,
      appwriteEndpoint: appwrite.endpoint,
      appwriteProject: PROJECT,
      appwriteTeamId: 'team',
      emergencyFile: join(dir, `tone-${E}.mp3`),
      crossfadeMs: 500,
    },
    {},
  );
  base = `http://127.0.0.1:${t.antenna.ports.http}`;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'antenna-emergency-api-'));
  dataDir = join(dir, 'data');
  makeToneFile(dir, E, 4);
  appwrite = await startAppwriteStandIn(
    [{ jwt: MEMBER_JWT, id: 'u-reader', email: 'reader@example.org' }],
    [{ userId: 'u-reader', teamId: 'team', roles: ['member'], confirm: true }],
  );
  await start();
});

afterAll(async () => {
  await t?.stop();
  await appwrite?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('emergency files through the API', () => {
  let mp3Id = '';
  let flacId = '';

  it('an uploaded MP3, activated, is heard on /listen/live.mp3 after a crossfade with no gap', async () => {
    expect(await listenerHears()).toBe(E);
    const mp3 = readFileSync(makeToneFile(dir, MP3_TONE, 3));
    const up = await upload(mp3, 'jingle.mp3');
    expect(up.status).toBe(201);
    const file = emergencyFile.parse(up.body);
    expect(file).toMatchObject({ name: 'jingle.mp3', format: 'mp3', active: false, uploadedBy: 'admin', builtIn: false });
    expect(file.durationMs).toBeGreaterThan(2500);
    mp3Id = file.id;
    expect(await listenerHears()).toBe(E); // uploading alone changes nothing

    const swapAt = performance.now();
    const act = await api(`/api/emergency/${mp3Id}/activate`, 'POST');
    expect(act.status).toBe(200);
    expect(emergencyFile.parse(act.body).active).toBe(true);
    await sleep(1500);
    const w = heard(t!, TONES, swapAt - 500);
    expect(firstHeard(w, MP3_TONE, swapAt)).toBeDefined();
    expect(longestSilenceMs(w, swapAt - 500, performance.now())).toBe(0);
    // The crossfade is smooth: no step larger than two sines at 1/8 scale can make.
    expect(maxStep(t!.pcmBetween(swapAt - 500))).toBeLessThan(0.08);
    expect(await listenerHears()).toBe(MP3_TONE);
  });

  it('a FLAC uploaded with ?activate=1 goes on air at once', async () => {
    const flac = readFileSync(makeAudio('tone.flac', `sine=frequency=${FLAC_TONE}:sample_rate=44100:duration=3`, ['-c:a', 'flac']));
    const up = await upload(flac, 'tone.flac', { activate: true });
    expect(up.status).toBe(201);
    const file = emergencyFile.parse(up.body);
    expect(file).toMatchObject({ format: 'flac', active: true });
    flacId = file.id;
    expect(await listenerHears()).toBe(FLAC_TONE);
    const list = emergencyList.parse((await api('/api/emergency')).body);
    expect(list.active).toBe(flacId);
    expect(list.files.map((f) => f.id)).toEqual(['default', mp3Id, flacId]);
  });

  it('garbage, an empty file, a silent file and an oversized upload are refused with the reason; the active file plays on', async () => {
    const garbage = await upload(Buffer.alloc(20_000, 0x5a), 'song.mp3');
    expect(garbage.status).toBe(422);
    expect(errorBody.parse(garbage.body).error.code).toBe('UPLOAD_NOT_AUDIO');
    // Bytes that look like MP3 (ID3 header) but are not: ffmpeg's decode decides.
    const fake = await upload(Buffer.concat([Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00'), Buffer.alloc(5000, 0x11)]), 'fake.mp3');
    expect(fake.status).toBe(422);
    expect(fake.body.error?.message).toMatch(/could not decode|no audio/);
    const empty = await upload(Buffer.alloc(0), 'empty.mp3');
    expect(empty.status).toBe(422);
    expect(empty.body.error?.message).toMatch(/empty/);
    const silent = await upload(
      readFileSync(makeAudio('silence.mp3', 'anullsrc=r=44100:cl=stereo', ['-t', '2', '-c:a', 'libmp3lame'])),
      'silence.mp3',
    );
    expect(silent.status).toBe(422);
    expect(silent.body.error?.code).toBe('UPLOAD_SILENT');
    const big = readFileSync(makeAudio('big.wav', `sine=frequency=500:sample_rate=44100:duration=5`, ['-c:a', 'pcm_s16le']));
    expect(big.length).toBeGreaterThan(MAX_BYTES);
    const tooBig = await upload(big, 'big.wav');
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error?.code).toBe('UPLOAD_TOO_LARGE');
    // Nothing half-written stays behind, and the library and the programme are as they were.
    expect(readdirSync(join(dataDir, 'emergency', '.incoming'))).toEqual([]);
    const list = emergencyList.parse((await api('/api/emergency')).body);
    expect(list.files).toHaveLength(3);
    expect(list.active).toBe(flacId);
    expect(await listenerHears()).toBe(FLAC_TONE);
  });

  it('a path-traversal file name is only a display name: the file is stored under its generated id', async () => {
    const up = await upload(readFileSync(makeToneFile(dir, 700, 1)), '../../../etc/evil.mp3');
    expect(up.status).toBe(201);
    const file = emergencyFile.parse(up.body);
    expect(file.name).toBe('evil.mp3');
    expect(file.id).toMatch(/^[0-9a-f]{32}$/);
    expect(readdirSync(join(dataDir, 'emergency')).sort()).toEqual(
      ['.incoming', 'library.json', `${mp3Id}.mp3`, `${flacId}.flac`, `${file.id}.mp3`].sort(),
    );
    expect((await api(`/api/emergency/${file.id}`, 'DELETE')).status).toBe(204);
    expect((await api(`/api/emergency/..%2F..%2Fetc`, 'DELETE')).status).toBe(400);
  });

  it('a reader may list and preview but not upload (403 before a byte is stored)', async () => {
    const reader = `Bearer ${MEMBER_JWT}`;
    const up = await upload(readFileSync(makeToneFile(dir, 800, 1)), 'x.mp3', { auth: reader });
    expect(up.status).toBe(403);
    expect(up.body.error?.code).toBe('WRITE_ROLE_REQUIRED');
    const list = await fetch(`${base}/api/emergency`, { headers: { authorization: reader } });
    expect(list.status).toBe(200);
    const audio = await fetch(`${base}/api/emergency/${mp3Id}/audio`, { headers: { authorization: reader } });
    expect(audio.status).toBe(200);
    expect(audio.headers.get('content-type')).toBe('audio/mpeg');
    expect(Buffer.from(await audio.arrayBuffer()).equals(readFileSync(join(dataDir, 'emergency', `${mp3Id}.mp3`)))).toBe(true);
    expect(emergencyList.parse((await api('/api/emergency')).body).files).toHaveLength(3);
  });

  it('the active file cannot be deleted (409), the built-in one neither', async () => {
    const active = await api(`/api/emergency/${flacId}`, 'DELETE');
    expect(active.status).toBe(409);
    expect(errorBody.parse(active.body).error.code).toBe('EMERGENCY_FILE_ACTIVE');
    expect((await api('/api/emergency/default', 'DELETE')).status).toBe(409);
    expect((await api('/api/emergency/0123456789abcdef0123456789abcdef', 'DELETE')).status).toBe(404);
  });

  it('the timeline names who uploaded, activated and deleted', async () => {
    const { events } = (await api('/api/events')).body as { events: { type: string; by?: string; detail: Record<string, unknown> }[] };
    expect(events.filter((e) => e.type === 'emergency-upload').map((e) => e.by)).toEqual(['admin', 'admin', 'admin']);
    expect(events.find((e) => e.type === 'emergency-activate' && e.detail.id === flacId)?.by).toBe('admin');
    expect(events.some((e) => e.type === 'emergency-delete' && e.by === 'admin')).toBe(true);
  });

  it('accepts every format the panel offers: AAC (ADTS), M4A, Ogg Vorbis, Opus, WAV', async () => {
    const sine = `sine=frequency=600:sample_rate=44100:duration=1`;
    const cases: [string, string[], string][] = [
      ['t.aac', ['-c:a', 'aac', '-f', 'adts'], 'aac'],
      ['t.m4a', ['-c:a', 'aac'], 'm4a'],
      ['t.ogg', ['-c:a', 'libvorbis'], 'ogg'],
      ['t.opus', ['-c:a', 'libopus', '-ar', '48000'], 'opus'],
      ['t.wav', ['-c:a', 'pcm_s16le'], 'wav'],
    ];
    for (const [name, args, format] of cases) {
      const up = await upload(readFileSync(makeAudio(name, sine, args)), name);
      expect(up.status, name).toBe(201);
      const file = emergencyFile.parse(up.body);
      expect(file.format).toBe(format);
      expect(file.durationMs).toBeGreaterThan(900);
      expect((await api(`/api/emergency/${file.id}`, 'DELETE')).status).toBe(204);
    }
  });

  it('concurrent uploads are each checked and stored', async () => {
    const files = [900, 950, 1050, 1100].map((f) => readFileSync(makeToneFile(dir, f, 1)));
    const results = await Promise.all(files.map((b, i) => upload(b, `c${i}.mp3`)));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    const ids = new Set(results.map((r) => r.body.id));
    expect(ids.size).toBe(4);
    const list = emergencyList.parse((await api('/api/emergency')).body);
    expect(list.files).toHaveLength(7);
    for (const r of results) expect((await api(`/api/emergency/${String(r.body.id)}`, 'DELETE')).status).toBe(204);
  });

  it('the files, the active choice and an operator hold survive a restart', async () => {
    const hold = await fetch(`${base}/api/mixer/hold`, {
      method: 'POST',
      headers: { authorization: ADMIN, 'content-type': 'application/json' },
      body: JSON.stringify({ tier: 'emergency' }),
    });
    expect(hold.status).toBe(200);
    await t!.stop();
    t = undefined;
    await start();
    const list = emergencyList.parse((await api('/api/emergency')).body);
    expect(list.active).toBe(flacId);
    expect(list.files.map((f) => f.id)).toEqual(['default', mp3Id, flacId]);
    await sleep(500);
    expect(await listenerHears()).toBe(FLAC_TONE);
    // The hold is back, and the timeline says it was restored and who set it.
    expect(t!.antenna.snapshot().mixer.hold).toBe('emergency');
    const { events } = (await api('/api/events')).body as { events: { type: string; by?: string; detail: Record<string, unknown> }[] };
    expect(events.find((e) => e.type === 'hold-restored')).toMatchObject({ by: 'admin', detail: { tier: 'emergency', heldBy: 'admin' } });
  });
});
