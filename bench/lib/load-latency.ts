// Source → listener latency on every mount at once: one listener per mount decodes with ffmpeg (Ogg as
// 'ogg', ADTS as 'aac') and stamps 40 ms Goertzel windows; the Node-timed source switches its tone at
// a stamped sample, and each mount's latency is when its listener first hears the new tone.
import { firstHeard, listen, type BenchListener } from '../../test/helpers/timed-listener.js';
import type { PcmSource } from '../../test/helpers/pcm-source.js';

export const MOUNTS: readonly { mount: string; format: string }[] = [
  { mount: '/listen/live.mp3', format: 'mp3' },
  { mount: '/listen/live-128.mp3', format: 'mp3' },
  { mount: '/listen/live.aac', format: 'aac' },
  { mount: '/listen/live-64.aac', format: 'aac' },
  { mount: '/listen/live.ogg', format: 'ogg' },
  { mount: '/listen/live-96.ogg', format: 'ogg' },
];

export interface MountLatency {
  readonly medianMs: number;
  readonly maxMs: number;
  readonly samples: number[];
  /** Steps this mount's listener never heard within the timeout. */
  readonly missed: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitHeard(l: BenchListener, tone: number, after: number, timeoutMs = 15_000): Promise<number | null> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    const at = firstHeard(l.windows, tone, after);
    if (at !== undefined) return at;
    await sleep(50);
  }
  return null;
}

/** `tones[0]` must be what the source plays now; steps alternate between tones[1] and tones[0]. */
export async function mountLatencies(
  ffmpeg: string,
  httpPort: number,
  source: PcmSource,
  tones: readonly [number, number],
  steps: number,
): Promise<Record<string, MountLatency>> {
  const listeners: BenchListener[] = [];
  try {
    for (const m of MOUNTS) listeners.push(await listen(ffmpeg, `http://127.0.0.1:${httpPort}${m.mount}`, m.format, tones));
    // Every listener is past its burst and hearing the current tone before the first step.
    await Promise.all(listeners.map((l) => waitHeard(l, tones[0], 0, 20_000)));
    await sleep(2000);
    const samples: number[][] = MOUNTS.map(() => []);
    const missed = MOUNTS.map(() => 0);
    for (let i = 0; i < steps; i++) {
      const tone = i % 2 === 0 ? tones[1] : tones[0];
      const at = await source.setTone(tone);
      const heard = await Promise.all(listeners.map((l) => waitHeard(l, tone, at)));
      heard.forEach((h, k) => (h === null ? missed[k]!++ : samples[k]!.push(Math.round(h - at))));
      await sleep(1500);
    }
    const out: Record<string, MountLatency> = {};
    MOUNTS.forEach((m, k) => {
      const s = (samples[k] ?? []).sort((a, b) => a - b);
      out[m.mount] = { medianMs: s[Math.floor(s.length / 2)] ?? -1, maxMs: s.at(-1) ?? -1, samples: s, missed: missed[k] ?? 0 };
    });
    return out;
  } finally {
    await Promise.all(listeners.map((l) => l.close()));
  }
}
