// Debian's VLC 3.0 (cvlc, afile audio output) on every default mount, the way issue 8 ran it:
// `cvlc --aout afile --audiofile-file=out.wav --run-time=5 --play-and-exit URL`, checking the tone in
// the WAV it writes. On Ogg, VLC's clock is the granule position: a listener joining a chain long after
// its encoder started used to get nothing ("buffer deadlock prevented", see src/icecast-compat/ogg-rebase.ts).
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, constants, createReadStream, openSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MOUNTS } from '../../src/config/settings.js';
import { resolveFfmpegPath } from '../../src/ffmpeg/path.js';
import { dominantTones, rmsDb } from '../helpers/interop-audio.js';
import { nobody } from '../helpers/interop-icecast.js';
import { missing, start, tempDir } from '../helpers/interop-programs.js';
import { logs, startAntenna, type AntennaServer } from '../helpers/interop-server.js';
import { startSourceClient, type ProcessHandle } from '../helpers/source-client.js';

const skip = missing('cvlc');
const EMERGENCY_TONE = 523;
const SOURCE_TONE = 440;
const NEW_TITLE = 'VLC Interop – Second Chain';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface VlcRun {
  readonly code: number | null;
  readonly output: string;
  /** s16le stereo PCM from the WAV's data chunk (empty when VLC wrote none). */
  readonly pcm: Buffer;
  readonly rate: number;
  /** WAV files afile wrote one after the other (it restarts at an Ogg chain boundary). */
  readonly wavs: number;
}

/** PCM and sample rate of one WAV as VLC's afile output writes it (s16, 2 channels asked for). */
function parseWav(b: Buffer): { pcm: Buffer; rate: number } {
  if (b.length < 12 || b.toString('latin1', 0, 4) !== 'RIFF') return { pcm: Buffer.alloc(0), rate: 0 };
  let rate = 0;
  for (let i = 12; i + 8 <= b.length;) {
    const id = b.toString('latin1', i, i + 4);
    const size = b.readUInt32LE(i + 4);
    if (id === 'fmt ') rate = b.readUInt32LE(i + 12);
    // Written to a FIFO, the header's sizes are never fixed up: the data runs to the end.
    if (id === 'data') return { pcm: b.subarray(i + 8), rate };
    i += 8 + size;
  }
  return { pcm: Buffer.alloc(0), rate };
}

/**
 * Reads every WAV VLC writes to the FIFO `path`: afile opens its file anew (truncating it) whenever
 * the audio output restarts, which it does at an Ogg chain boundary, so a plain file would keep only
 * the last chain. Resolves once `done` has settled and the last writer has gone.
 */
async function readFifo(path: string, done: Promise<unknown>): Promise<Buffer[]> {
  const wavs: Buffer[] = [];
  let finished = false;
  let poke: NodeJS.Timeout | undefined;
  void done.then(() => {
    finished = true;
    // A reader blocked in open() waits for a writer: be that writer, so it returns and sees EOF. Again
    // every 100 ms until the loop ends: the loop's next open() may come after the first poke (a race that
    // once hung the test until its timeout).
    const unblock = (): void => {
      try {
        closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        /* no reader waiting */
      }
    };
    unblock();
    poke = setInterval(unblock, 100);
  });
  try {
    while (!finished) {
      const parts: Buffer[] = [];
      for await (const chunk of createReadStream(path)) parts.push(chunk as Buffer);
      if (parts.length > 0) wavs.push(Buffer.concat(parts));
    }
  } finally {
    clearInterval(poke);
  }
  return wavs;
}

/** Runs cvlc as issue 8 did; as `nobody` when we are root (VLC refuses root; vlc-wrapper needs a setuid install). */
async function vlc(dir: string, name: string, url: string, runTimeS: number): Promise<VlcRun> {
  const fifo = join(dir, `${name}.wav`);
  execFileSync('mkfifo', ['-m', '0666', fifo]);
  const user = nobody();
  const args = [
    '--no-color',
    '-v',
    '--no-video',
    '--aout',
    'afile',
    `--audiofile-file=${fifo}`,
    '--audiofile-format=s16',
    '--audiofile-channels=2',
    `--run-time=${runTimeS}`,
    '--play-and-exit',
    url,
  ];
  const r = start('cvlc', args, { cwd: dir, env: { ...process.env, HOME: dir }, ...(user ?? {}) });
  const timer = setTimeout(() => void r.stop(2000), (runTimeS + 25) * 1000);
  const [exit, wavs] = await Promise.all([r.exited, readFifo(fifo, r.exited)]);
  clearTimeout(timer);
  const parsed = wavs.map(parseWav).filter((w) => w.pcm.length > 0);
  return {
    code: exit.code,
    output: r.output.text,
    pcm: Buffer.concat(parsed.map((w) => w.pcm)),
    rate: parsed[0]?.rate ?? 0,
    wavs: parsed.length,
  };
}

