// The emergency tier: the configured file decoded once into memory (bounded by emergencyMaxSeconds)
// and looped gaplessly; restarted from its beginning whenever it takes over. The file is watched:
// a replacement is decoded in the background and swapped in at the next loop (at once when off air).
// A missing or undecodable file never stops the mixer: it plays silence and raises an alert.
// use(path) swaps in another file live (the status API's emergency library): decoded in full first,
// then crossfaded in while the tier is heard, or taken at once at the next rewind when it is not.
import { watchFile, unwatchFile, statSync, type StatsListener } from 'node:fs';
import type { Logger } from 'pino';
import { FfmpegChild } from '../ffmpeg/child.js';
import { fileDecoderArgs } from '../ffmpeg/args.js';
import { BYTES_PER_FRAME, CHANNELS, SAMPLE_RATE } from '../types/pcm.js';
import type { EmergencySnapshot } from '../types/snapshots.js';
export type { EmergencySnapshot } from '../types/snapshots.js';

export interface EmergencyOptions {
  readonly path: string;
  readonly maxSeconds: number;
  readonly ffmpegPath: string;
  readonly log: Logger;
  /** Called when the file cannot be used (or becomes usable again: `null`). */
  readonly onProblem: (problem: string | null) => void;
  readonly pollMs?: number;
  /** Length of the crossfade when use() swaps files while the tier is heard (samples). */
  readonly crossfadeSamples?: number;
}

/** Digital silence (encoder padding) trimmed from each end so the loop has no gap. */
const TRIM_LEVEL = 8;
const MAX_TRIM_S = 0.2;

export class EmergencySource {
  readonly #opts: EmergencyOptions;
  #pcm: Int16Array = new Int16Array(0);
  #pending: Int16Array | undefined;
  /** A file swapped in by use(): fading in against the current loop while the tier is read. */
  #incoming: { readonly pcm: Int16Array; pos: number; fadePos: number } | undefined;
  #path: string;
  #pos = 0;
  #problem: string | null = null;
  #reloads = 0;
  /** The decoder's record for the status panel (wall-clock times). */
  #decodedAt: number | undefined;
  #decodeMs: number | undefined;
  #failures = 0;
  #lastProblem: { message: string; at: number } | undefined;
  /** Decodes in flight, from the moment one is asked for (the process may not exist yet). */
  #decoding = 0;
  #loading: Promise<void> | undefined;
  #closed = false;
  /** Decoders running (a reload of the watched file and a use() may overlap): stopped on close. */
  readonly #children = new Set<FfmpegChild>();
  /** Our own watcher: unwatchFile(path) without it would remove every watcher of the path in the process. */
  #watcher: StatsListener | undefined;

  private constructor(opts: EmergencyOptions) {
    this.#opts = opts;
    this.#path = opts.path;
  }

  static async create(opts: EmergencyOptions): Promise<EmergencySource> {
    const src = new EmergencySource(opts);
    await src.#load(true);
    src.#watch();
    return src;
  }

  /** The file the tier plays (or will play, once a swap by use() has come in). */
  get path(): string {
    return this.#path;
  }

