// Keeps the tiers in lockstep: frames from each tier's encoder queue up, and a part is cut only when
// every tier has its frames, so every tier cuts at the same frame index. No I/O, no timers: chunks in, cuts out.
import { readAdtsHeader } from '../codec/adts.js';
import type { EncodedChunk } from '../types/contracts.js';

export interface AlignedFrame {
  readonly data: Buffer;
  readonly title: string;
}

export interface AlignerSink {
  /** Epoch start (timestamps restart); `queuedFrames` frames were already produced before this call. */
  epoch(queuedFrames: number): void;
  /** `frames[t]` holds the same number of frames for every tier t; `final` closes the segment early. */
  part(frames: readonly (readonly AlignedFrame[])[], final: boolean): void;
  /** A tier's encoder restarted or fell too far behind: the current epoch ended. */
  broken(reason: string): void;
}

interface TierQueue {
  frames: AlignedFrame[];
  generation: number | undefined;
  sampleRate: number | undefined;
}

export class Aligner {
  readonly #tiers: TierQueue[];
  readonly #partFrames: number;
  readonly #maxQueue: number;
  readonly #sink: AlignerSink;
  #running = false;

  /** `maxQueueFrames` bounds each tier's queue: past it the tiers are too far apart and re-synchronise. */
  constructor(tierCount: number, partFrames: number, maxQueueFrames: number, sink: AlignerSink) {
    this.#tiers = Array.from({ length: tierCount }, () => ({
      frames: [],
      generation: undefined,
      sampleRate: undefined,
    }));
    this.#partFrames = partFrames;
    this.#maxQueue = Math.max(maxQueueFrames, partFrames * 2);
    this.#sink = sink;
  }

  /** The sample rate read from a tier's ADTS headers (undefined before its first frame). */
  sampleRate(tier: number): number | undefined {
    return this.#tiers[tier]?.sampleRate;
  }

  push(tier: number, chunk: EncodedChunk): void {
    const q = this.#tiers[tier];
    if (!q) throw new RangeError(`no tier ${tier}`);
    if (q.generation !== undefined && chunk.generation !== q.generation) {
      // A new bitstream: its first frame is not the continuation of the old one in any tier.
      this.#break(`tier ${tier} encoder restarted (generation ${q.generation} → ${chunk.generation})`);
      q.frames = [];
    }
    q.generation = chunk.generation;
    // The encoder cut whole frames and says where they end; one header read still catches a tier
    // whose encoder runs at another sample rate than the layout was computed for.
    const first = readAdtsHeader(chunk.data);
    if (first) q.sampleRate = first.sampleRate;
    const title = chunk.meta.title;
    let start = 0;
    for (const end of chunk.frameEnds) {
      q.frames.push({ data: chunk.data.subarray(start, end), title });
      start = end;
    }
    if (q.frames.length > this.#maxQueue) {
      if (this.#running) this.#break(`tier ${tier} is ${q.frames.length} frames ahead of the slowest tier`);
      // While synchronising only the newest frames matter: drop the oldest to stay bounded.
      q.frames.splice(0, q.frames.length - this.#maxQueue);
    }
    if (!this.#running) this.#trySync();
    if (this.#running) this.#drain();
  }

  /** Ends the current epoch: the frames every tier has form a last, short part; the rest is dropped. */
  #break(reason: string): void {
    if (this.#running) {
      const n = Math.min(...this.#tiers.map((t) => t.frames.length));
      if (n > 0) this.#sink.part(this.#take(n), true);
      this.#sink.broken(reason);
    }
    this.#running = false;
    // Drop what is left so the next epoch starts from frames made after the break, aligned by arrival time.
    for (const t of this.#tiers) t.frames = [];
  }

  /**
   * Starts an epoch once every tier has frames: keeping only the newest `min` frames of each queue lines
   * the tiers up by arrival time (encoders fed the same PCM at the same moment emit the same audio then).
   */
  #trySync(): void {
    const n = Math.min(...this.#tiers.map((t) => t.frames.length));
    if (n === 0) return;
    for (const t of this.#tiers) t.frames.splice(0, t.frames.length - n);
    this.#running = true;
    this.#sink.epoch(n);
  }

  #drain(): void {
    while (this.#tiers.every((t) => t.frames.length >= this.#partFrames)) {
      this.#sink.part(this.#take(this.#partFrames), false);
    }
  }

  #take(n: number): AlignedFrame[][] {
    return this.#tiers.map((t) => t.frames.splice(0, n));
  }
}
