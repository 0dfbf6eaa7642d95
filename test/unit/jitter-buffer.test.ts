import { describe, expect, it } from 'vitest';
import { JitterBuffer } from '../../src/mixer/jitter-buffer.js';
import { sinePcm } from '../helpers/tones.js';

const FRAME = 882; // 20 ms

/** Simulates a source whose clock runs at `speed` × nominal, with bursty arrivals, read by a 20 ms mixer clock. */
function simulate(opts: { speed: number; seconds: number; burstMs?: number; jitterMs?: number; seed?: number }) {
  const buf = new JitterBuffer({ minMs: 150, maxMs: 2000, frameMs: 20 });
  const out = new Float32Array(FRAME * 2);
  let rnd = opts.seed ?? 1;
  const random = (): number => (rnd = (rnd * 16807) % 2147483647) / 2147483647;
  const block = Math.round(((opts.burstMs ?? 26) * 44100) / 1000);
  const pcm = sinePcm(440, (block / 44100) * 1000, 0.3).subarray(0, block * 4);
  buf.reset(0);
  let nextPush = 0;
  let depthMax = 0;
  let depthMin = Infinity;
  const depths: number[] = [];
  let missing = 0;
  for (let t = 0; t < opts.seconds * 1000; t += 20) {
    while (nextPush <= t) {
      buf.push(pcm, nextPush + random() * (opts.jitterMs ?? 0));
      nextPush += ((block / 44100) * 1000) / opts.speed;
    }
    const got = buf.read(out, FRAME, t, true);
    if (t > 2000) {
      missing += FRAME - got;
      depthMax = Math.max(depthMax, buf.depthMs);
      depthMin = Math.min(depthMin, buf.depthMs);
      depths.push(buf.depthMs);
    }
  }
  const last = depths.slice(-3000);
  return { buf, depthMax, depthMin, missing, meanLast: last.reduce((a, b) => a + b, 0) / last.length };
}

describe('JitterBuffer', () => {
  it('primes to the minimum target before playing, then plays', () => {
    const buf = new JitterBuffer({ minMs: 150, maxMs: 2000, frameMs: 20 });
    const out = new Float32Array(FRAME * 2);
    buf.reset(0);
    buf.push(sinePcm(440, 100), 0);
    expect(buf.state).toBe('priming');
    expect(buf.read(out, FRAME, 0, true)).toBe(0);
    buf.push(sinePcm(440, 60), 60);
    expect(buf.state).toBe('playing');
    expect(buf.read(out, FRAME, 80, true)).toBe(FRAME);
  });

  it('is bounded: overflow drops the oldest audio and counts it', () => {
    const buf = new JitterBuffer({ minMs: 150, maxMs: 500, frameMs: 20 });
    buf.reset(0);
    for (let i = 0; i < 20; i++) buf.push(sinePcm(440, 100), i);
    expect(buf.depthMs).toBeLessThanOrEqual(500);
    expect(buf.snapshot().overflowDroppedMs).toBeGreaterThan(1400);
    expect(buf.snapshot().capacityBytes).toBeLessThanOrEqual(((500 / 1000) * 44100 + 8) * 4);
  });

  it('drops in a few large jumps, not one per push, when a source sends twice as fast as it plays', () => {
    // One push per MP3 frame (26 ms) at 2× for a minute: the ring is full from the third second on.
    const r = simulate({ speed: 2, seconds: 60 });
    const s = r.buf.snapshot();
    expect(r.missing).toBe(0);
    expect(s.overflowDroppedMs).toBeGreaterThan(50_000); // half of what was sent cannot be played
    // Each jump leaves a quarter of the 2 s ring free (500 ms), which a 2× source fills in 0.5 s.
    expect(s.overflows).toBeGreaterThan(60);
    expect(s.overflows).toBeLessThanOrEqual(3 * 60);
    expect(r.depthMax).toBeLessThanOrEqual(2000);
  });

  it('jumps once, down to its target, when a backlog overflows it', () => {
    const buf = new JitterBuffer({ minMs: 150, maxMs: 2000, frameMs: 20 });
    const out = new Float32Array(FRAME * 2);
    buf.reset(0);
    let t = 0;
    for (; t < 5000; t += 20) {
      buf.push(sinePcm(440, 20), t);
      buf.read(out, FRAME, t, true);
    }
    const target = buf.targetMs;
    expect(target).toBeLessThan(300);
    // A stalled uplink delivers its 3 s backlog at once: more than the ring holds.
    let afterJump: number | undefined;
    for (let i = 0; i < 150; i++) {
      buf.push(sinePcm(440, 20), t);
      if (afterJump === undefined && buf.snapshot().overflows === 1) afterJump = buf.depthMs;
    }
    expect(buf.snapshot().overflows).toBe(1);
    expect(afterJump).toBeGreaterThanOrEqual(target);
    expect(afterJump).toBeLessThanOrEqual(target + 20 + 1); // the target and a frame
    expect(buf.read(out, FRAME, t, true)).toBe(FRAME);
  });

  it.each([1.001, 0.999])('absorbs a source clock at %f× for half an hour without creeping or dropouts', (speed) => {
    const r = simulate({ speed, seconds: 1800, jitterMs: 10 });
    expect(r.missing).toBe(0);
    expect(r.buf.snapshot().underruns).toBe(0);
    expect(r.buf.snapshot().overflowDroppedMs).toBe(0);
    // Depth settles near the target instead of creeping by 0.1 % × 1800 s = 1.8 s.
    expect(Math.abs(r.meanLast - r.buf.targetMs)).toBeLessThan(30);
    expect(r.depthMax).toBeLessThan(400);
    expect(r.buf.snapshot().correctedMs).toBeGreaterThan(1500);
    expect(Math.abs(r.buf.snapshot().ratio - 1)).toBeLessThanOrEqual(0.005);
  });

  it('grows its target on a jittery uplink until underruns stop, and stays near the minimum on a clean one', () => {
    const clean = simulate({ speed: 1, seconds: 120, jitterMs: 2 });
    expect(clean.buf.targetMs).toBeLessThan(200);
    const jittery = simulate({ speed: 1, seconds: 300, burstMs: 26, jitterMs: 400, seed: 7 });
    expect(jittery.buf.targetMs).toBeGreaterThan(400);
    // After adapting, no more audio is missing in the last minutes.
    const late = simulate({ speed: 1, seconds: 600, burstMs: 26, jitterMs: 400, seed: 7 });
    expect(late.buf.snapshot().underruns).toBeLessThan(10);
  });

  it('plays out its remainder after the source ends, then goes idle', () => {
    const buf = new JitterBuffer({ minMs: 150, maxMs: 2000, frameMs: 20 });
    const out = new Float32Array(FRAME * 2);
    buf.reset(0);
    buf.push(sinePcm(440, 300), 0);
    buf.end(10);
    expect(buf.state).toBe('draining');
    let total = 0;
    for (let t = 20; t < 1000; t += 20) total += buf.read(out, FRAME, t, true);
    expect(total).toBe(Math.round(0.3 * 44100));
    expect(buf.state).toBe('idle');
  });
});
