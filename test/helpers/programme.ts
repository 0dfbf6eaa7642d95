// Reading the recorded programme by ear: dominant tone per 40 ms window against monotonic time, the
// first time a tone is heard after an event, and the longest silent run in a span.
import type { TestAntenna } from './antenna.js';
import { analyseTones } from './tones.js';

export const WINDOW_MS = 40;

export interface HeardWindow {
  readonly at: number;
  readonly tone: number | null;
  readonly rmsDb: number;
}

/** Windows of the programme made between `fromMs` and `toMs` (performance.now() times). */
export function heard(t: TestAntenna, freqs: readonly number[], fromMs: number, toMs = performance.now()): HeardWindow[] {
  const recs = t.recorded.filter((r) => r.at >= fromMs && r.at < toMs);
  if (recs.length === 0) return [];
  const pcm = Buffer.concat(recs.map((r) => r.chunk.pcm));
  // Chunks are made on the mixer clock: sample i of the span is at (first chunk time + i / rate).
  const t0 = recs[0]!.at;
  return analyseTones(pcm, freqs, WINDOW_MS).map((w) => ({ at: t0 + (w.startSample * 1000) / 44_100, tone: w.dominant, rmsDb: w.rmsDb }));
}

/** First time after `fromMs` that `tone` dominates `sustain` windows in a row; undefined if never. */
export function firstHeard(windows: readonly HeardWindow[], tone: number, fromMs: number, sustain = 5): number | undefined {
  let run = 0;
  for (let i = 0; i < windows.length; i++) {
    const w = windows[i]!;
    if (w.at < fromMs) continue;
    run = w.tone === tone ? run + 1 : 0;
    if (run === sustain) return windows[i - sustain + 1]!.at;
  }
  return undefined;
}

/** Longest run of windows below `db` between two times, in ms. */
export function longestSilenceMs(windows: readonly HeardWindow[], fromMs: number, toMs: number, db = -45): number {
  let run = 0;
  let longest = 0;
  for (const w of windows) {
    if (w.at < fromMs || w.at >= toMs) continue;
    run = w.rmsDb < db ? run + WINDOW_MS : 0;
    longest = Math.max(longest, run);
  }
  return longest;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits until `pred` holds, polling; throws with `what` after `timeoutMs`. */
export async function waitFor(pred: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!pred()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Largest sample-to-sample step of the left channel (full scale 1): a click shows as a jump. */
export function maxStep(pcm: Buffer): number {
  let max = 0;
  let prev = pcm.length >= 4 ? pcm.readInt16LE(0) : 0;
  for (let i = 4; i + 1 < pcm.length; i += 4) {
    const v = pcm.readInt16LE(i);
    max = Math.max(max, Math.abs(v - prev));
    prev = v;
  }
  return max / 32768;
}
