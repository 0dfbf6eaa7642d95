// One encoder: an ffmpeg child, or the MP3 and Vorbis libraries inside Node (src/encoders/native-run.ts),
// turning programme PCM into one or more codec/bitrates (a child has one output pipe each, so several
// encodes share one process, one PCM pipe and one write per mixer frame: issue 12 measured the
// per-process pipe writes as most of Node's always-on CPU), framed output
// tagged with the on-air metadata of the audio it holds, and stall detection. It reports `died`;
// the supervisor (src/supervisor) decides when to call restart(). One death takes every output of
// the process: src/encoders/index.ts decides which encodes share (ANTENNA_ENCODER_LAYOUT).
//
// A "run" is one ffmpeg process, or one opening of the in-process encoders. Input always goes to the newest run; output is emitted only from the
// oldest, so a replacement's output waits until the run it replaces has drained. Each output's
// `generation` bumps with every run, and for Vorbis with every new chain: Ogg carries titles only in a
// chain's comment header, and src/codec/vorbis-chain.ts starts a chain per title in Node, so Vorbis
// shares the process of every other encode and a title change restarts nothing.
import type { Logger } from 'pino';
import { FfmpegChild, type FfmpegExit } from '../ffmpeg/child.js';
import { randomInt } from 'node:crypto';
import { VorbisChainer } from '../codec/vorbis-chain.js';
import { aacCoderFor, multiEncoderArgs, type AacCoderSetting, type EncoderArgsSpec } from '../ffmpeg/args.js';
import { NativeRun, type NativeCodecs } from './native-run.js';
import { fault, type PipelineFault } from '../errors.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import type { EncoderEvents } from '../types/events.js';
import { BYTES_PER_FRAME, SAMPLE_RATE } from '../types/pcm.js';
import type { EncodedChunk, EncodedStream, EncoderSpec, OnAirMeta, ProgrammeChunk } from '../types/contracts.js';
import { Framer } from './framing.js';
import { encoderKey } from '../types/encoder-spec.js';
import type { EncoderSnapshot } from '../types/snapshots.js';
export type { EncoderSnapshot } from '../types/snapshots.js';

export interface EncoderOptions {
  /** What this process encodes, one output each. */
  readonly specs: readonly EncoderSpec[];
  readonly ffmpegPath: string;
  readonly log: Logger;
  readonly initialMeta: OnAirMeta;
  /** Bound of PCM queued into ffmpeg's stdin; past it the encoder counts as stalled and is restarted. */
  readonly maxQueueBytes?: number;
  readonly oggPageDurationUs?: number;
  /** Shortest Ogg chain: title changes closer together than this wait (each costs listeners headers and a packet). */
  readonly rechainMinMs?: number;
  /** AAC outputs: ffmpeg's AAC coder, or `auto` by bitrate (unset: the build's default). */
  readonly aacCoder?: AacCoderSetting;
  /**
   * When set, every run encodes in Node with these libraries (src/encoders/native-run.ts) instead of in
   * an ffmpeg child; every spec must be one they encode (encodesNatively).
   */
  readonly native?: NativeCodecs;
}

/** What a run encodes with: an ffmpeg child, or the codec libraries in this process. */
interface RunEngine {
  readonly pid: number | undefined;
  readonly running: boolean;
  /** PCM written and not yet taken (a child's stdin backlog; always 0 in-process). */
  readonly queuedBytes: number;
  write(pcm: Buffer): void;
  stop(graceMs: number): Promise<void>;
}

function childEngine(child: FfmpegChild): RunEngine {
  return {
    pid: child.pid,
    get running() {
      return child.running;
    },
    get queuedBytes() {
      return child.proc.stdin.writableLength;
    },
    write: (pcm) => void child.proc.stdin.write(pcm),
    stop: async (ms) => {
      await child.stop(ms);
    },
  };
}

function nativeEngine(run: NativeRun): RunEngine {
  return {
    pid: undefined,
    get running() {
      return run.running;
    },
    queuedBytes: 0,
    write: (pcm) => run.write(pcm),
    stop: () => run.stop(),
  };
}

