import { describe, expect, it } from 'vitest';
import { SilenceDetector } from '../../src/mixer/silence.js';

const opts = { thresholdDb: -50, silenceMs: 10_000, soundMs: 2_000 };

function feedFor(d: SilenceDetector, db: number, ms: number, step = 20): string[] {
  const changes: string[] = [];
  for (let t = 0; t < ms; t += step) {
    const c = d.feed(db, step);
    if (c) changes.push(c);
  }
  return changes;
}

describe('SilenceDetector', () => {
  it('starts as sound and turns silent only after silenceMs below the threshold', () => {
    const d = new SilenceDetector(opts);
    expect(d.state).toBe('sound');
    expect(feedFor(d, -60, 9_980)).toEqual([]);
    expect(feedFor(d, -60, 20)).toEqual(['became-silent']);
  });

  it('quiet speech at -45 dBFS (Liquidsoap -40 would flag it) is sound at the -50 default', () => {
    const d = new SilenceDetector(opts);
    expect(feedFor(d, -45, 60_000)).toEqual([]);
  });

  it('a loud frame restarts the silence count', () => {
    const d = new SilenceDetector(opts);
    feedFor(d, -60, 9_000);
    feedFor(d, -20, 20);
    expect(feedFor(d, -60, 9_000)).toEqual([]);
  });

  it('a single click does not end silence; sustained sound for soundMs does', () => {
    const d = new SilenceDetector(opts);
    feedFor(d, -60, 10_000);
    expect(d.state).toBe('silent');
    expect(feedFor(d, -10, 40)).toEqual([]);
    expect(feedFor(d, -60, 1_000)).toEqual([]);
    expect(d.state).toBe('silent');
    expect(feedFor(d, -30, 1_980)).toEqual([]);
    expect(feedFor(d, -30, 20)).toEqual(['became-sound']);
  });

  it('short pauses inside speech do not reset the sustained-sound count, long gaps do', () => {
    const d = new SilenceDetector(opts);
    feedFor(d, -60, 10_000);
    for (let i = 0; i < 7; i++) {
      feedFor(d, -30, 300);
      feedFor(d, -60, 100);
    }
    expect(d.state).toBe('sound'); // 7 × 300 ms of sound with 100 ms pauses reaches 2 s
    const d2 = new SilenceDetector(opts);
    feedFor(d2, -60, 10_000);
    for (let i = 0; i < 10; i++) {
      feedFor(d2, -30, 300);
      feedFor(d2, -60, 500);
    }
    expect(d2.state).toBe('silent');
  });
});
