import { describe, expect, it } from 'vitest';
import { Crossfader } from '../../src/mixer/crossfade.js';
import type { Tier } from '../../src/types/contracts.js';

const N = 882;
const dc = (v: number): Float32Array => new Float32Array(N * 2).fill(v);
const SOURCES: Record<Tier, Float32Array> = { primary: dc(0.5), fallback: dc(0.3), emergency: dc(0.2) };

function renderFrames(x: Crossfader, frames: number, current: Tier): number[] {
  const out: number[] = [];
  const buf = new Float32Array(N * 2);
  for (let f = 0; f < frames; f++) {
    x.render(buf, N, current, (t) => SOURCES[t]);
    for (let i = 0; i < N; i++) out.push(buf[i * 2]!);
  }
  return out;
}

const maxStep = (v: number[]): number => v.slice(1).reduce((m, x, i) => Math.max(m, Math.abs(x - v[i]!)), 0);

describe('Crossfader', () => {
  it('fades with equal-power gains from one tier to the next', () => {
    const x = new Crossfader();
    x.start('emergency', 'primary', 22_050);
    const out = renderFrames(x, 30, 'primary');
    expect(out[0]).toBeCloseTo(0.2, 3);
    expect(out.at(-1)).toBeCloseTo(0.5, 3);
    // Midway: both at cos(π/4) = sin(π/4).
    expect(out[11_025]).toBeCloseTo((0.2 + 0.5) * Math.SQRT1_2, 2);
    expect(x.fading).toBeNull();
  });

  it('a switch in the middle of a fade continues from the current gains: no jump', () => {
    const x = new Crossfader();
    const before = [0.2];
    x.start('emergency', 'primary', 22_050);
    const a = renderFrames(x, 10, 'primary'); // 40 % of the way
    x.start('primary', 'fallback', 22_050);
    expect(x.involves('emergency')).toBe(true); // the quieter tier leaves through a short tail
    const b = renderFrames(x, 40, 'fallback');
    const all = [...before, ...a, ...b];
    expect(maxStep(all)).toBeLessThan(0.01);
    expect(all.at(-1)).toBeCloseTo(0.3, 3);
    expect(x.involves('emergency')).toBe(false);
  });

  it('a zero-length fade is a cut to the current tier', () => {
    const x = new Crossfader();
    x.start('primary', 'fallback', 0);
    expect(renderFrames(x, 1, 'fallback')[0]).toBeCloseTo(0.3, 5);
  });
});
