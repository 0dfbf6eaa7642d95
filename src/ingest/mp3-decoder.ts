// An MP3 source decoded inside Node (mpg123 compiled to WebAssembly, the npm `mpg123-decoder`), in place
// of an ffmpeg child: each frame is decoded as soon as it has arrived, where ffmpeg's MP3 demuxer waits for
// 1,024-byte packets (~50 ms less source-to-listener latency, measured), and each source runs one process
// fewer. It costs no more CPU than the child did (README, *Choices*), and it runs on the event loop.
// It only takes what needs no resampling (MPEG-1 at 44.1 kHz, the internal rate); decoder.ts sends every
// other stream to ffmpeg. Same contract as the ffmpeg decoder: whole stereo s16 samples out, an `exited`
// report, and the byte counters the session's garbage watchdog reads.
import type { Logger } from 'pino';
import { MPEGDecoder } from 'mpg123-decoder';
import type { FfmpegExit } from '../ffmpeg/child.js';
import { CHANNELS, SAMPLE_RATE } from '../types/pcm.js';
import type { PcmDecoder } from './decoder.js';

/** At most one decode-error log line per this many ms per source: garbage must not flood the log. */
const ERROR_LOG_INTERVAL_MS = 1_000;
const STDERR_TAIL = 5;
/**
 * Pacing. A source may send this much audio ahead of real time (a connect burst, an encoder's backlog),
 * then at most MAX_SPEED seconds of audio a second. A client sending a file at full speed (ffmpeg without
 * `-re`) would otherwise have its whole decode run on the event loop at once (~3 ms per second of
 * 128k audio); the mixer keeps only `maxBufferMs` of it anyway. A studio whose clock runs fast by a
 * fraction of a percent never comes near it.
 */
const BURST_MS = 10_000;
const MAX_SPEED = 2;
/** Reads per fed chunk at most (a 64 KB chunk holds ~150 frames of 128k MP3). */
const MAX_READS_PER_FEED = 4096;

/**
 * The parts of mpg123-decoder 1.0.3 (pinned in package-lock) that decode() itself uses. Its decode()
 * copies each frame's samples out of WebAssembly memory twice (a slice per frame, then one array per
 * call), ~1.4 MB/s of short-lived arrays for two 128k sources, and those array buffers, not the
 * JavaScript heap, were what set off most of the server's full garbage collections at idle (every
 * ~4 s). Reading the decoder's output buffer in place converts it to s16 in one pass. start() checks
 * that every part is there, so a library update that moves them fails loudly in the tests instead of
 * decoding nothing.
 */
interface Mpg123Internals {
  readonly _common: {
    readonly wasm: {
      mpeg_decoder_feed(decoder: number, input: number, length: number): number;
      mpeg_decoder_read(decoder: number, output: number, outputLength: number, samples: number, rate: number, error: number): number;
    };
  };
  readonly _decoder: number;
  readonly _input: { readonly buf: Uint8Array; readonly ptr: number; readonly len: number };
  readonly _output: { readonly buf: Float32Array; readonly ptr: number; readonly len: number };
  readonly _samplesDecodedPtr: { readonly buf: Uint32Array; readonly ptr: number };
  readonly _sampleRatePtr: { readonly buf: Uint32Array; readonly ptr: number };
  readonly _errorStringPtr: { readonly ptr: number };
  _getErrorMessage(error: number): string;
}

function internalsOf(decoder: MPEGDecoder): Mpg123Internals {
  const d = decoder as unknown as Partial<Mpg123Internals>;
  const ok =
    typeof d._common?.wasm.mpeg_decoder_feed === 'function' &&
    typeof d._common.wasm.mpeg_decoder_read === 'function' &&
    typeof d._decoder === 'number' &&
    d._input?.buf instanceof Uint8Array &&
    d._output?.buf instanceof Float32Array &&
    d._samplesDecodedPtr?.buf instanceof Uint32Array &&
    d._sampleRatePtr?.buf instanceof Uint32Array &&
    typeof d._errorStringPtr?.ptr === 'number' &&
    typeof d._getErrorMessage === 'function';
  if (!ok) throw new Error('mpg123-decoder: not the 1.0.x internals this decoder reads (see src/ingest/mp3-decoder.ts)');
  return d as Mpg123Internals;
}

/** mpg123's return codes that are not errors. */
const MPG123_NEED_MORE = -10;
const MPG123_NEW_FORMAT = -11;