/** One output of a run: its own framing, position and held-back output. */
interface RunOutput {
  readonly framer: Framer;
  /** Vorbis: the chainer that gives each title its own Ogg chain. */
  readonly chainer: VorbisChainer | undefined;
  /** Generation of the chunks now leaving (see EncoderOutput.generation). */
  generation: number;
  /** Chain index `generation` was taken for (Vorbis), and the output sample its chain started at. */
  chain: number;
  chainStart: number;
  /** Ogg: the metadata of the chain now going out (its title is the one in the chain's comment header). */
  chainMeta: OnAirMeta | undefined;
  samplesOut: number;
  /** Index into the run's metaPoints of the metadata of the audio now leaving this output. */
  cursor: number;
  /** Output held back while an older run is still draining. Bounded by maxQueueBytes. */
  backlog: EncodedChunk[];
  backlogBytes: number;
}

/** One encode of the process, as the mounts and HLS tiers see it. */
class EncoderOutput implements EncodedStream {
  readonly subscribers = new Set<(chunk: EncodedChunk) => void>();
  bytesOut = 0;
  /** Last bitstream number handed out: bumps with each run, and for Vorbis with each new chain. */
  generation = 0;
  constructor(
    readonly key: string,
    readonly spec: EncoderSpec,
  ) {}

  subscribe(fn: (chunk: EncodedChunk) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }
}

interface Run {
  readonly generation: number;
  readonly outputs: RunOutput[];
  engine: RunEngine | undefined;
  /** PCM written before the process has spawned. */
  pending: Buffer[];
  pendingBytes: number;
  /** On-air metadata by input sample offset within this run; pruned as every output passes it. */
  metaPoints: { at: number; meta: OnAirMeta }[];
  samplesIn: number;
  dead: boolean;
}

export class Encoder {
  /** The process's name: its outputs' keys joined by `+` (what the supervisor and the events carry). */
  readonly key: string;
  /** One stream per spec, in the order of `specs`. */
  readonly outputs: readonly EncodedStream[];
  readonly events: TypedEmitter<EncoderEvents>;
  /** Where its runs encode: an ffmpeg child each, or inside this process. */
  readonly engine: 'ffmpeg' | 'in-process';
  readonly #log: Logger;
  readonly #opts: EncoderOptions;
  readonly #outputs: EncoderOutput[];
  readonly #maxQueue: number;
  /** Oldest first: output comes from runs[0], input goes to the last live run. */
  #runs: Run[] = [];
  #generation = 0;
  #stalls = 0;
  #lastError: string | undefined;
  #bytesIn = 0;
  #dropped = 0;
  #meta: OnAirMeta;
  /** Spawns under way: close() waits for them, so no child outlives it. */
  readonly #spawning = new Set<Promise<void>>();
  #closed = false;

