// The decoder of one source connection: compressed bytes in (with backpressure), internal PCM out in
// whole 4-byte stereo samples, and a single report when it has ended. An ffmpeg child decodes every
// format; MP3 at the internal rate is decoded in-process (mp3-decoder.ts), unless configured otherwise.
import type { Logger } from 'pino';
import { readMpegHeader } from '../codec/mpeg.js';
import { decoderArgs } from '../ffmpeg/args.js';
import { FfmpegChild, type FfmpegExit } from '../ffmpeg/child.js';
import { BYTES_PER_FRAME, SAMPLE_RATE } from '../types/pcm.js';
import type { AudioFormat } from '../types/contracts.js';
import type { DecoderEngine } from '../types/snapshots.js';
import { Mp3Decoder } from './mp3-decoder.js';

/** `auto`: MPEG-1 Layer III at 44.1 kHz in-process, everything else in ffmpeg; `ffmpeg`: always ffmpeg. */
export type Mp3DecoderSetting = 'auto' | 'ffmpeg';

export interface DecoderOptions {
  readonly ffmpegPath: string;
  readonly format: Exclude<AudioFormat, 'unknown'>;
  /** The stream's first bytes (what the sniffer saw): the in-process MP3 decoder needs its rate. */
  readonly head: Buffer;
  readonly mp3Decoder: Mp3DecoderSetting;
  readonly log: Logger;
  /** Decoded PCM. The buffer is valid only during the call (the in-process decoder reuses it): copy to keep. */
  readonly onPcm: (pcm: Buffer) => void;
}

/** What a session needs of its decoder, whichever runs it. */
export interface PcmDecoder {
  readonly engine: DecoderEngine;
  /** Resolves once, when it has ended (its last PCM delivered); `requested` unless it died on its own. */
  readonly exited: Promise<FfmpegExit>;
  readonly running: boolean;
  /** The decoding process, or undefined when it runs in Node itself. */
  readonly pid: number | undefined;
  readonly pcmBytes: number;
  readonly lastPcmAt: number;
  /** Bytes written since the last PCM came out: the garbage watchdog reads it. */
  readonly inSinceLastPcm: number;
  /** Writes compressed bytes; false means "pause the socket until `onDrain`". */
  write(chunk: Buffer): boolean;
  onDrain(fn: () => void): void;
  /** The source left: decode what is left, then end. */
  endInput(): void;
  stop(graceMs?: number): Promise<FfmpegExit>;
}

/**
 * Whether `head` is MP3 the in-process decoder takes: MPEG-1 Layer III at the internal rate, so no
 * resampling is needed (ffmpeg's resampler handles 48 kHz, MPEG-2 and the rest). The sniffer has
 * already confirmed two frames in a row, so the first header found decides.
 */
export function decodesInProcess(head: Buffer): boolean {
  for (let i = 0; i + 4 <= head.length; i++) {
    const h = readMpegHeader(head, i);
    if (h && readMpegHeader(head, i + h.length)?.key === h.key) return h.version === 1 && h.layer === 3 && h.sampleRate === SAMPLE_RATE;
  }
  return false;
}

/** Starts the decoder for a sniffed stream; rejects (FFMPEG_START_FAILED or the WebAssembly error) if it cannot. */
export function startDecoder(opts: DecoderOptions): Promise<PcmDecoder> {
  if (opts.format === 'mp3' && opts.mp3Decoder === 'auto' && decodesInProcess(opts.head)) return Mp3Decoder.start(opts);
  return FfmpegDecoder.start(opts);
}

export class FfmpegDecoder implements PcmDecoder {
  readonly engine = 'ffmpeg';
  readonly #child: FfmpegChild;
  readonly #onPcm: (pcm: Buffer) => void;
  /** Bytes of an incomplete sample left over from the last stdout read (0–3 bytes). */
  #carry: Buffer | undefined;
  #pcmBytes = 0;
  #lastPcmAt = 0;
  #inSinceLastPcm = 0;

  private constructor(child: FfmpegChild, onPcm: (pcm: Buffer) => void) {
    this.#child = child;
    this.#onPcm = onPcm;
    child.proc.stdout.on('data', (chunk: Buffer) => this.#onStdout(chunk));
  }

  /** Resolves once ffmpeg runs; rejects (FFMPEG_START_FAILED) if it cannot be spawned. */
  static async start(opts: DecoderOptions): Promise<FfmpegDecoder> {
    const child = await FfmpegChild.start({ ffmpegPath: opts.ffmpegPath, args: decoderArgs(opts.format), log: opts.log, role: 'decoder' });
    return new FfmpegDecoder(child, opts.onPcm);
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
