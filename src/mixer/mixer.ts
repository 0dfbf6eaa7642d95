// The clocked mixer: owns the programme. Every frame (frameMs) it reads each input's jitter buffer
// (standby inputs too, so a switch plays live audio), measures levels, asks the pure selector which
// tier is on air, crossfades on a switch, and hands the frame to subscribers. Frames are due by a
// monotonic clock, never by input arrival: late timer ticks produce every frame that is due.
import type { RecordableHistogram } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { HoldTier, InputId, OnAirMeta, ProgrammeChunk, ProgrammeSource, SourceInfo, Tier } from '../types/contracts.js';
import { CHANNELS, msToSamples } from '../types/pcm.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { Crossfader } from './crossfade.js';
import { EmergencySource } from './emergency.js';
import type { MixerEvents, MixerSnapshot } from './events.js';
import { InputSlot, type InputSlotConfig } from './input-slot.js';
import { Selector, type SwitchReason } from './selector.js';
import { Timeline } from './timeline.js';

export interface MixerConfig extends InputSlotConfig {
  readonly returnHoldSeconds: number;
  readonly emergencyFile: string;
  readonly emergencyTitle: string;
  readonly emergencyMaxSeconds: number;
  readonly timelineSize: number;
}

export interface MixerOptions {
  readonly config: MixerConfig;
  readonly log: Logger;
  readonly ffmpegPath: string;
  /**
   * Where each tick records how late its timer fired, in ns: the process's event-loop delay monitor
   * (src/app.ts). The mixer's timer runs anyway, 50 times a second, so the delay costs no wake-up of
   * its own, and it is the delay the audio clock suffers.
   */
  readonly lateness?: RecordableHistogram;
}

/** Frames produced at most in one tick; a longer stall of the event loop is skipped and counted. */
const MAX_CATCH_UP_MS = 1000;

export class Mixer implements ProgrammeSource {
  readonly events: TypedEmitter<MixerEvents>;
  readonly #cfg: MixerConfig;
  readonly #log: Logger;
  readonly #frame: number; // samples per frame
  readonly #inputs: Record<InputId, InputSlot>;
  readonly #emergency: EmergencySource;
  readonly #emergencyBuf: Float32Array;
  readonly #mix: Float32Array;
  readonly #selector: Selector;
  readonly #timeline: Timeline;
  readonly #subscribers = new Set<(c: ProgrammeChunk) => void>();
  #meta: OnAirMeta;
  readonly #crossfader = new Crossfader();
  #startMs = 0;
  #frames = 0;
  #skipped = 0;
  #timer: NodeJS.Timeout | undefined;
  /** When the pending timer was asked to fire (performance.now()). */
  #timerAt = 0;
  readonly #lateness: RecordableHistogram | undefined;
  #closed = false;

