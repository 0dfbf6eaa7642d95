// The mixer's clock: one timer wake-up per frame, each one's lateness recorded as the process's
// event-loop delay (issue 12: every wake-up of an idle process costs CPU; the mixer used to tick at
// half a frame, and a separate event-loop monitor had a timer of its own).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHistogram } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { resolveFfmpegPath } from '../../src/ffmpeg/path.js';
import { createRootLogger } from '../../src/log.js';
import { createMixer, type Mixer } from '../../src/mixer/mixer.js';
import { makeToneFile } from '../helpers/antenna.js';

let mixer: Mixer | undefined;
let dir: string | undefined;
afterEach(async () => {
  await mixer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  mixer = dir = undefined;
});

describe('mixer clock', () => {
  it('wakes once per frame, on time, and records how late each wake-up was', async () => {
    dir = mkdtempSync(join(tmpdir(), 'antenna-clock-'));
    const config = loadConfig({ env: {}, overrides: { emergencyFile: makeToneFile(dir, 440), dataDir: join(dir, 'data') } });
    const lateness = createHistogram();
    mixer = await createMixer({ config, log: createRootLogger('silent'), ffmpegPath: resolveFfmpegPath(undefined), lateness });
    const chunks: number[] = [];
    mixer.subscribe(() => chunks.push(performance.now()));
    await new Promise((r) => setTimeout(r, 3000));
    const s = mixer.snapshot();
    // 3 s of 20 ms frames, all produced by the clock; no frame skipped.
    expect(s.framesProduced).toBeGreaterThanOrEqual(140);
    expect(s.framesProduced).toBeLessThanOrEqual(155);
    expect(s.clockSkippedFrames).toBe(0);
    // One tick per frame (the half-frame interval ticked twice per frame); a tick that finds two frames
    // due (a blocked loop) produces both, so ticks never exceed frames by more than the one under way.
    expect(lateness.count).toBeGreaterThan(s.framesProduced * 0.9);
    expect(lateness.count).toBeLessThanOrEqual(s.framesProduced + 1);
    // Each frame leaves within a few ms of its time on an unloaded loop: the median gap is the frame.
    const gaps = chunks
      .slice(1)
      .map((t, i) => t - (chunks[i] as number))
      .sort((a, b) => a - b);
    expect(gaps[Math.floor(gaps.length / 2)]).toBeGreaterThan(config.frameMs - 5);
    expect(gaps[Math.floor(gaps.length / 2)]).toBeLessThan(config.frameMs + 5);
    // Lateness is in ns, and a CI machine's p50 stays well under a frame.
    expect(lateness.percentile(50) / 1e6).toBeLessThan(config.frameMs);
  });
});