function expectTone(v: VlcRun, tone: number, minSeconds: number, what: string): void {
  const seconds = v.pcm.length / 4 / 44_100;
  expect(v.output, `${what}: VLC must not give up`).not.toMatch(/buffer deadlock prevented/);
  expect(v.rate, `${what}: sample rate of VLC's WAV\n${v.output}`).toBe(44_100);
  expect(seconds, `${what}: seconds VLC decoded\n${v.output}`).toBeGreaterThan(minSeconds);
  expect(rmsDb(v.pcm), `${what}: level`).toBeGreaterThan(-40);
  const tones = dominantTones(v.pcm, [EMERGENCY_TONE, SOURCE_TONE]);
  expect(
    tones.filter((t) => t === tone).length,
    `${what}: half-second windows with ${tone} Hz (${tones.join(',')})`,
  ).toBeGreaterThanOrEqual(Math.floor(minSeconds * 2) - 1);
}

describe.skipIf(skip !== undefined)(`VLC 3.0 plays every mount${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let server: AntennaServer;
  let dir: ReturnType<typeof tempDir>;
  let readyAt = 0;
  const sources: ProcessHandle[] = [];

  beforeAll(async () => {
    dir = tempDir('vlc');
    chmodSync(dir.path, 0o777); // VLC runs as `nobody` and writes its WAV and config here
    // No return hold: the source of the title-change test goes on air (and starts a new Ogg chain) quickly.
    server = await startAntenna({ env: { ANTENNA_RETURN_HOLD_SECONDS: '0' } });
    readyAt = performance.now();
  });

  afterAll(async () => {
    for (const s of sources) await s.stop();
    if (server) {
      const r = await server.stop();
      expect(r.leftovers, 'children still running after Antenna exited').toEqual([]);
    }
    dir?.remove();
  });

  const ogg = DEFAULT_MOUNTS.filter((m) => m.codec === 'vorbis').map((m) => m.mount);
  const others = DEFAULT_MOUNTS.filter((m) => m.codec !== 'vorbis').map((m) => m.mount);

  for (const mount of others) {
    it(`cvlc --run-time=5 plays ${mount}: the emergency tone is in its WAV`, async () => {
      const v = await vlc(dir.path, mount.replace(/\W/g, '_'), `${server.httpBase}${mount}`, 5);
      expect(v.code, v.output).toBe(0);
      expectTone(v, EMERGENCY_TONE, 3, mount);
    });
  }

  for (const mount of ogg) {
    it(`cvlc --run-time=5 plays ${mount} joined ≥ 15 s after its encoder started (mid-chain granules)`, async () => {
      const wait = readyAt + 16_000 - performance.now();
      if (wait > 0) await sleep(wait);
      const v = await vlc(dir.path, mount.replace(/\W/g, '_'), `${server.httpBase}${mount}`, 5);
      expect(v.code, v.output).toBe(0);
      expectTone(v, EMERGENCY_TONE, 3, mount);
    });
  }

  it('keeps playing /listen/live.ogg across a title change (a new Ogg chain) and hears the new source', async () => {
    const s = server;
    const wait = readyAt + 16_000 - performance.now();
    if (wait > 0) await sleep(wait);
    const playing = vlc(dir.path, 'chain', `${s.httpBase}/listen/live.ogg`, 16);
    await sleep(2000);
    const since = s.mark();
    sources.push(
      startSourceClient({
        port: s.ports.primary,
        password: s.sourcePassword,
        frequency: SOURCE_TONE,
        ffmpegPath: resolveFfmpegPath(process.env.FFMPEG_PATH),
      }),
    );
    await s.waitForLog('primary connected', logs.sourceConnected('primary'), 20_000, since);
    const q = `mode=updinfo&mount=%2Flive&song=${encodeURIComponent(NEW_TITLE)}`;
    const auth = `Basic ${Buffer.from(`source:${s.sourcePassword}`).toString('base64')}`;
    const res = await fetch(`http://127.0.0.1:${s.ports.primary}/admin/metadata?${q}`, { headers: { authorization: auth } });
    expect(res.status, await res.text()).toBe(200);
    // live.ogg's encode (vorbis-q6) starts a new chain for the new title, in the same process.
    await s.waitForLog(
      'a new Ogg chain on vorbis-q6',
      (l) => l.msg === 'ogg chain started' && l.output === 'vorbis-q6' && Number(l.generation) >= 2,
      20_000,
      since,
    );
    const v = await playing;
    expect(v.code, v.output).toBe(0);
    expect(v.pcm.length / 4 / 44_100, `seconds VLC decoded\n${v.output}`).toBeGreaterThan(12);
    const tones = dominantTones(v.pcm, [EMERGENCY_TONE, SOURCE_TONE]);
    const firstSource = tones.indexOf(SOURCE_TONE);
    expect(
      tones.slice(0, 4).filter((t) => t === EMERGENCY_TONE).length,
      `emergency tone first (${tones.join(',')})`,
    ).toBeGreaterThanOrEqual(3);
    expect(firstSource, `the source's tone after the change (${tones.join(',')})`).toBeGreaterThan(0);
    // After the new chain, VLC plays on: the rest of its 16 s is the source.
    expect(
      tones.slice(firstSource).filter((t) => t === SOURCE_TONE).length,
      `source tone to the end (${tones.join(',')})`,
    ).toBeGreaterThanOrEqual(tones.length - firstSource - 2);
    expect(v.output).not.toMatch(/buffer deadlock prevented/);
  });
});
