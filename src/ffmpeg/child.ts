// One running ffmpeg process: started (or failed to start), stderr split into logged lines with the
// last few kept for the `exit` report, and stopped with SIGTERM then SIGKILL after a grace period.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { AntennaError } from '../errors.js';
import type { FfmpegChildEvents, FfmpegExit } from '../types/events.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { classifyStderr, type FfmpegRole } from './stderr.js';

export type { FfmpegExit } from '../types/events.js';

export interface FfmpegChildOptions {
  readonly ffmpegPath: string;
  readonly args: readonly string[];
  readonly log: Logger;
  /** What the process does, for the level its stderr lines are logged at. */
  readonly role: FfmpegRole;
  readonly stderrTailLines?: number;
  /**
   * Extra output pipes beyond stdout, on the file descriptors after stderr: one ffmpeg encoding several
   * outputs (see multiEncoderArgs). Read them through `outputs`.
   */
  readonly extraOutputs?: number;
}

export class FfmpegChild {
  readonly events: TypedEmitter<FfmpegChildEvents>;
  readonly proc: ChildProcessWithoutNullStreams;
  readonly exited: Promise<FfmpegExit>;
  readonly #log: Logger;
  readonly #tail: string[] = [];
  readonly #tailMax: number;
  readonly #role: FfmpegRole;
  #partial = '';
  #requested = false;
  #exit: FfmpegExit | undefined;

  private constructor(proc: ChildProcessWithoutNullStreams, opts: FfmpegChildOptions) {
    this.proc = proc;
    this.#log = opts.log;
    this.#tailMax = opts.stderrTailLines ?? 20;
    this.#role = opts.role;
    this.events = new TypedEmitter<FfmpegChildEvents>(opts.log);
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (s: string) => this.#onStderr(s));
    // A child that dies mid-write makes stdin emit EPIPE; the exit event reports the death.
    proc.stdin.on('error', (err) => this.#log.debug({ err }, 'ffmpeg stdin error'));
    proc.stdout.on('error', (err) => this.#log.debug({ err }, 'ffmpeg stdout error'));
    this.exited = new Promise((resolve) => {
      proc.once('close', (code, signal) => {
        if (this.#partial) this.#pushLine(this.#partial);
        this.#exit = { code, signal, stderrTail: [...this.#tail], requested: this.#requested };
        this.events.emit('exit', this.#exit);
        resolve(this.#exit);
      });
    });
  }

  /** Resolves once the process is running; rejects with FFMPEG_START_FAILED if it cannot be spawned. */
  static start(opts: FfmpegChildOptions): Promise<FfmpegChild> {
    return new Promise((resolve, reject) => {
      let proc: ChildProcessWithoutNullStreams;
      try {
        // With more pipes the type loses its "without null streams" shape; stdin/stdout/stderr are still pipes.
        const extra = Array.from({ length: opts.extraOutputs ?? 0 }, () => 'pipe' as const);
        proc = spawn(opts.ffmpegPath, opts.args, { stdio: ['pipe', 'pipe', 'pipe', ...extra] }) as ChildProcessWithoutNullStreams;
      } catch (err) {
        // spawn() throws synchronously on arguments it cannot pass (e.g. a NUL byte).
        reject(
          new AntennaError('FFMPEG_START_FAILED', `cannot start ffmpeg (${opts.ffmpegPath}): ${(err as Error).message}`, { cause: err }),
        );
        return;
      }
      const onError = (err: Error): void => {
        reject(new AntennaError('FFMPEG_START_FAILED', `cannot start ffmpeg (${opts.ffmpegPath}): ${err.message}`, { cause: err }));
      };
      proc.once('error', onError);
      proc.once('spawn', () => {
        proc.off('error', onError);
        proc.on('error', (err) => opts.log.error({ err }, 'ffmpeg process error'));
        resolve(new FfmpegChild(proc, opts));
      });
    });
  }

  /** Every output pipe: stdout first, then the extra outputs in order. */
  get outputs(): Readable[] {
    return [this.proc.stdout, ...(this.proc.stdio.slice(3) as Readable[])];
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /** Ends stdin so ffmpeg flushes and exits by itself (a decoder whose source left). */
  endInput(): void {
    this.#requested = true;
    if (!this.proc.stdin.destroyed) this.proc.stdin.end();
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is reaped. Idempotent. */
  async stop(graceMs = 2000): Promise<FfmpegExit> {
    this.#requested = true;
    if (this.#exit) return this.#exit;
    if (!this.proc.stdin.destroyed) this.proc.stdin.destroy();
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  #onStderr(s: string): void {
    const parts = (this.#partial + s).split(/\r?\n|\r/);
    this.#partial = parts.pop() ?? '';
    // Bound the partial line too: a child spewing without newlines must not grow memory.
    if (this.#partial.length > 4096) {
      this.#pushLine(this.#partial);
      this.#partial = '';
    }
    for (const line of parts) if (line.trim() !== '') this.#pushLine(line);
  }

  #pushLine(line: string): void {
    const c = classifyStderr(line, this.#role, this.#requested);
    this.#tail.push(c.text);
    if (this.#tail.length > this.#tailMax) this.#tail.shift();
    this.#log[c.level]({ ffmpeg: c.text, pid: this.proc.pid }, 'ffmpeg says');
  }
}
