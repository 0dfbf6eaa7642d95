// An MP3 source decoded inside Node (mpg123 compiled to WebAssembly, the npm `mpg123-decoder`), in place
// of an ffmpeg child: each frame is decoded as soon as it has arrived, where ffmpeg's MP3 demuxer waits for
// 1,024-byte packets (~50 ms less source-to-listener latency, measured), and each source runs one process
// fewer. It costs the same CPU as the child did (README, *Always-on cost*), and it runs on the event loop.
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

/** mpg123's float samples to s16, rounded and clipped as ffmpeg's float-to-s16 conversion does. */
function toS16(left: Float32Array, right: Float32Array, n: number): Buffer {
  const out = Buffer.allocUnsafe(n * CHANNELS * 2);
  const s16 = new Int16Array(out.buffer, out.byteOffset, n * CHANNELS);
  for (let i = 0; i < n; i++) {
    const l = Math.round((left[i] ?? 0) * 32768);
    const r = Math.round((right[i] ?? 0) * 32768);
    s16[2 * i] = l > 32767 ? 32767 : l < -32768 ? -32768 : l;
    s16[2 * i + 1] = r > 32767 ? 32767 : r < -32768 ? -32768 : r;
  }
  return out;
}

export class Mp3Decoder implements PcmDecoder {
  readonly exited: Promise<FfmpegExit>;
  readonly engine = 'mpg123';
  readonly pid = undefined;
  readonly #decoder: MPEGDecoder;
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
    this.#log = log;
    this.#onPcm = onPcm;
    this.exited = new Promise((resolve) => (this.#resolveExit = resolve));
  }

  /** Resolves once the WebAssembly decoder is instantiated; rejects if it cannot be. */
  static async start(opts: { readonly log: Logger; readonly onPcm: (pcm: Buffer) => void }): Promise<Mp3Decoder> {
    // Gapless trimming reads a LAME tag at the start of a file: a live stream joined mid-way has none.
    const decoder = new MPEGDecoder({ enableGapless: false });
    await decoder.ready;
    return new Mp3Decoder(decoder, opts.log, opts.onPcm);
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

  /** Decodes at once, on the caller's turn; false asks the session to pause the socket (pacing). */
  write(chunk: Buffer): boolean {
    if (this.#exit) return true;
    this.#inSinceLastPcm += chunk.length;
    let decoded;
    const printError = console.error;
    try {
      // The library prints every decode error to stderr itself; they come back in `errors` as well,
      // and are logged below through the source's logger, rate-limited.
      console.error = (): void => undefined;
      decoded = this.#decoder.decode(chunk);
    } catch (err) {
      this.#finish(1, `mpg123: ${(err as Error).message}`);
      return true;
    } finally {
      console.error = printError;
    }
    if (decoded.errors.length > 0) this.#noteErrors(decoded.errors.map((e) => e.message));
    const n = decoded.samplesDecoded;
    if (n === 0) return true;
    if (decoded.sampleRate !== SAMPLE_RATE) {
      // Not ours to play: this decoder does not resample. A few such frames are chance sync words in
      // damaged bytes, dropped like the damage around them (the garbage watchdog still counts the bytes).
      // A second of them is a source whose encoder changed rate mid-stream: ending the connection is what
      // the operator sees, and the studio's reconnect is sniffed afresh (and goes to ffmpeg).
      this.#otherRateSamples += n;
      if (this.#otherRateSamples >= decoded.sampleRate) {
        this.#finish(1, `mpg123: the stream changed to ${decoded.sampleRate} Hz mid-stream; only ${SAMPLE_RATE} Hz is decoded in-process`);
      }
      return true;
    }
    this.#otherRateSamples = 0;
    const [left, right] = decoded.channelData;
    if (!left || !right) return true;
    const pcm = toS16(left, right, n);
    this.#pcmBytes += pcm.length;
    this.#lastPcmAt = performance.now();
    this.#inSinceLastPcm = 0;
    this.#onPcm(pcm);
    return this.#pace(n);
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
  #pace(samples: number): boolean {
    this.#decodedMs += (samples / SAMPLE_RATE) * 1000;
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
