// One ffmpeg decoder for one source connection: compressed bytes in (with backpressure), internal
// PCM out in whole 4-byte stereo samples, and a single report when the process has exited.
import type { Logger } from 'pino';
import { decoderArgs } from '../ffmpeg/args.js';
import { FfmpegChild, type FfmpegExit } from '../ffmpeg/child.js';
import { BYTES_PER_FRAME } from '../types/pcm.js';
import type { AudioFormat } from '../types/contracts.js';

export interface DecoderOptions {
  readonly ffmpegPath: string;
  readonly format: Exclude<AudioFormat, 'unknown'>;
  readonly log: Logger;
  readonly onPcm: (pcm: Buffer) => void;
}

export class SourceDecoder {
  readonly #child: FfmpegChild;
  readonly #onPcm: (pcm: Buffer) => void;
  /** Bytes of an incomplete sample left over from the last stdout read (0–3 bytes). */
  #carry: Buffer | undefined;
  #pcmBytes = 0;
  #lastPcmAt = 0;
  /** Bytes written since the last PCM came out: the garbage watchdog reads it. */
  #inSinceLastPcm = 0;

  private constructor(child: FfmpegChild, onPcm: (pcm: Buffer) => void) {
    this.#child = child;
    this.#onPcm = onPcm;
    child.proc.stdout.on('data', (chunk: Buffer) => this.#onStdout(chunk));
  }

  /** Resolves once ffmpeg runs; rejects (FFMPEG_START_FAILED) if it cannot be spawned. */
  static async start(opts: DecoderOptions): Promise<SourceDecoder> {
    const child = await FfmpegChild.start({ ffmpegPath: opts.ffmpegPath, args: decoderArgs(opts.format), log: opts.log, role: 'decoder' });
    return new SourceDecoder(child, opts.onPcm);
  }

  /** Resolves when the process has exited and its last PCM has been delivered. */
  get exited(): Promise<FfmpegExit> {
    return this.#child.exited;
  }

  get running(): boolean {
    return this.#child.running;
  }

  get pid(): number | undefined {
    return this.#child.pid;
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

  /** Writes compressed bytes; false means "pause the socket until `onDrain`". */
  write(chunk: Buffer): boolean {
    const stdin = this.#child.proc.stdin;
    if (stdin.destroyed || stdin.writableEnded) return true;
    this.#inSinceLastPcm += chunk.length;
    return stdin.write(chunk);
  }

  onDrain(fn: () => void): void {
    this.#child.proc.stdin.once('drain', fn);
  }

  /** The source left: let ffmpeg decode what it has, flush and exit by itself. */
  endInput(): void {
    this.#child.endInput();
  }

  /** SIGTERM → SIGKILL; resolves when reaped. */
  stop(graceMs?: number): Promise<FfmpegExit> {
    return this.#child.stop(graceMs);
  }

  #onStdout(chunk: Buffer): void {
    let data = chunk;
    if (this.#carry) {
      // Rare (ffmpeg writes whole samples), and the carry is at most 3 bytes: a concat here is cheap.
      data = Buffer.concat([this.#carry, chunk]);
      this.#carry = undefined;
    }
    const whole = data.length - (data.length % BYTES_PER_FRAME);
    if (whole < data.length) this.#carry = Buffer.from(data.subarray(whole));
    if (whole === 0) return;
    this.#pcmBytes += whole;
    this.#lastPcmAt = performance.now();
    this.#inSinceLastPcm = 0;
    this.#onPcm(whole === data.length ? data : data.subarray(0, whole));
  }
}
