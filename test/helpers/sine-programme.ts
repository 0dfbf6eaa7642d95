// Test scaffolding: a real-time ProgrammeSource producing a stereo sine in 20 ms frames on a
// monotonic clock (catching up when a tick is late, as the mixer does), with settable titles.
import type { OnAirMeta, ProgrammeChunk, ProgrammeSource, Tier } from '../../src/types/contracts.js';
import { BYTES_PER_FRAME, SAMPLE_RATE } from '../../src/types/pcm.js';

export interface SineProgramme extends ProgrammeSource {
  setTitle(title: string, tier?: Tier): void;
  /** Samples produced so far. */
  readonly produced: number;
  close(): void;
}

export function createSineProgramme(opts: { freq?: number; frameMs?: number; title?: string; speed?: number } = {}): SineProgramme {
  const freq = opts.freq ?? 440;
  const frameSamples = Math.round((SAMPLE_RATE * (opts.frameMs ?? 20)) / 1000);
  const speed = opts.speed ?? 1;
  const subs = new Set<(c: ProgrammeChunk) => void>();
  let meta: OnAirMeta = { title: opts.title ?? '', tier: 'primary', seq: 1 };
  let produced = 0;
  const t0 = performance.now();
  const frame = (first: number): Buffer => {
    const b = Buffer.alloc(frameSamples * BYTES_PER_FRAME);
    for (let i = 0; i < frameSamples; i++) {
      const v = Math.round(Math.sin((2 * Math.PI * freq * (first + i)) / SAMPLE_RATE) * 0.3 * 32767);
      b.writeInt16LE(v, i * 4);
      b.writeInt16LE(v, i * 4 + 2);
    }
    return b;
  };
  const tick = (): void => {
    const due = Math.floor((((performance.now() - t0) / 1000) * SAMPLE_RATE * speed) / frameSamples);
    while (produced / frameSamples < due) {
      const chunk: ProgrammeChunk = { pcm: frame(produced), firstSample: produced, meta };
      produced += frameSamples;
      for (const fn of subs) fn(chunk);
    }
  };
  const timer = setInterval(tick, 10);
  return {
    subscribe(fn) {
      subs.add(fn);
      return () => subs.delete(fn);
    },
    get currentMeta() {
      return meta;
    },
    get produced() {
      return produced;
    },
    setTitle(title, tier = 'primary') {
      meta = { title, tier, seq: meta.seq + 1 };
    },
    close() {
      clearInterval(timer);
      subs.clear();
    },
  };
}