/**
 * Planar float samples (left at 0, right at n) to interleaved s16 in `out`, rounded and clipped as
 * ffmpeg's float-to-s16 conversion does.
 */
function toS16(planar: Float32Array, n: number, out: Buffer): Buffer {
  const pcm = out.subarray(0, n * CHANNELS * 2);
  const s16 = new Int16Array(pcm.buffer, pcm.byteOffset, n * CHANNELS);
  for (let i = 0; i < n; i++) {
    const l = Math.round((planar[i] ?? 0) * 32768);
    const r = Math.round((planar[n + i] ?? 0) * 32768);
    s16[2 * i] = l > 32767 ? 32767 : l < -32768 ? -32768 : l;
    s16[2 * i + 1] = r > 32767 ? 32767 : r < -32768 ? -32768 : r;
  }
  return pcm;
}

export class Mp3Decoder implements PcmDecoder {
  readonly exited: Promise<FfmpegExit>;
  readonly engine = 'mpg123';
  readonly pid = undefined;
  readonly #decoder: MPEGDecoder;
  readonly #lib: Mpg123Internals;
  /** Where each frame's s16 is written: onPcm's buffer is valid only during the call (IngestEvents 'pcm'). */
  #s16 = Buffer.allocUnsafe(1152 * CHANNELS * 2);
  readonly #log: Logger;
  readonly #onPcm: (pcm: Buffer) => void;
  #resolveExit!: (exit: FfmpegExit) => void;
  #exit: FfmpegExit | undefined;
  readonly #tail: string[] = [];
  #pcmBytes = 0;
  #lastPcmAt = 0;
  #inSinceLastPcm = 0;
  #errors = 0;
  #lastErrorLogAt = 0;
  /** Samples decoded in a row at a rate other than ours (dropped). */
  #otherRateSamples = 0;
  readonly #startedAt = performance.now();
  #decodedMs = 0;
  /** performance.now() from which the pacing lets the source send again (0: not paced). */
  #pausedUntil = 0;
  #pacedLogged = false;
  #drainTimer: NodeJS.Timeout | undefined;