  private constructor(opts: EncoderOptions) {
    if (opts.specs.length === 0) throw new Error('an encoder needs at least one spec');
    this.#outputs = opts.specs.map((s) => new EncoderOutput(encoderKey(s), s));
    this.outputs = this.#outputs;
    this.key = this.#outputs.map((o) => o.key).join('+');
    this.#opts = opts;
    this.engine = opts.native ? 'in-process' : 'ffmpeg';
    // The stage bound `component`; a second binding would print the key twice.
    this.#log = opts.log.child({ encoder: this.key });
    this.events = new TypedEmitter<EncoderEvents>(this.#log);
    this.#maxQueue = opts.maxQueueBytes ?? 2 * SAMPLE_RATE * BYTES_PER_FRAME;
    this.#meta = opts.initialMeta;
  }

  /** Resolves once the first ffmpeg is running; rejects (FFMPEG_START_FAILED) if it cannot be spawned at all. */
  static async create(opts: EncoderOptions): Promise<Encoder> {
    const enc = new Encoder(opts);
    await enc.restart();
    return enc;
  }

  /**
   * Starts a fresh bitstream (a new generation) unless one is live; resolves once its ffmpeg runs and
   * rejects if it cannot be spawned (the supervisor then tries again later).
   */
  async restart(): Promise<void> {
    if (this.#closed || this.#live()) return;
    await this.#spawn(this.#newRun());
  }

  /** The output for `key` (an encoderKey), if this process encodes it. */
  output(key: string): EncodedStream | undefined {
    return this.#outputs.find((o) => o.key === key);
  }

  /** Feeds one programme chunk; never blocks and never throws into the mixer. */
  write(chunk: ProgrammeChunk): void {
    if (this.#closed) return;
    const live = this.#live();
    if (!live) {
      this.#meta = chunk.meta;
      this.#dropped += chunk.pcm.length;
      return;
    }
    if (chunk.meta.seq !== this.#meta.seq || live.metaPoints.length === 0) {
      this.#meta = chunk.meta;
      this.#addMetaPoint(live, { at: live.samplesIn, meta: chunk.meta });
    }
    live.samplesIn += chunk.pcm.length / BYTES_PER_FRAME;
    this.#bytesIn += chunk.pcm.length;
    if (!live.engine) {
      live.pending.push(chunk.pcm);
      live.pendingBytes += chunk.pcm.length;
      if (live.pendingBytes > this.#maxQueue) this.#stalled(live);
      return;
    }
    live.engine.write(chunk.pcm);
    if (live.engine.queuedBytes > this.#maxQueue) this.#stalled(live);
  }

  /** One entry per output; the process-wide figures (pid, generation, stalls, PCM in) are shared. */
  snapshot(): EncoderSnapshot[] {
    const live = this.#live();
    return this.#outputs.map((o) => ({
      key: o.key,
      spec: o.spec,
      process: this.key,
      pid: live?.engine?.pid,
      running: live?.engine?.running ?? false,
      generation: o.generation,
      stalls: this.#stalls,
      lastError: this.#lastError,
      bytesIn: this.#bytesIn,
      bytesOut: o.bytesOut,
      queueBytes: live ? (live.engine?.queuedBytes ?? live.pendingBytes) : 0,
      droppedBytes: this.#dropped,
      subscribers: o.subscribers.size,
    }));
  }

  /** Stops every child, including one still spawning, and waits until all are reaped; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const runs = this.#runs;
    await Promise.all([...runs.map((r) => r.engine?.stop(1000)), ...this.#spawning]);
    this.#runs = [];
    for (const o of this.#outputs) o.subscribers.clear();
    this.events.removeAllListeners();
  }

  #live(): Run | undefined {
    const last = this.#runs[this.#runs.length - 1];
    return last && !last.dead ? last : undefined;
  }

  #newRun(): Run {
    const run: Run = {
      generation: ++this.#generation,
      outputs: this.#outputs.map((o) => ({
        framer: new Framer(o.spec.codec),
        // A random first serial per run: chains of a restarted process never reuse one a player has seen.
        chainer: o.spec.codec === 'vorbis' ? new VorbisChainer(randomInt(1, 2 ** 31)) : undefined,
        generation: ++o.generation,
        chain: 0,
        chainStart: 0,
        chainMeta: undefined,
        samplesOut: 0,
        cursor: 0,
        backlog: [],
        backlogBytes: 0,
      })),
      engine: undefined,
      pending: [],
      pendingBytes: 0,
      metaPoints: [],
      samplesIn: 0,
      dead: false,
    };
    this.#runs.push(run);
    return run;
  }

  /** Spawns the run's ffmpeg; a run that cannot start is retired at once, so it never holds back output. */
  #spawn(run: Run): Promise<void> {
    const p = this.#doSpawn(run);
    this.#spawning.add(p);
    const done = (): void => void this.#spawning.delete(p);
    p.then(done, done);
    return p;
  }

  async #doSpawn(run: Run): Promise<void> {
    const specs = this.#outputs.map((o) => ({
      ...o.spec,
      oggPageDurationUs: this.#opts.oggPageDurationUs ?? 40_000,
      ...(o.spec.codec === 'aac' && this.#opts.aacCoder ? { aacCoder: aacCoderFor(this.#opts.aacCoder, o.spec.bitrate) } : {}),
    }));
    let engine: RunEngine;
    if (this.#opts.native) {
      try {
        engine = nativeEngine(
          new NativeRun(
            specs,
            this.#opts.native,
            (i, b) => this.#onOutput(run, i, b),
            (message) => this.#nativeFailed(run, message),
          ),
        );
      } catch (err) {
        this.#died(run, fault('ENCODER_FAILED', `in-process encoder: ${(err as Error).message}`, false, err), undefined, []);
        this.#retire(run);
        throw err;
      }
    } else {
      const child = await this.#startChild(run, specs);
      if (!child) return;
      engine = childEngine(child);
    }
    run.engine = engine;
    for (const pcm of run.pending) engine.write(pcm);
    run.pending = [];
    run.pendingBytes = 0;
    // Which AAC coder each AAC output got (`auto` decides by bitrate): the sound and the CPU depend on it.
    const aacCoders = Object.fromEntries(specs.flatMap((sp, i) => (sp.aacCoder ? [[this.#outputs[i]!.key, sp.aacCoder]] : [])));
    this.#log.info(
      {
        pid: engine.pid,
        engine: this.engine,
        generation: run.generation,
        ...(Object.keys(aacCoders).length > 0 ? { aacCoders } : {}),
      },
      'encoder started',
    );
    this.events.emit('started', { key: this.key, generation: run.generation, pid: engine.pid });
  }

  /** Spawns the run's ffmpeg and wires its pipes; undefined if the run was closed or stalled meanwhile (then reaped). */
  async #startChild(run: Run, specs: readonly EncoderArgsSpec[]): Promise<FfmpegChild | undefined> {
    const args = multiEncoderArgs(specs);
    let child: FfmpegChild;
    try {
      child = await FfmpegChild.start({
        ffmpegPath: this.#opts.ffmpegPath,
        args,
        log: this.#log,
        role: 'encoder',
        extraOutputs: this.#outputs.length - 1,
      });
    } catch (err) {
      this.#died(run, fault('FFMPEG_START_FAILED', (err as Error).message, false, err), undefined, []);
      // A run that never started has no output to wait for: left in the list it would hold back every
      // later run's output (output leaves only from the oldest run), silencing the mount for good.
      this.#retire(run);
      throw err;
    }
    if (this.#closed || run.dead) {
      // close() (or a stall) came while ffmpeg was starting: reap it before anyone waits on us.
      await child.stop(500);
      this.#retire(run);
      return undefined;
    }
    child.outputs.forEach((pipe, i) => {
      pipe.on('error', (err) => this.#log.debug({ err }, 'ffmpeg output pipe error'));
      pipe.on('data', (b: Buffer) => this.#onOutput(run, i, b));
    });
    child.events.on('exit', (exit) => this.#onExit(run, exit));
    return child;
  }

  /** An in-process library refused a frame: the run is over, as if its child had exited. */
  #nativeFailed(run: Run, message: string): void {
    this.#died(run, fault('ENCODER_FAILED', `in-process encoder: ${message}`), undefined, []);
    this.#retire(run);
  }

  #onOutput(run: Run, index: number, data: Buffer): void {
    const out = run.outputs[index] as RunOutput;
    const stream = this.#outputs[index] as EncoderOutput;
    for (const f of out.framer.push(data)) {
      const meta = this.#metaAt(run, out);
      if (!out.chainer) {
        out.samplesOut += f.samples;
        const { data: d, frames, samples, frameEnds, oggHeader } = f;
        this.#pass(run, out, stream, { data: d, meta, generation: out.generation, frames, samples, frameEnds, oggHeader });
        continue;
      }
      // Ogg: the page goes out in a chain for its title; a new title waits until the chain is old enough.
      const chainer = out.chainer;
      const minSamples = ((this.#opts.rechainMinMs ?? 1000) / 1000) * SAMPLE_RATE;
      const keep = chainer.chain >= 0 && out.samplesOut - out.chainStart < minSamples;
      const title = keep ? chainer.title : meta.title;
      for (const p of chainer.page(f.data, title)) {
        if (p.chain !== out.chain) {
          out.chain = p.chain;
          out.chainStart = out.samplesOut;
          out.chainMeta = meta;
          // The run's first chain keeps the run's generation; every later one is a new bitstream.
          if (p.chain > 0) out.generation = ++stream.generation;
          if (p.chain > 0) this.#log.info({ output: stream.key, generation: out.generation }, 'ogg chain started');
        }
        const audio = !p.header && p.data.length > 27;
        // A page carries its chain's metadata: the old chain's EOS page and the pages of a chain kept
        // for a while past a title change still belong to the old title.
        out.chainMeta ??= meta;
        this.#pass(run, out, stream, {
          data: p.data,
          meta: out.chainMeta,
          generation: out.generation,
          frames: audio ? f.frames : 0,
          samples: audio ? f.samples : 0,
          frameEnds: [p.data.length],
          oggHeader: p.header,
        });
      }
      out.samplesOut += f.samples;
    }
  }

  /** Emits a chunk of the oldest run, or holds it back while an older run drains. */
  #pass(run: Run, out: RunOutput, stream: EncoderOutput, chunk: EncodedChunk): void {
    if (this.#runs[0] === run) this.#emit(stream, chunk);
    else if (out.backlogBytes + chunk.data.length <= this.#maxQueue) {
      out.backlog.push(chunk);
      out.backlogBytes += chunk.data.length;
    }
  }

  #addMetaPoint(run: Run, point: { at: number; meta: OnAirMeta }): void {
    const points = run.metaPoints;
    points.push(point);
    // Drop what every output has passed; titles change rarely, but bound it anyway so nothing grows
    // with a flood of updates (the oldest unread points go first).
    const passed = Math.min(...run.outputs.map((o) => o.cursor));
    if (passed > 0) {
      points.splice(0, passed);
      for (const o of run.outputs) o.cursor -= passed;
    }
    if (points.length > 256) {
      points.splice(1, 1);
      for (const o of run.outputs) if (o.cursor > 1) o.cursor--;
    }
  }

  #metaAt(run: Run, out: RunOutput): OnAirMeta {
    const points = run.metaPoints;
    while (out.cursor + 1 < points.length && (points[out.cursor + 1] as { at: number }).at <= out.samplesOut) out.cursor++;
    return points[out.cursor]?.meta ?? this.#meta;
  }

  #emit(stream: EncoderOutput, chunk: EncodedChunk): void {
    stream.bytesOut += chunk.data.length;
    for (const fn of stream.subscribers) {
      try {
        fn(chunk);
      } catch (err) {
        this.#log.error({ err }, 'encoded-chunk subscriber threw');
      }
    }
  }

  #onExit(run: Run, exit: FfmpegExit): void {
    if (!exit.requested && !run.dead) {
      const why = `ffmpeg exited (code ${String(exit.code)}, signal ${String(exit.signal)}): ${exit.stderrTail.slice(-3).join(' | ')}`;
      this.#died(run, fault('ENCODER_FAILED', why), run.engine?.pid, exit.stderrTail);
    }
    this.#retire(run);
  }

  #retire(run: Run): void {
    const i = this.#runs.indexOf(run);
    if (i < 0) return;
    this.#runs.splice(i, 1);
    // The next run's output was held back until this one had drained: release it in order.
    const head = this.#runs[0];
    if (i === 0 && head) {
      head.outputs.forEach((out, k) => {
        for (const c of out.backlog) this.#emit(this.#outputs[k] as EncoderOutput, c);
        out.backlog = [];
        out.backlogBytes = 0;
      });
    }
  }

  #stalled(run: Run): void {
    this.#stalls++;
    const queuedBytes = run.engine ? run.engine.queuedBytes : run.pendingBytes;
    this.#dropped += queuedBytes;
    this.events.emit('stalled', { key: this.key, queuedBytes });
    const f = fault('ENCODER_STALLED', `encoder took no input for more than ${this.#maxQueue} bytes of PCM`);
    this.#died(run, f, run.engine?.pid, []);
    if (run.engine) void run.engine.stop(200);
    // A run still spawning is reaped (and retired) by #doSpawn when the spawn completes.
  }

  /** Marks the run dead; if it was the live run, reports `died` (the supervisor restarts the encoder). */
  #died(run: Run, f: PipelineFault, pid: number | undefined, stderrTail: readonly string[]): void {
    if (run.dead || this.#closed) return;
    const wasLive = this.#live() === run;
    run.dead = true;
    this.#lastError = f.message;
    if (!wasLive) return;
    this.#log.error({ code: f.code, pid }, f.message);
    this.events.emit('died', { key: this.key, fault: f, pid, stderrTail });
  }
}
