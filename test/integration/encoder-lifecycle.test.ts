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
      spec: { codec: 'mp3', bitrate: 128_000 },
      ffmpegPath: resolveFfmpegPath(undefined),
      log,
      initialMeta: programme.currentMeta,
    });
    const first = enc.snapshot().pid as number;
    const died = new Promise((r) => enc.events.once('died', r));
    process.kill(first, 'SIGKILL');
    await died;
    // No await: close() arrives while the replacement is between spawn() and its 'spawn' event.
    const restarting = enc.restart();
    await enc.close();
    await restarting;
    expect(ffmpegChildren()).toEqual([]);
    expect(enc.snapshot().running).toBe(false);
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
      spec: { codec: 'vorbis', quality: 2 },
      ffmpegPath: ffmpeg,
      log,
      initialMeta: programme.currentMeta,
      rechainMinMs: 0,
    });
    cleanup.push(() => enc.close());
    supervisor.watch({
      name: enc.key,
      kind: 'encoder',
      subscribe: (h) => [enc.events.on('started', (e) => h.started(e.pid)), enc.events.on('died', (d) => h.died(d))],
      restart: () => enc.restart(),
    });
    const chunks: EncodedChunk[] = [];
    enc.subscribe((c) => chunks.push(c));
    cleanup.push(programme.subscribe((c) => enc.write(c)) as () => void);
    await waitFor(() => chunks.some((c) => c.samples > 0), 'first audio', 5000);

    // The next chain (a new title) cannot start: its ffmpeg is gone.
    unlinkSync(ffmpeg);
    const failed = new Promise<string>((r) => enc.events.once('died', (d) => r(d.fault.code)));
    programme.setTitle('two');
    expect(await failed).toBe('FFMPEG_START_FAILED');
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