  private constructor(decoder: MPEGDecoder, log: Logger, onPcm: (pcm: Buffer) => void) {
    this.#decoder = decoder;
    this.#lib = internalsOf(decoder);
    this.#log = log;
    this.#onPcm = onPcm;
    this.exited = new Promise((resolve) => (this.#resolveExit = resolve));
  }

  /** Resolves once the WebAssembly decoder is instantiated; rejects if it cannot be. */
  static async start(opts: { readonly log: Logger; readonly onPcm: (pcm: Buffer) => void }): Promise<Mp3Decoder> {
    // Gapless trimming reads a LAME tag at the start of a file: a live stream joined mid-way has none.
    const decoder = new MPEGDecoder({ enableGapless: false });
    await decoder.ready;
    try {
      return new Mp3Decoder(decoder, opts.log, opts.onPcm);
    } catch (err) {
      decoder.free();
      throw err;
    }
  }

  get running(): boolean {
    return this.#exit === undefined;
  }
  get pcmBytes(): number {
    return this.#pcmBytes;
  }
  get lastPcmAt(): number {
    return this.#lastPcmAt;
  }
  get inSinceLastPcm(): number {
    return this.#inSinceLastPcm;
  }

  /**
   * Decodes at once, on the caller's turn, frame by frame (as mpg123-decoder's own decode() does, without
   * its copies); false asks the session to pause the socket (pacing).
   */
  write(chunk: Buffer): boolean {
    if (this.#exit) return true;
    this.#inSinceLastPcm += chunk.length;
    const lib = this.#lib;
    const wasm = lib._common.wasm;
    const before = this.#decodedMs;
    const errors: string[] = [];
    try {
      for (let off = 0; off < chunk.length;) {
        const part = chunk.subarray(off, off + lib._input.len);
        off += part.length;
        lib._input.buf.set(part);
        if (wasm.mpeg_decoder_feed(lib._decoder, lib._input.ptr, part.length) === MPG123_NEED_MORE) continue;
        // Read until mpg123 needs more input. It reports a damaged frame and goes on with the next one;
        // the bound only guards against a decoder that would report the same error forever.
        for (let reads = 0; reads < MAX_READS_PER_FEED; reads++) {
          lib._samplesDecodedPtr.buf[0] = 0;
          const result = wasm.mpeg_decoder_read(
            lib._decoder,
            lib._output.ptr,
            lib._output.len,
            lib._samplesDecodedPtr.ptr,
            lib._sampleRatePtr.ptr,
            lib._errorStringPtr.ptr,
          );
          const n = lib._samplesDecodedPtr.buf[0] ?? 0;
          if (n > 0) this.#frame(n, lib._sampleRatePtr.buf[0] ?? 0);
          if (this.#exit) return true;
          if (result === MPG123_NEED_MORE) break;
          if (result !== 0 && result !== MPG123_NEW_FORMAT) errors.push(lib._getErrorMessage(result));
        }
      }
    } catch (err) {
      // A WebAssembly trap: the module's state is unknown, so this connection ends.
      this.#finish(1, `mpg123: ${(err as Error).message}`);
      return true;
    }
    if (errors.length > 0) this.#noteErrors(errors);
    return this.#decodedMs === before || this.#pace();
  }

  /** One decoded frame (planar floats in the decoder's output buffer), handed on as s16. */
  #frame(n: number, rate: number): void {
    if (rate !== SAMPLE_RATE) {
      // Not ours to play: this decoder does not resample. A few such frames are chance sync words in
      // damaged bytes, dropped like the damage around them (the garbage watchdog still counts the bytes).
      // A second of them is a source whose encoder changed rate mid-stream: ending the connection is what
      // the operator sees, and the studio's reconnect is sniffed afresh (and goes to ffmpeg).
      this.#otherRateSamples += n;
      if (rate > 0 && this.#otherRateSamples >= rate) {
        this.#finish(1, `mpg123: the stream changed to ${rate} Hz mid-stream; only ${SAMPLE_RATE} Hz is decoded in-process`);
      }
      return;
    }
    this.#otherRateSamples = 0;
    if (this.#s16.length < n * CHANNELS * 2) this.#s16 = Buffer.allocUnsafe(n * CHANNELS * 2);
    const pcm = toS16(this.#lib._output.buf, n, this.#s16);
    this.#pcmBytes += pcm.length;
    this.#lastPcmAt = performance.now();
    this.#inSinceLastPcm = 0;
    this.#decodedMs += (n / SAMPLE_RATE) * 1000;
    this.#onPcm(pcm);
  }

  /** Called once after write() returned false: `fn` runs when the source may send again. */
  onDrain(fn: () => void): void {
    clearTimeout(this.#drainTimer);
    this.#drainTimer = setTimeout(
      () => {
        this.#drainTimer = undefined;
        if (!this.#exit) fn();
      },
      Math.max(0, this.#pausedUntil - performance.now()),
    );
  }

  /** True while the audio decoded so far is within the burst plus MAX_SPEED × the time since the start. */
  #pace(): boolean {
    const now = performance.now();
    const waitMs = (this.#decodedMs - BURST_MS) / MAX_SPEED - (now - this.#startedAt);
    if (waitMs <= 0) return true;
    this.#pausedUntil = now + waitMs;
    if (!this.#pacedLogged) {
      this.#pacedLogged = true;
      this.#log.info({ maxSpeed: MAX_SPEED, burstMs: BURST_MS }, 'source sends faster than real time: decoding it at most twice as fast');
    }
    return false;
  }

  /** The source left: everything written has already been decoded, so this is the end. */
  endInput(): void {
    this.#finish(0, undefined, true);
  }

  stop(): Promise<FfmpegExit> {
    this.#finish(null, undefined, true);
    return this.exited;
  }

  #noteErrors(messages: string[]): void {
    this.#errors += messages.length;
    for (const m of messages) {
      this.#tail.push(m);
      if (this.#tail.length > STDERR_TAIL) this.#tail.shift();
    }
    const now = performance.now();
    if (now - this.#lastErrorLogAt < ERROR_LOG_INTERVAL_MS) return;
    this.#lastErrorLogAt = now;
    // Warn, as for an ffmpeg decoder's errors: they are about the source's bytes, not about us.
    this.#log.warn({ mpg123: messages[messages.length - 1], errors: this.#errors }, 'mpg123 says');
  }

  #finish(code: number | null, reason: string | undefined, requested = false): void {
    if (this.#exit) return;
    if (reason) this.#tail.push(reason);
    clearTimeout(this.#drainTimer);
    this.#exit = { code, signal: null, stderrTail: [...this.#tail], requested };
    try {
      this.#decoder.free();
    } catch (err) {
      // After a trap the module's state is unknown; it is dropped with this object either way.
      this.#log.debug({ err }, 'mpg123 free failed');
    }
    this.#resolveExit(this.#exit);
  }
}
