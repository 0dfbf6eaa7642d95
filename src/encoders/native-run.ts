// One encoder run inside Node: MP3 through LAME and Vorbis through libvorbis (src/encoders/lame.ts,
// vorbis.ts), in place of an ffmpeg child. It takes the mixer's PCM and hands each output's bytes on
// at once, in the same form the child's pipes carried (whole MP3 frames; Ogg pages, ~40 ms each), so
// the Encoder frames, chains and tags them exactly as it does a child's. Nothing is queued: each write
// is encoded before it returns (~0.1–0.3 ms per 20 ms frame per encode on the event loop).
import type { EncoderSpec } from '../types/contracts.js';
import { SAMPLE_RATE } from '../types/pcm.js';
import type { LameEncoder, LameLibrary } from './lame.js';
import type { VorbisEncoder, VorbisLibrary } from './vorbis.js';

/** The codec libraries that loaded at start (each optional). */
export interface NativeCodecs {
  readonly lame?: LameLibrary;
  readonly vorbis?: VorbisLibrary;
}

/**
 * True if `spec` can run in-process with `codecs`: CBR MP3 (LAME), quality-mode Vorbis (libvorbis).
 * Everything else (AAC, VBR MP3, bitrate-managed Vorbis) stays with ffmpeg.
 */
export function encodesNatively(spec: EncoderSpec, codecs: NativeCodecs | undefined): boolean {
  if (spec.codec === 'mp3') return codecs?.lame !== undefined && spec.bitrate !== undefined;
  if (spec.codec === 'vorbis') return codecs?.vorbis !== undefined && spec.bitrate === undefined;
  return false;
}

export interface NativeRunSpec extends EncoderSpec {
  /** Vorbis: the page duration, as given to ffmpeg's Ogg muxer. */
  readonly oggPageDurationUs?: number;
}

export class NativeRun {
  readonly #encoders: (LameEncoder | VorbisEncoder)[] = [];
  readonly #onOutput: (index: number, data: Buffer) => void;
  readonly #onFailed: (message: string) => void;
  #running = true;

  /** Opens one encoder per spec (throws if a library refuses one, after closing the others). */
  constructor(
    specs: readonly NativeRunSpec[],
    codecs: NativeCodecs,
    onOutput: (index: number, data: Buffer) => void,
    onFailed: (message: string) => void,
  ) {
    this.#onOutput = onOutput;
    this.#onFailed = onFailed;
    try {
      for (const s of specs) {
        if (!encodesNatively(s, codecs)) throw new Error(`no in-process encoder for ${s.codec}`);
        this.#encoders.push(
          s.codec === 'mp3'
            ? (codecs.lame as LameLibrary).open(s.bitrate as number)
            : (codecs.vorbis as VorbisLibrary).open(s.quality ?? 3, Math.round(((s.oggPageDurationUs ?? 40_000) * SAMPLE_RATE) / 1e6)),
        );
      }
    } catch (err) {
      this.#close();
      throw err;
    }
  }

  get running(): boolean {
    return this.#running;
  }

  /** Encodes `pcm` into every output now; a library error ends the run (onFailed) and closes its encoders. */
  write(pcm: Buffer): void {
    if (!this.#running) return;
    for (let i = 0; i < this.#encoders.length; i++) {
      let out: Buffer[];
      try {
        out = (this.#encoders[i] as LameEncoder | VorbisEncoder).encode(pcm);
      } catch (err) {
        this.#close();
        this.#onFailed((err as Error).message);
        return;
      }
      for (const b of out) this.#onOutput(i, b);
    }
  }

  /** Closes every encoder (what a stopped child is); the grace period has nothing to wait for. */
  stop(): Promise<void> {
    this.#close();
    return Promise.resolve();
  }

  #close(): void {
    this.#running = false;
    for (const e of this.#encoders.splice(0)) e.close();
  }
}
