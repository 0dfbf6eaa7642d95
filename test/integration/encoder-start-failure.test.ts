// Issue 13 §1, second fault: an Ogg re-chain whose ffmpeg fails to start once wedged the mount for
// good (the failed run sat at the head of the run list, so every later run's output was held back).
// The ffmpeg binary is made to vanish for one start, with the real ffmpeg on either side.
import { mkdtempSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Encoder } from '../../src/encoders/encoder.js';
import { resolveFfmpegPath } from '../../src/ffmpeg/path.js';
import { Backoff } from '../../src/util/backoff.js';
import { createSineProgramme, type SineProgramme } from '../helpers/sine-programme.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(50);
  }
}

describe('encoder start failure (issue 13 §1)', () => {
  it('an Ogg chain whose ffmpeg cannot start never stops the output once a later start succeeds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'antenna-enc-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const link = join(dir, 'ffmpeg');
    symlinkSync(resolveFfmpegPath(undefined), link);
    const programme: SineProgramme = createSineProgramme({ title: 'one' });
    cleanup.push(() => programme.close());
    const enc = new Encoder({
      spec: { codec: 'vorbis', quality: 0 },
      ffmpegPath: link,
      log: pino({ level: process.env.TEST_LOG ?? 'silent' }),
      initialMeta: programme.currentMeta,
      rechainMinMs: 300,
      backoff: new Backoff(200, 400),
    });
    cleanup.push(() => enc.close());
    let bytes = 0;
    enc.subscribe((c) => (bytes += c.data.length));
    await enc.start();
    cleanup.push(programme.subscribe((c) => enc.write(c)));
    await until(() => bytes > 2000, 5000, 'first output');

    unlinkSync(link); // the next start fails: spawn ENOENT
    programme.setTitle('two');
    await until(() => (enc.snapshot().lastError ?? '').includes('cannot start'), 5000, 'the failed start');
    symlinkSync(resolveFfmpegPath(undefined), link);
    await until(() => enc.snapshot().running, 5000, 'a later start');
    const from = bytes;
    await sleep(2000);
    // Vorbis q0 is ~64 kbit/s: 2 s are ~16 kB; the wedge delivered nothing at all.
    expect(bytes - from).toBeGreaterThan(5000);
  }, 30_000);
});
