// An encoder's lifecycle against the real ffmpeg: close() reaps a child that is still spawning, and a
// replacement that cannot start never wedges the output once a later start succeeds.
import { readFileSync, readdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Encoder } from '../../src/encoders/encoder.js';
import { resolveFfmpegPath } from '../../src/ffmpeg/path.js';
import { Supervisor } from '../../src/supervisor/supervisor.js';
import type { EncodedChunk } from '../../src/types/contracts.js';
import { waitFor } from '../helpers/programme.js';
import { createSineProgramme, type SineProgramme } from '../helpers/sine-programme.js';

const log = pino({ level: process.env.TEST_LOG ?? 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pids of this process's live children whose command is ffmpeg. */
function ffmpegChildren(): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === process.pid && fields[0] !== 'Z' && /ffmpeg/.test(readFileSync(`/proc/${d}/cmdline`, 'utf8')))
        out.push(Number(d));
    } catch {
      // the process left while we looked
    }
  }
  return out;
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('encoder lifecycle', () => {
  it('close() during a restart reaps the child that was still spawning', async () => {
    const programme = createSineProgramme();
    cleanup.push(() => programme.close());
    const enc = await Encoder.create({
      specs: [{ codec: 'mp3', bitrate: 128_000 }],
      ffmpegPath: resolveFfmpegPath(undefined),
      log,
      initialMeta: programme.currentMeta,
    });
    const first = enc.snapshot()[0]?.pid as number;
    const died = new Promise((r) => enc.events.once('died', r));
    process.kill(first, 'SIGKILL');
    await died;
    // No await: close() arrives while the replacement is between spawn() and its 'spawn' event.
    const restarting = enc.restart();
    await enc.close();
    await restarting;
    expect(ffmpegChildren()).toEqual([]);
    expect(enc.snapshot()[0]?.running).toBe(false);
  });

  it('a replacement that cannot start (ffmpeg gone) never stops the output once a later start succeeds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'antenna-enc-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const ffmpeg = join(dir, 'ffmpeg');
    symlinkSync(resolveFfmpegPath(undefined), ffmpeg);
    const programme: SineProgramme = createSineProgramme({ title: 'one' });
    cleanup.push(() => programme.close());
    const supervisor = new Supervisor({ log, baseMs: 200, maxMs: 400 });
    cleanup.push(() => supervisor.close());
    const enc = await Encoder.create({
      specs: [{ codec: 'vorbis', quality: 2 }],
      ffmpegPath: ffmpeg,
      log,
      initialMeta: programme.currentMeta,
      rechainMinMs: 0,
    });
    cleanup.push(() => enc.close());
    supervisor.watch({
      name: enc.key,
      kind: 'encoder',
      engine: 'ffmpeg',
      subscribe: (h) => [enc.events.on('started', (e) => h.started(e.pid)), enc.events.on('died', (d) => h.died(d))],
      restart: () => enc.restart(),
    });
    const chunks: EncodedChunk[] = [];
    enc.outputs[0]?.subscribe((c) => chunks.push(c));
    cleanup.push(programme.subscribe((c) => enc.write(c)) as () => void);
    await waitFor(() => chunks.some((c) => c.samples > 0), 'first audio', 5000);

    // The process dies and its replacement cannot start: its ffmpeg is gone.
    unlinkSync(ffmpeg);
    const codes: string[] = [];
    enc.events.on('died', (d) => codes.push(d.fault.code));
    process.kill(enc.snapshot()[0]?.pid as number, 'SIGKILL');
    await waitFor(() => codes.includes('FFMPEG_START_FAILED'), 'a failed start', 5000);
    // ffmpeg is back: the supervisor's restart succeeds and audio flows again, in a new generation.
    symlinkSync(resolveFfmpegPath(undefined), ffmpeg);
    const gen = Math.max(...chunks.map((c) => c.generation));
    await waitFor(() => chunks.some((c) => c.generation > gen && c.samples > 0), 'audio after the restart', 8000);
    const n = chunks.length;
    await sleep(1000);
    expect(chunks.length - n).toBeGreaterThan(10);
    expect(supervisor.snapshot()[0]?.restarts).toBeGreaterThanOrEqual(1);
  });
});