  private constructor(opts: MixerOptions, emergency: EmergencySource) {
    this.#cfg = opts.config;
    this.#log = opts.log;
    this.#lateness = opts.lateness;
    this.events = new TypedEmitter<MixerEvents>(opts.log);
    this.#frame = msToSamples(opts.config.frameMs);
    const slot = (id: InputId): InputSlot => new InputSlot(id, opts.config, this.#frame);
    this.#inputs = { primary: slot('primary'), fallback: slot('fallback') };
    this.#emergency = emergency;
    this.#emergencyBuf = new Float32Array(this.#frame * CHANNELS);
    this.#mix = new Float32Array(this.#frame * CHANNELS);
    this.#selector = new Selector(opts.config.returnHoldSeconds * 1000);
    this.#timeline = new Timeline(opts.config.timelineSize);
    this.#meta = Object.freeze({ title: opts.config.emergencyTitle, tier: 'emergency', seq: 0 });
  }

  static async create(opts: MixerOptions): Promise<Mixer> {
    // The emergency file is loaded before the mixer exists; a problem found then is replayed after.
    const holder: { mixer?: Mixer; early?: string | null } = {};
    const emergency = await EmergencySource.create({
      path: opts.config.emergencyFile,
      maxSeconds: opts.config.emergencyMaxSeconds,
      ffmpegPath: opts.ffmpegPath,
      log: opts.log.child({ part: 'emergency' }),
      onProblem: (problem) => (holder.mixer ? holder.mixer.#emergencyProblem(problem) : (holder.early = problem)),
      crossfadeSamples: msToSamples(opts.config.crossfadeMs),
    });
    const mixer = new Mixer(opts, emergency);
    holder.mixer = mixer;
    if (holder.early !== undefined) mixer.#emergencyProblem(holder.early);
    mixer.#start();
    return mixer;
  }

  get currentMeta(): OnAirMeta {
    return this.#meta;
  }

  get onAir(): Tier {
    return this.#selector.current;
  }

  subscribe(fn: (chunk: ProgrammeChunk) => void): () => void {
    this.#subscribers.add(fn);
    return () => this.#subscribers.delete(fn);
  }

  sourceConnected(inputId: InputId, info: SourceInfo): void {
    this.#inputs[inputId].connect(info.connectionId, performance.now());
    this.#timeline.add('source-connected', { inputId, address: info.remoteAddress, userAgent: info.userAgent, format: info.format });
  }

  pushPcm(inputId: InputId, connectionId: number, pcm: Buffer): void {
    this.#inputs[inputId].push(connectionId, pcm, performance.now());
  }

  sourceDisconnected(inputId: InputId, connectionId: number, reason: string): void {
    if (this.#inputs[inputId].disconnect(connectionId, performance.now())) {
      this.#timeline.add('source-disconnected', { inputId, reason });
    }
  }

  setTitle(inputId: InputId, title: string): void {
    this.#inputs[inputId].title = title;
    this.#timeline.add('metadata', { inputId, title });
    if (this.#selector.current === inputId) this.#setMeta(title, inputId);
  }

  /**
   * Holds the programme on `tier` or below for maintenance (null releases it). The switch happens on
   * the next frame, with the usual crossfade; the hold stays until it is released.
   */
  hold(tier: HoldTier | null): void {
    if (tier === this.#selector.hold) return;
    this.#selector.setHold(tier);
    this.#log.info({ hold: tier }, tier ? 'programme held' : 'hold released');
    this.#timeline.add('hold', { tier });
    this.events.emit('hold', { tier, at: Date.now() });
  }

  /** Plays another emergency file from now on (decoded in full first; rejects and keeps the current one if unusable). */
  async useEmergencyFile(path: string): Promise<void> {
    await this.#emergency.use(path);
    this.#timeline.add('emergency-file', { file: path });
  }

  snapshot(): MixerSnapshot {
    const now = performance.now();
    return {
      onAir: this.#selector.current,
      hold: this.#selector.hold,
      fading: this.#crossfader.fading,
      meta: this.#meta,
      framesProduced: this.#frames,
      samplesProduced: this.#frames * this.#frame,
      clockSkippedFrames: this.#skipped,
      inputs: [this.#inputs.primary.snapshot(now), this.#inputs.fallback.snapshot(now)],
      emergency: this.#emergency.snapshot(),
      timeline: this.#timeline.list(),
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#emergency.close();
    this.#subscribers.clear();
    this.events.removeAllListeners();
  }

  #start(): void {
    this.#startMs = performance.now();
    this.#schedule();
    this.#timeline.add('mixer-started', { tier: 'emergency' });
  }

  /**
   * One timer per frame, aimed at the moment the next frame is due. Not a setInterval at half a frame
   * (what ran until 2026-11-30), which woke the process 100 times a second for 50 frames, half of them
   * for nothing, and let a frame leave up to half a frame late; now each leaves within ~2 ms of its time.
   * (The wake-ups this saves did not show in Node's CPU: the README's "Always-on cost".)
   */
  #schedule(): void {
    if (this.#closed) return;
    const due = this.#startMs + (this.#frames + this.#skipped + 1) * this.#cfg.frameMs;
    // libuv counts timers in whole milliseconds from the loop's time, which lags the clock by whatever
    // ran since the loop woke: rounded up plus 1 ms, the timer fires after the frame is due (an early one
    // would find nothing due and cost one more wake-up) unless that lag passes 1 ms, and ~2 ms after at most.
    const now = performance.now();
    const delay = Math.max(1, Math.ceil(due - now) + 1);
    this.#timerAt = now + delay;
    this.#timer = setTimeout(() => this.#tick(), delay);
  }

  #tick(): void {
    const now = performance.now();
    // histogram.record() takes a positive integer; a timer that fired on time records 1 ns.
    this.#lateness?.record(Math.max(1, Math.round((now - this.#timerAt) * 1e6)));
    const late = now - this.#startMs - (this.#frames + this.#skipped + 1) * this.#cfg.frameMs;
    if (late < this.#cfg.frameMs) {
      this.#produceDue();
      this.#schedule();
      return;
    }
    // The event loop was blocked (a GC pause, a burst of listener I/O): PCM the decoders wrote in the
    // meantime is still waiting in the poll phase. Produce the overdue frames after it has been read
    // (setImmediate runs after the poll phase), or the inputs would seem to underrun.
    setImmediate(() => {
      if (this.#closed) return;
      this.#produceDue();
      this.#schedule();
    });
  }

  #produceDue(): void {
    const now = performance.now();
    let due = Math.floor((now - this.#startMs) / this.#cfg.frameMs) - this.#frames - this.#skipped;
    const maxFrames = Math.ceil(MAX_CATCH_UP_MS / this.#cfg.frameMs);
    if (due > maxFrames) {
      this.#skipped += due - maxFrames;
      this.#log.warn({ skippedMs: (due - maxFrames) * this.#cfg.frameMs }, 'event loop stalled: skipping mixer frames');
      due = maxFrames;
    }
    for (let i = 0; i < due; i++) {
      try {
        this.#produceFrame(now);
      } catch (err) {
        // The programme must go on whatever one frame did; the error is logged for a fix.
        this.#log.error({ err }, 'mixer frame failed');
        this.#frames++;
      }
    }
  }

  #produceFrame(now: number): void {
    const n = this.#frame;
    const current = this.#selector.current;
    const audible = (t: Tier): boolean => current === t || this.#crossfader.involves(t);
    for (const slot of [this.#inputs.primary, this.#inputs.fallback]) {
      const change = slot.readFrame(now, audible(slot.id));
      if (change) {
        this.events.emit(change, { inputId: slot.id, at: Date.now() });
        this.#timeline.add(change, { inputId: slot.id });
      }
    }
    const decision = this.#selector.update(now, {
      primary: this.#inputs.primary.availability(now),
      fallback: this.#inputs.fallback.availability(now),
    });
    if (decision) this.#switch(decision.from, decision.to, decision.reason);
    if (audible('emergency') || this.#selector.current === 'emergency') this.#emergency.read(this.#emergencyBuf, n);
    this.#render(n);
    this.#emit(n);
  }

  #source(t: Tier): Float32Array {
    return t === 'emergency' ? this.#emergencyBuf : this.#inputs[t].frame;
  }

  #render(n: number): void {
    this.#crossfader.render(this.#mix, n, this.#selector.current, (t) => this.#source(t));
  }

  #switch(from: Tier, to: Tier, reason: SwitchReason): void {
    let length = msToSamples(this.#cfg.crossfadeMs);
    // A disconnected input has only its remainder left: the fade ends where the remainder does.
    if (from !== 'emergency' && this.#inputs[from].draining) length = Math.min(length, this.#inputs[from].remainingSamples);
    if (to === 'emergency') this.#emergency.rewind();
    else this.#inputs[to].goingOnAir();
    this.#crossfader.start(from, to, length);
    const at = Date.now();
    this.#log.info({ from, to, reason }, 'switch');
    this.#timeline.add('switch', { from, to, reason });
    this.events.emit('switch', { from, to, reason, at });
    this.#setMeta(to === 'emergency' ? this.#cfg.emergencyTitle : this.#inputs[to].title, to);
  }

  #setMeta(title: string, tier: Tier): void {
    if (title === this.#meta.title && tier === this.#meta.tier) return;
    this.#meta = Object.freeze({ title, tier, seq: this.#meta.seq + 1 });
    this.events.emit('meta', this.#meta);
  }

  #emit(n: number): void {
    const out = this.#mix;
    const pcm = Buffer.allocUnsafe(n * CHANNELS * 2);
    // Through an Int16Array view: one typed store per sample instead of a bounds-checked
    // writeInt16LE call (this loop runs 88,200 times a second). Every platform Node supports is
    // little-endian, which the s16le pipes assume anyway.
    const s16 = new Int16Array(pcm.buffer, pcm.byteOffset, n * CHANNELS);
    for (let i = 0; i < s16.length; i++) {
      const v = out[i] as number;
      s16[i] = v >= 1 ? 32767 : v <= -1 ? -32768 : Math.round(v * 32767);
    }
    const chunk: ProgrammeChunk = Object.freeze({ pcm, firstSample: this.#frames * n, meta: this.#meta });
    this.#frames++;
    for (const fn of this.#subscribers) {
      try {
        fn(chunk);
      } catch (err) {
        this.#log.error({ err }, 'programme subscriber threw');
      }
    }
  }

  #emergencyProblem(problem: string | null): void {
    const at = Date.now();
    const message = problem ?? 'emergency file usable again';
    this.#timeline.add('alert', { code: 'EMERGENCY_FILE_UNUSABLE', message, cleared: problem === null });
    this.events.emit('alert', { code: 'EMERGENCY_FILE_UNUSABLE', message, cleared: problem === null, at });
  }
}

export function createMixer(opts: MixerOptions): Promise<Mixer> {
  return Mixer.create(opts);
}
