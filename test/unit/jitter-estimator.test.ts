// The arrival-jitter estimate behind each input's jitter-buffer target: p95 − min of the blocks' lateness
// over the last 15 s, after a 1.5 s warm-up. Checked against a plain sort of the same window.
import { describe, expect, it } from 'vitest';
import { JitterEstimator } from '../../src/mixer/jitter-estimator.js';
import { SAMPLE_RATE } from '../../src/types/pcm.js';

/** A deterministic pseudo-random sequence in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

describe('JitterEstimator', () => {
  it('reports p95 − min of the lateness in the window, as a plain sort of it does', () => {
    const e = new JitterEstimator();
    const random = lcg(42);
    const block = 1152;
    const lateness: { at: number; late: number }[] = [];
    let samples = 0;
    let now = 0;
    for (let i = 0; i < 1500; i++) {
      now = i * ((block / SAMPLE_RATE) * 1000) + random() * 120;
      e.arrived(now, block);
      if (now >= 1500) {
        samples += block;
        lateness.push({ at: now, late: now - (samples * 1000) / SAMPLE_RATE });
      }
    }
    const window = lateness
      .filter((l) => now - l.at <= 15_000)
      .map((l) => l.late)
      .sort((a, b) => a - b);
    const expected = (window[Math.floor(window.length * 0.95)] as number) - (window[0] as number);
    expect(expected).toBeGreaterThan(50);
    expect(e.spreadAt(now)).toBeCloseTo(expected, 9);
  });

  it('is zero for a steady source, and ignores the connect burst', () => {
    const e = new JitterEstimator();
    // A 500 ms burst at connect, then one 20 ms block every 20 ms.
    for (let i = 0; i < 25; i++) e.arrived(0, 882);
    for (let i = 1; i <= 500; i++) e.arrived(500 + i * 20, 882);
    expect(e.spreadAt(10_500)).toBeCloseTo(0, 9);
  });
});
