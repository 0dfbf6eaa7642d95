// One studio input as the mixer sees it: the current connection, its jitter buffer, its silence
// detector and level, and the availability rule the selector consumes.
import type { InputId } from '../types/contracts.js';
import { CHANNELS, samplesToMs } from '../types/pcm.js';
import type { MixerInputSnapshot } from './events.js';
import { JitterBuffer } from './jitter-buffer.js';
import { FLOOR_DB, heldPeakDb, peakDb, rmsDb } from './levels.js';
import type { Availability } from './selector.js';
import { SilenceDetector } from './silence.js';

export interface InputSlotConfig {
  readonly frameMs: number;
  readonly minBufferMs: number;
  readonly maxBufferMs: number;
  readonly stallMs: number;
  readonly silenceThresholdDb: number;
  readonly silenceSeconds: number;
  readonly soundSeconds: number;
  readonly crossfadeMs: number;
}

/** Samples in an anti-click ramp (5 ms). */
const RAMP = 220;

export class InputSlot {
  readonly id: InputId;
  /** The last frame read, interleaved floats; valid until the next readFrame. */
  readonly frame: Float32Array;
  title = '';
  readonly #cfg: InputSlotConfig;
  readonly #n: number;
  readonly #buffer: JitterBuffer;
  readonly #detector: SilenceDetector;
  #connectionId = -1;
  #connected = false;
  #levelDb = FLOOR_DB;
  #peakDb = FLOOR_DB;
  #silentBefore = true;

  constructor(id: InputId, cfg: InputSlotConfig, frameSamples: number) {
    this.id = id;
    this.#cfg = cfg;
    this.#n = frameSamples;
    this.frame = new Float32Array(frameSamples * CHANNELS);
    this.#buffer = new JitterBuffer({ minMs: cfg.minBufferMs, maxMs: cfg.maxBufferMs, frameMs: cfg.frameMs });
    this.#detector = new SilenceDetector({
      thresholdDb: cfg.silenceThresholdDb,
      silenceMs: cfg.silenceSeconds * 1000,
      soundMs: cfg.soundSeconds * 1000,
    });
  }

  connect(connectionId: number, now: number): void {
    this.#connectionId = connectionId;
    this.#connected = true;
    // The title is not cleared here: libshout sends its first title right after the 200, before
    // the decoder has started and the connection is announced. It is cleared on disconnect.
    this.#buffer.reset(now);
    this.#detector.reset();
  }

  push(connectionId: number, pcm: Buffer, now: number): void {
    if (connectionId === this.#connectionId && this.#connected) this.#buffer.push(pcm, now);
  }

  /** Returns true when this was the current connection. */
  disconnect(connectionId: number, now: number): boolean {
    if (connectionId !== this.#connectionId || !this.#connected) return false;
    this.#connected = false;
    this.title = '';
    this.#buffer.end(now);
    return true;
  }

  /** About to go on air: start from live audio, not from a backlog. */
  goingOnAir(): void {
    this.#buffer.trimToTarget();
  }

  get draining(): boolean {
    return this.#buffer.state === 'draining';
  }

  get remainingSamples(): number {
    return Math.floor(this.#buffer.fillSamples);
  }

  /** Reads one frame; returns a silence transition if the detector made one. */
  readFrame(now: number, audible: boolean): 'silence' | 'sound' | null {
    const got = this.#buffer.read(this.frame, this.#n, now, audible);
    this.#declick(got);
    if (got === 0) {
      this.#levelDb = FLOOR_DB;
      this.#peakDb = heldPeakDb(this.#peakDb, FLOOR_DB, this.#cfg.frameMs);
      return null; // no audio is not silence: it is a stall or a disconnect, judged elsewhere
    }
    this.#levelDb = rmsDb(this.frame, got);
    this.#peakDb = heldPeakDb(this.#peakDb, peakDb(this.frame, got), this.#cfg.frameMs);
    const change = this.#detector.feed(this.#levelDb, samplesToMs(got));
    return change === 'became-silent' ? 'silence' : change === 'became-sound' ? 'sound' : null;
  }

  availability(now: number): Availability {
    const b = this.#buffer;
    switch (b.state) {
      case 'idle':
        return { available: false, reason: 'disconnected' };
      case 'priming':
        return { available: false, reason: 'connecting' };
      case 'draining':
        return b.depthMs > this.#cfg.crossfadeMs ? this.#soundOr() : { available: false, reason: 'disconnected' };
      case 'underrun':
        return b.stateAgeMs(now) < this.#cfg.stallMs ? this.#soundOr() : { available: false, reason: 'stalled' };
      case 'playing':
        return this.#soundOr();
    }
  }

  snapshot(now: number): MixerInputSnapshot {
    const a = this.availability(now);
    return {
      inputId: this.id,
      connected: this.#connected,
      available: a.available,
      unavailableReason: a.available ? null : a.reason,
      silent: this.#detector.state === 'silent',
      levelDb: Math.round(this.#levelDb * 10) / 10,
      peakDb: Math.round(this.#peakDb * 10) / 10,
      title: this.title,
      buffer: this.#buffer.snapshot(),
    };
  }

  /**
   * Audio that stops mid-frame (an underrun) or starts again after a gap would step to or from zero:
   * a click. A 5 ms ramp at each such edge removes it without being heard as a fade.
   */
  #declick(got: number): void {
    const f = this.frame;
    if (got > 0 && got < this.#n) {
      const len = Math.min(got, RAMP);
      for (let i = 0; i < len; i++) {
        const g = (len - i) / (len + 1);
        const k = (got - len + i) * CHANNELS;
        for (let ch = 0; ch < CHANNELS; ch++) f[k + ch] = (f[k + ch] ?? 0) * g;
      }
    }
    if (got > 0 && this.#silentBefore) {
      const len = Math.min(got, RAMP);
      for (let i = 0; i < len; i++) {
        const g = (i + 1) / (len + 1);
        for (let ch = 0; ch < CHANNELS; ch++) f[i * CHANNELS + ch] = (f[i * CHANNELS + ch] ?? 0) * g;
      }
    }
    this.#silentBefore = got < this.#n;
  }

  #soundOr(): Availability {
    return this.#detector.state === 'silent' ? { available: false, reason: 'silent' } : { available: true };
  }
}