describe('one ffmpeg, several encodes', () => {
  it('frames every output of a shared process, each chunk tagged with the title of its audio', async () => {
    const programme = createSineProgramme({ title: 'first' });
    cleanup.push(() => programme.close());
    const specs = [
      { codec: 'mp3', bitrate: 320_000 },
      { codec: 'mp3', bitrate: 128_000 },
      { codec: 'aac', bitrate: 64_000 },
      { codec: 'aac', bitrate: 192_000 },
    ] as const;
    const enc = await Encoder.create({ specs, ffmpegPath: resolveFfmpegPath(undefined), log, initialMeta: programme.currentMeta });
    cleanup.push(() => enc.close());
    expect(enc.key).toBe('mp3-320k+mp3-128k+aac-64k+aac-192k');
    const got = enc.outputs.map(() => [] as EncodedChunk[]);
    enc.outputs.forEach((o, i) => o.subscribe((c) => got[i]?.push(c)));
    cleanup.push(programme.subscribe((c) => enc.write(c)) as () => void);
    await waitFor(() => got.every((g) => g.reduce((a, c) => a + c.samples, 0) > 44_100), 'a second on every output', 8000);
    programme.setTitle('second');
    await waitFor(() => got.every((g) => g.some((c) => c.meta.title === 'second')), 'the new title on every output', 8000);
    for (const [i, g] of got.entries()) {
      // Titles change once, in order, on every output; frames are whole (each chunk starts with a sync word).
      const titles = g.map((c) => c.meta.title).filter((t, k, a) => k === 0 || a[k - 1] !== t);
      expect(titles, `output ${i}`).toEqual(['first', 'second']);
      for (const c of g) expect(c.data[0], `output ${i}`).toBe(0xff);
    }
    // One process for all four: the snapshot names it on every output, with one pid.
    const snap = enc.snapshot();
    expect(new Set(snap.map((s) => s.pid)).size).toBe(1);
    expect(snap.map((s) => s.process)).toEqual(Array(4).fill(enc.key));
    expect(ffmpegChildren()).toHaveLength(1);
  });

  it('re-chains a Vorbis pair together on a title change, and a restart brings every output back', async () => {
    const programme = createSineProgramme({ title: 'one' });
    cleanup.push(() => programme.close());
    const supervisor = new Supervisor({ log, baseMs: 100, maxMs: 200 });
    cleanup.push(() => supervisor.close());
    const enc = await Encoder.create({
      specs: [
        { codec: 'vorbis', quality: 6 },
        { codec: 'vorbis', quality: 2 },
      ],
      ffmpegPath: resolveFfmpegPath(undefined),
      log,
      initialMeta: programme.currentMeta,
      rechainMinMs: 0,
    });
    cleanup.push(() => enc.close());
    supervisor.watch({
      name: enc.key,
      kind: 'encoder',
      engine: 'ffmpeg',
      subscribe: (h) => [enc.events.on('started', (e) => h.started(e.pid)), enc.events.on('died', (d) => h.died(d))],
      restart: () => enc.restart(),
    });
    const got = enc.outputs.map(() => [] as EncodedChunk[]);
    enc.outputs.forEach((o, i) => o.subscribe((c) => got[i]?.push(c)));
    cleanup.push(programme.subscribe((c) => enc.write(c)) as () => void);
    await waitFor(() => got.every((g) => g.some((c) => c.samples > 0)), 'audio on both', 8000);
    programme.setTitle('two');
    await waitFor(() => got.every((g) => g.some((c) => c.generation === 2 && c.samples > 0)), 'the second chain on both', 8000);
    for (const g of got) {
      // Each output's second chain starts with its own headers, carrying the new title in the Vorbis comment.
      const head = Buffer.concat(g.filter((c) => c.generation === 2 && c.oggHeader).map((c) => c.data));
      expect(head.includes(Buffer.from('two'))).toBe(true);
    }
    const pid = enc.snapshot()[0]?.pid as number;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => got.every((g) => g.some((c) => c.generation === 3 && c.samples > 0)), 'both back after the kill', 8000);
    expect(supervisor.snapshot()[0]?.name).toBe('vorbis-q6+vorbis-q2');
  });

  it('runs Vorbis beside MP3 in one process: a title starts a new Ogg chain and restarts nothing', async () => {
    const programme = createSineProgramme({ title: 'one' });
    cleanup.push(() => programme.close());
    const enc = await Encoder.create({
      specs: [
        { codec: 'mp3', bitrate: 128_000 },
        { codec: 'vorbis', quality: 2 },
      ],
      ffmpegPath: resolveFfmpegPath(undefined),
      log,
      initialMeta: programme.currentMeta,
      rechainMinMs: 0,
    });
    cleanup.push(() => enc.close());
    const got = enc.outputs.map(() => [] as EncodedChunk[]);
    enc.outputs.forEach((o, i) => o.subscribe((c) => got[i]?.push(c)));
    cleanup.push(programme.subscribe((c) => enc.write(c)) as () => void);
    await waitFor(() => got.every((g) => g.some((c) => c.samples > 0)), 'audio on both', 8000);
    const pid = enc.snapshot()[0]?.pid;
    programme.setTitle('two');
    const [mp3, ogg] = got as [EncodedChunk[], EncodedChunk[]];
    await waitFor(() => ogg.some((c) => c.generation === 2 && c.samples > 0), 'the second chain', 8000);
    await waitFor(() => mp3.some((c) => c.meta.title === 'two'), 'the title on the MP3 output', 8000);
    // The same process, and the MP3 bitstream never restarted.
    expect(enc.snapshot().map((x) => x.pid)).toEqual([pid, pid]);
    expect(new Set(mp3.map((c) => c.generation))).toEqual(new Set([1]));
    // The old chain ends with an EOS page before the new chain's headers, which carry the new title.
    const i = ogg.findIndex((c) => c.generation === 2);
    expect(ogg[i - 1]?.generation).toBe(1);
    expect(((ogg[i - 1]?.data[5] ?? 0) & 0x04) !== 0).toBe(true);
    // That EOS page ends the old title's chain, and carries the old title.
    expect(ogg[i - 1]?.meta.title).toBe('one');
    const head = Buffer.concat(ogg.filter((c) => c.generation === 2 && c.oggHeader).map((c) => c.data));
    expect(head.includes(Buffer.from('TITLE=two'))).toBe(true);
    expect(ogg.filter((c) => c.generation === 2 && c.samples > 0).every((c) => c.meta.title === 'two')).toBe(true);
  });

  it('auto AAC coder: the running ffmpeg encodes 64k and 128k with twoloop and 192k with fast, and all three play', async () => {
    const programme = createSineProgramme();
    cleanup.push(() => programme.close());
    const lines: Record<string, unknown>[] = [];
    const captured = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const enc = await Encoder.create({
      specs: [64_000, 128_000, 192_000].map((bitrate) => ({ codec: 'aac' as const, bitrate })),
      ffmpegPath: resolveFfmpegPath(undefined),
      log: captured,
      initialMeta: programme.currentMeta,
      aacCoder: 'auto',
    });
    cleanup.push(() => enc.close());
    const got = enc.outputs.map(() => [] as EncodedChunk[]);
    enc.outputs.forEach((o, i) => o.subscribe((c) => got[i]?.push(c)));
    cleanup.push(programme.subscribe((c) => enc.write(c)) as () => void);
    await waitFor(() => got.every((g) => g.reduce((n, c) => n + c.samples, 0) > 44_100), 'a second of audio on every output', 8000);
    // What ffmpeg was told, read back from the live process: one -aac_coder per output, in order.
    const argv = readFileSync(`/proc/${enc.snapshot()[0]?.pid}/cmdline`, 'utf8').split('\0');
    expect(argv.flatMap((a, i) => (a === '-aac_coder' ? [argv[i + 1]] : []))).toEqual(['twoloop', 'twoloop', 'fast']);
    // And the log says so, per output.
    expect(lines.find((l) => l.msg === 'encoder started')?.aacCoders).toEqual({
      'aac-64k': 'twoloop',
      'aac-128k': 'twoloop',
      'aac-192k': 'fast',
    });
  });
});
