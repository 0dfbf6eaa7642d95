// One AAC encode inside Node with libfdk-aac (src/encoders/fdk-aac.ts): the same surface as an ffmpeg
// Encoder (src/encoders/encoder.ts), so createEncoders, the supervisor, the mounts and HLS treat both
// alike. Each mixer chunk is encoded as it is written, and its frames go to the subscribers at once: no
// pipe, no process, nothing queued. A library error ends the run (`died`), and the supervisor's
// restart() opens a fresh encoder, a new generation, as it would start a new ffmpeg.
import type { Logger } from 'pino';
import { fault } from '../errors.js';
import type { EncoderEvents } from '../types/events.js';
import type { EncodedChunk, EncodedStream, EncoderSpec, OnAirMeta, ProgrammeChunk } from '../types/contracts.js';
import { encoderKey } from '../types/encoder-spec.js';
import { BYTES_PER_FRAME } from '../types/pcm.js';
import type { EncoderSnapshot } from '../types/snapshots.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import type { FdkAacEncoder, FdkAacLibrary } from './fdk-aac.js';
import { Framer } from './framing.js';

export interface FdkEncoderOptions {
  readonly spec: EncoderSpec;
  readonly library: FdkAacLibrary;
  readonly log: Logger;
  readonly initialMeta: OnAirMeta;
}

/** Titles change rarely; this bounds the points kept under a flood of updates. */
const MAX_META_POINTS = 256;

export class FdkEncoder implements EncodedStream {
  readonly key: string;
  readonly spec: EncoderSpec;
  /** This encode, as the mounts and HLS see it (the encoder is its own single output). */
  readonly outputs: readonly EncodedStream[];
  readonly events: TypedEmitter<EncoderEvents>;
  readonly engine = 'fdk-aac';
  readonly #subscribers = new Set<(chunk: EncodedChunk) => void>();
  readonly #opts: FdkEncoderOptions;
  readonly #log: Logger;
  #encoder: FdkAacEncoder | undefined;
  #framer = new Framer('aac');
  #generation = 0;
  /** On-air metadata by input sample of this run, and how many samples have gone in and come out. */
  #metaPoints: { at: number; meta: OnAirMeta }[] = [];
  #samplesIn = 0;
  #samplesOut = 0;
  #meta: OnAirMeta;
  #bytesIn = 0;
  #bytesOut = 0;
  #dropped = 0;
  #lastError: string | undefined;
  #closed = false;

  private constructor(opts: FdkEncoderOptions) {
    this.spec = opts.spec;
    this.key = encoderKey(opts.spec);
    this.outputs = [this];
    this.#opts = opts;
    this.#log = opts.log.child({ encoder: this.key });
    this.events = new TypedEmitter<EncoderEvents>(this.#log);
    this.#meta = opts.initialMeta;
  }

  /** Opens the encoder; rejects (the library's error) if it cannot. */
  static async create(opts: FdkEncoderOptions): Promise<FdkEncoder> {
    const enc = new FdkEncoder(opts);
    await enc.restart();
    return enc;
  }

  /** Opens a fresh encoder (a new generation) unless one is open; throws if the library refuses. */
  restart(): Promise<void> {
    if (this.#closed || this.#encoder) return Promise.resolve();
    try {
      this.#encoder = this.#opts.library.open(this.spec.bitrate ?? 128_000);
    } catch (err) {
      this.#lastError = (err as Error).message;
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    this.#generation++;
    this.#framer = new Framer('aac');
    this.#metaPoints = [];
    this.#samplesIn = 0;
    this.#samplesOut = 0;
    this.#log.info(
      { generation: this.#generation, engine: 'fdk-aac', library: this.#opts.library.name, delay: this.#encoder.delay },
      'encoder started',
    );
    this.events.emit('started', { key: this.key, generation: this.#generation, pid: undefined });
    return Promise.resolve();
  }

  output(key: string): EncodedStream | undefined {
    return key === this.key ? this : undefined;
  }

  subscribe(fn: (chunk: EncodedChunk) => void): () => void {
    this.#subscribers.add(fn);
    return () => this.#subscribers.delete(fn);
  }

  /** Encodes one programme chunk now; never throws into the mixer (a library error ends the run). */
  write(chunk: ProgrammeChunk): void {
    if (this.#closed) return;
    const enc = this.#encoder;
    if (!enc) {
      this.#meta = chunk.meta;
      this.#dropped += chunk.pcm.length;
      return;
    }
    if (chunk.meta.seq !== this.#meta.seq || this.#metaPoints.length === 0) {
      this.#meta = chunk.meta;
      this.#metaPoints.push({ at: this.#samplesIn, meta: chunk.meta });
      if (this.#metaPoints.length > MAX_META_POINTS) this.#metaPoints.splice(1, 1);
    }
    this.#samplesIn += chunk.pcm.length / BYTES_PER_FRAME;
    this.#bytesIn += chunk.pcm.length;
    let adts: Buffer[];
    try {
      adts = enc.encode(chunk.pcm);
    } catch (err) {
      this.#died((err as Error).message);
      return;
    }
    for (const frame of adts) {
      for (const f of this.#framer.push(frame)) {
        const meta = this.#metaAt();
        this.#samplesOut += f.samples;
        this.#emit({
          data: f.data,
          meta,
          generation: this.#generation,
          frames: f.frames,
          samples: f.samples,
          frameEnds: f.frameEnds,
          oggHeader: false,
        });
      }
    }
  }

  snapshot(): EncoderSnapshot[] {
    return [
      {
        key: this.key,
        spec: this.spec,
        process: this.key,
        pid: undefined,
        running: this.#encoder !== undefined,
        generation: this.#generation,
        stalls: 0,
        lastError: this.#lastError,
        bytesIn: this.#bytesIn,
        bytesOut: this.#bytesOut,
        queueBytes: 0,
        droppedBytes: this.#dropped,
        subscribers: this.#subscribers.size,
      },
    ];
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#encoder?.close();
    this.#encoder = undefined;
    this.#subscribers.clear();
    this.events.removeAllListeners();
    return Promise.resolve();
  }

  /** The metadata of the audio now leaving: the last point at or before the samples already out. */
  #metaAt(): OnAirMeta {
    const points = this.#metaPoints;
    while (points.length > 1 && (points[1] as { at: number }).at <= this.#samplesOut) points.shift();
    return points[0]?.meta ?? this.#meta;
  }

  #emit(chunk: EncodedChunk): void {
    this.#bytesOut += chunk.data.length;
    for (const fn of this.#subscribers) {
      try {
        fn(chunk);
      } catch (err) {
        this.#log.error({ err }, 'encoded-chunk subscriber threw');
      }
    }
  }

  #died(message: string): void {
    this.#encoder?.close();
    this.#encoder = undefined;
    this.#lastError = message;
    const f = fault('ENCODER_FAILED', `libfdk-aac: ${message}`);
    this.#log.error({ code: f.code }, f.message);
    this.events.emit('died', { key: this.key, fault: f, pid: undefined, stderrTail: [] });
  }
}