  /**
   * Plays `path` from now on: decodes it in full first (rejects, leaving the current audio playing,
   * if it cannot be used), then fades it in while the tier is heard, or takes it at the next rewind.
   */
  async use(path: string): Promise<void> {
    if (this.#closed) throw new Error('emergency source closed');
    let pcm: Int16Array;
    try {
      const d = await this.#decode(path);
      pcm = d.pcm;
      if (pcm.length === 0) throw new Error(`${path} holds no decodable audio`);
      this.#decoded(d.ms);
    } catch (err) {
      // The current audio keeps playing and the caller hears why; the panel keeps the failure too.
      this.#failed(`emergency file ${path} cannot be used: ${(err as Error).message}`);
      throw err;
    }
    if (this.#closed) return;
    this.#unwatch();
    this.#path = path;
    this.#watch();
    this.#pending = undefined;
    this.#reloads++;
    if (this.#problem !== null) this.#opts.onProblem(null);
    this.#problem = null;
    if (this.#pcm.length === 0) {
      // Nothing was playing (silence): no fade needed.
      this.#pcm = pcm;
      this.#pos = 0;
      this.#incoming = undefined;
    } else {
      this.#incoming = { pcm, pos: 0, fadePos: 0 };
    }
    this.#opts.log.info({ file: path, seconds: Math.round((pcm.length / CHANNELS / SAMPLE_RATE) * 10) / 10 }, 'emergency audio swapped');
  }

  /** Start again from the beginning (the tier is taking over). Swaps in a pending new file first. */
  rewind(): void {
    if (this.#incoming) {
      this.#pcm = this.#incoming.pcm;
      this.#incoming = undefined;
    }
    if (this.#pending) this.#swap();
    this.#pos = 0;
  }

  /** Fills `out` with `n` looped samples (silence when there is no usable file). */
  read(out: Float32Array, n: number): number {
    if (this.#incoming) return this.#readFading(out, n);
    const pcm = this.#pcm;
    const total = pcm.length / CHANNELS;
    if (total === 0) {
      out.fill(0, 0, n * CHANNELS);
      return 0;
    }
    for (let i = 0; i < n; i++) {
      if (this.#pos >= total) {
        this.#pos = 0;
        if (this.#pending) return this.#swapMidRead(out, i, n);
      }
      const s = this.#pos * CHANNELS;
      out[i * CHANNELS] = (pcm[s] ?? 0) / 32768;
      out[i * CHANNELS + 1] = (pcm[s + 1] ?? 0) / 32768;
      this.#pos++;
    }
    return n;
  }

  snapshot(): EmergencySnapshot {
    const decoding = [...this.#children][0];
    return {
      file: this.#path,
      loaded: this.#pcm.length > 0,
      durationMs: Math.round(((this.#pcm.length / CHANNELS) * 1000) / SAMPLE_RATE),
      problem: this.#problem,
      reloads: this.#reloads,
      state: this.#decoding > 0 ? 'reloading' : this.#problem !== null ? 'failed' : 'loaded',
      decoderPid: decoding?.pid,
      decodedAt: this.#decodedAt,
      decodeMs: this.#decodeMs,
      failures: this.#failures,
      lastProblem: this.#lastProblem,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unwatch();
    await Promise.all([...this.#children].map((c) => c.stop(500)));
    await this.#loading;
  }

  /** Equal-power crossfade from the current loop into the file use() swapped in. */
  #readFading(out: Float32Array, n: number): number {
    const inc = this.#incoming;
    if (!inc) return this.read(out, n);
    const oldPcm = this.#pcm;
    const oldTotal = oldPcm.length / CHANNELS;
    const newTotal = inc.pcm.length / CHANNELS;
    const fade = Math.max(1, this.#opts.crossfadeSamples ?? 0);
    for (let i = 0; i < n; i++) {
      if (this.#pos >= oldTotal) this.#pos = 0;
      if (inc.pos >= newTotal) inc.pos = 0;
      const t = Math.min(1, (inc.fadePos + i) / fade);
      const gA = Math.cos((Math.PI / 2) * t);
      const gB = Math.sin((Math.PI / 2) * t);
      for (let ch = 0; ch < CHANNELS; ch++) {
        const a = (oldPcm[this.#pos * CHANNELS + ch] ?? 0) / 32768;
        const b = (inc.pcm[inc.pos * CHANNELS + ch] ?? 0) / 32768;
        out[i * CHANNELS + ch] = a * gA + b * gB;
      }
      this.#pos++;
      inc.pos++;
    }
    inc.fadePos += n;
    if (inc.fadePos >= fade) {
      this.#pcm = inc.pcm;
      this.#pos = inc.pos;
      this.#incoming = undefined;
    }
    return n;
  }

  #watch(): void {
    const watcher: StatsListener = (cur, prev) => {
      if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size) this.#reloadSoon();
    };
    this.#watcher = watcher;
    watchFile(this.#path, { interval: this.#opts.pollMs ?? 2000 }, watcher);
  }

  #unwatch(): void {
    if (this.#watcher) unwatchFile(this.#path, this.#watcher);
    this.#watcher = undefined;
  }

  #swapMidRead(out: Float32Array, done: number, n: number): number {
    this.#swap();
    const rest = new Float32Array((n - done) * CHANNELS);
    this.read(rest, n - done);
    out.set(rest, done * CHANNELS);
    return n;
  }

  #swap(): void {
    if (!this.#pending) return;
    this.#pcm = this.#pending;
    this.#pending = undefined;
    this.#pos = 0;
  }

  #reloadSoon(): void {
    if (this.#closed || this.#loading) return;
    this.#opts.log.info({ file: this.#path }, 'emergency file changed: reloading');
    this.#loading = this.#load(false).finally(() => (this.#loading = undefined));
  }

  async #load(initial: boolean): Promise<void> {
    const { log } = this.#opts;
    const path = this.#path;
    let problem: string | null = null;
    let pcm: Int16Array | undefined;
    let ms = 0;
    try {
      statSync(path);
      ({ pcm, ms } = await this.#decode(path));
      if (pcm.length === 0) problem = `emergency file ${path} holds no decodable audio`;
    } catch (err) {
      problem = `emergency file ${path} cannot be used: ${(err as Error).message}`;
    }
    // A file swapped in by use() while this one was decoding wins: drop the stale result.
    if (this.#closed || path !== this.#path) return;
    if (problem !== null || !pcm) {
      log.error({ file: path }, problem ?? 'emergency file unusable');
      this.#failed(problem ?? 'emergency file unusable');
      this.#problem = problem;
      this.#opts.onProblem(problem);
      return; // keep playing the previous good audio, if any
    }
    if (!initial) this.#reloads++;
    this.#decoded(ms);
    if (this.#problem !== null) this.#opts.onProblem(null);
    this.#problem = null;
    if (initial) this.#pcm = pcm;
    else this.#pending = pcm;
    log.info({ file: path, seconds: Math.round((pcm.length / CHANNELS / SAMPLE_RATE) * 10) / 10 }, 'emergency audio loaded');
  }

  #decoded(ms: number): void {
    this.#decodedAt = Date.now();
    this.#decodeMs = ms;
  }

  #failed(message: string): void {
    this.#failures++;
    this.#lastProblem = { message, at: Date.now() };
  }

  /** Counts the decode as in flight (the panel's `reloading`) and times it. */
  async #decode(path: string): Promise<{ pcm: Int16Array; ms: number }> {
    const t0 = performance.now();
    this.#decoding++;
    try {
      const pcm = await this.#decodeOnce(path);
      return { pcm, ms: Math.round(performance.now() - t0) };
    } finally {
      this.#decoding--;
    }
  }

  async #decodeOnce(path: string): Promise<Int16Array> {
    const { ffmpegPath, maxSeconds, log } = this.#opts;
    const maxBytes = Math.ceil(maxSeconds * SAMPLE_RATE) * BYTES_PER_FRAME;
    const child = await FfmpegChild.start({
      ffmpegPath,
      args: fileDecoderArgs(path, maxSeconds),
      log: log.child({ child: 'emergency-decoder' }),
      role: 'file',
    });
    this.#children.add(child);
    const parts: Buffer[] = [];
    let bytes = 0;
    child.proc.stdout.on('data', (b: Buffer) => {
      if (bytes + b.length > maxBytes) b = b.subarray(0, Math.max(0, maxBytes - bytes));
      bytes += b.length;
      if (b.length > 0) parts.push(b);
    });
    const exit = await child.exited;
    this.#children.delete(child);
    if (exit.code !== 0) throw new Error(`ffmpeg exited with ${exit.code ?? exit.signal}: ${exit.stderrTail.slice(-2).join(' | ')}`);
    const all = Buffer.concat(parts, bytes);
    const whole = all.length - (all.length % BYTES_PER_FRAME);
    const copy = new Int16Array(whole / 2);
    for (let i = 0; i < copy.length; i++) copy[i] = all.readInt16LE(i * 2);
    return trimSilence(copy);
  }
}

function trimSilence(pcm: Int16Array): Int16Array {
  const total = pcm.length / CHANNELS;
  const maxTrim = Math.floor(MAX_TRIM_S * SAMPLE_RATE);
  const quiet = (i: number): boolean =>
    Math.abs(pcm[i * CHANNELS] ?? 0) <= TRIM_LEVEL && Math.abs(pcm[i * CHANNELS + 1] ?? 0) <= TRIM_LEVEL;
  let start = 0;
  while (start < Math.min(maxTrim, total) && quiet(start)) start++;
  let end = total;
  while (end > start && total - end < maxTrim && quiet(end - 1)) end--;
  return pcm.slice(start * CHANNELS, end * CHANNELS);
}
