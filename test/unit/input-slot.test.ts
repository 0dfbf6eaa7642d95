import { describe, expect, it } from 'vitest';
import { InputSlot } from '../../src/mixer/input-slot.js';
import { sinePcm } from '../helpers/tones.js';

const cfg = {
  frameMs: 20,
  minBufferMs: 150,
  maxBufferMs: 2000,
  stallMs: 300,
  silenceThresholdDb: -50,
  silenceSeconds: 10,
  soundSeconds: 2,
  crossfadeMs: 500,
};

function run(slot: InputSlot, fromMs: number, frames: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let i = 0; i < frames; i++) {
    slot.readFrame(fromMs + i * 20, true);
    out.push(Float32Array.from(slot.frame));
  }
  return out;
}

function maxStep(frames: Float32Array[]): number {
  let prev = 0;
  let max = 0;
  for (const f of frames) {
    for (let i = 0; i < f.length; i += 2) {
      max = Math.max(max, Math.abs((f[i] ?? 0) - prev));
      prev = f[i] ?? 0;
    }
  }
  return max;
}

describe('InputSlot', () => {
  it('ramps audio that stops mid-frame (stall) and starts again, instead of clicking', () => {
    const slot = new InputSlot('primary', cfg, 882);
    slot.connect(1, 0);
    // 331 ms of a 997 Hz sine at 0.8: the buffer runs dry in the middle of a frame, at a non-zero sample.
    slot.push(1, sinePcm(997, 331, 0.8), 0);
    const frames = run(slot, 0, 30);
    slot.push(1, sinePcm(997, 300, 0.8, 44_100, 1.3), 600);
    frames.push(...run(slot, 600, 20));
    // A 997 Hz sine at 0.8 moves at most 2π·997/44100·0.8 ≈ 0.11 per sample; a cut would be up to 0.8.
    expect(maxStep(frames)).toBeLessThan(0.15);
    expect(slot.snapshot(1000).buffer.underruns).toBeGreaterThanOrEqual(1);
  });
});
