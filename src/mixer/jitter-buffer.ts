// One input's adaptive jitter buffer: a ring of PCM bounded in bytes (capacity = maxBufferMs), a
// target depth that follows the arrival jitter actually seen (grows at once on underrun, shrinks
// slowly, as WebRTC's NetEq does), and a PI controller that plays the input up to ±0.5 % faster or
// slower through a cubic interpolator, so depth changes and clock drift are absorbed without clicks.
import { CHANNELS, SAMPLE_RATE } from '../types/pcm.js';
import { JitterEstimator } from './jitter-estimator.js';
import type { BufferState, JitterBufferSnapshot } from '../types/snapshots.js';
export type { BufferState, JitterBufferSnapshot } from '../types/snapshots.js';

export interface JitterBufferOptions {
  readonly minMs: number;
  readonly maxMs: number;
  readonly frameMs: number;
}

const MAX_RATIO_DEVIATION = 0.005;
const KP = 0.03; // ratio per second of depth error
const KI = 0.0003; // ratio per second² of accumulated error
const HISTORY = 4; // samples kept behind the read point for the interpolator
const FILL_SMOOTHING_MS = 1000;
/** How fast an underrun boost decays back towards the measured target (fraction per second). */
const BOOST_DECAY_PER_S = 0.02;
/** After an overflow the buffer holds at most this share of its capacity (see #dropOnOverflow). */
const OVERFLOW_KEEP = 0.75;

const ms2s = (ms: number): number => (ms * SAMPLE_RATE) / 1000;
const s2ms = (s: number): number => (s * 1000) / SAMPLE_RATE;

export class JitterBuffer {
  readonly #opts: JitterBufferOptions;
  readonly #ring: Int16Array;
  readonly #cap: number; // in samples (per channel)
  readonly #estimator = new JitterEstimator();
  #state: BufferState = 'idle';
  #written = 0; // absolute samples written
  #readPos = 0; // absolute integer read position
  #frac = 0;
  #hasHistory = false;
  #stateSinceMs = 0;
  #targetMs: number;
  #boostMs = 0;
  #fillSmoothMs = 0;
  #integral = 0;
  #ratio = 1;
  #underruns = 0;
  #overflowDropped = 0;
  #overflows = 0;
  #trimmed = 0;
  #corrected = 0;

  constructor(opts: JitterBufferOptions) {
    this.#opts = opts;
    this.#cap = Math.ceil(ms2s(opts.maxMs)) + HISTORY;
    this.#ring = new Int16Array(this.#cap * CHANNELS);
    this.#targetMs = opts.minMs;
  }

  get state(): BufferState {
    return this.#state;
  }

  /** How long the buffer has been in its current state. */
  stateAgeMs(nowMs: number): number {
    return nowMs - this.#stateSinceMs;
  }

  get fillSamples(): number {
    return Math.max(0, this.#written - this.#readPos - this.#frac);
  }

  get depthMs(): number {
    return s2ms(this.fillSamples);
  }

  get targetMs(): number {
    return Math.max(this.#targetMs, this.#boostMs);
  }

  /** Starts a new connection: everything buffered from the previous one is dropped. */
  reset(nowMs: number): void {
    this.#written = 0;
    this.#readPos = 0;
    this.#frac = 0;
    this.#hasHistory = false;
    this.#integral = 0;
    this.#ratio = 1;
    this.#fillSmoothMs = 0;
    this.#estimator.reset();
    this.#setState('priming', nowMs);
  }

  /** The source is gone: what is buffered plays out, then the buffer goes idle. */
  end(nowMs: number): void {
    if (this.#state === 'idle') return;
    this.#setState(this.fillSamples > 0 ? 'draining' : 'idle', nowMs);
  }

  push(pcm: Buffer, nowMs: number): void {
    if (this.#state === 'idle' || this.#state === 'draining') return;
    const samples = Math.floor(pcm.length / (2 * CHANNELS));
    if (samples === 0) return;
    this.#estimator.arrived(nowMs, samples);
    const src = new Int16Array(pcm.buffer, pcm.byteOffset, samples * CHANNELS);
    // The ring only needs the newest `cap - HISTORY` samples of a huge push.
    const usable = Math.min(samples, this.#cap - HISTORY);
    const skip = samples - usable;
    this.#written += skip;
    for (let i = 0; i < usable; i++) {
      const dst = ((this.#written + i) % this.#cap) * CHANNELS;
      const s = (skip + i) * CHANNELS;
      this.#ring[dst] = src[s] ?? 0;
      this.#ring[dst + 1] = src[s + 1] ?? 0;
    }
    this.#written += usable;
    if (this.#written - this.#readPos > this.#cap - HISTORY) this.#dropOnOverflow();
    if ((this.#state === 'priming' || this.#state === 'underrun') && this.depthMs >= this.targetMs) {
      this.#setState('playing', nowMs);
    }
  }

  /**
   * Reads `n` samples into `out` (interleaved floats, full scale 1). Returns how many samples were real
   * audio; the rest are zero. `audible` says whether the input is on air: a standby input that has
   * far more than its target is trimmed at once instead of slowly, since nobody hears the jump.
   */
  read(out: Float32Array, n: number, nowMs: number, audible: boolean): number {
    this.#updateTarget(nowMs);
    if (this.#state === 'priming' || this.#state === 'underrun' || this.#state === 'idle') {
      out.fill(0, 0, n * CHANNELS);
      return 0;
    }
    if (this.#state === 'playing' && !audible) this.#trimExcess();
    if (this.#state === 'draining') return this.#readPlain(out, n, nowMs);

    this.#control(n);
    const need = Math.floor(this.#frac + n * this.#ratio) + 2;
    if (this.#written - this.#readPos < need) {
      const got = this.#readPlain(out, n, nowMs);
      this.#underruns++;
      // Grow at once: the uplink is burstier than we assumed.
      this.#boostMs = Math.min(this.#opts.maxMs, Math.max(this.targetMs * 1.5, this.targetMs + 2 * this.#opts.frameMs));
      this.#setState('underrun', nowMs);
      return got;
    }
    this.#interpolate(out, n);
    this.#corrected += Math.abs(this.#ratio - 1) * n;
    return n;
  }

  snapshot(): JitterBufferSnapshot {
    return {
      state: this.#state,
      depthMs: round1(this.depthMs),
      targetMs: round1(this.targetMs),
      jitterMs: round1(this.#estimator.spreadMs),
      underruns: this.#underruns,
      overflowDroppedMs: round1(s2ms(this.#overflowDropped)),
      overflows: this.#overflows,
      trimmedMs: round1(s2ms(this.#trimmed)),
      correctedMs: round1(s2ms(this.#corrected)),
      ratio: Math.round(this.#ratio * 1e6) / 1e6,
      capacityBytes: this.#ring.byteLength,
    };
  }

  #setState(state: BufferState, nowMs: number): void {
    if (this.#state !== state) this.#stateSinceMs = nowMs;
    this.#state = state;
  }

  #updateTarget(nowMs: number): void {
    // Depth needed: the arrival spread, one mixer frame (we read whole frames) and a small margin;
    // an underrun grows it at once (boost), so the margin need not cover the worst case.
    const measured = this.#estimator.spreadAt(nowMs) + this.#opts.frameMs + 10;
    this.#targetMs = clamp(measured, this.#opts.minMs, this.#opts.maxMs);
    if (this.#boostMs > this.#targetMs) this.#boostMs -= (this.#boostMs - this.#targetMs) * BOOST_DECAY_PER_S * (this.#opts.frameMs / 1000);
  }

  #control(n: number): void {
    const dt = n / SAMPLE_RATE;
    const alpha = Math.min(1, (dt * 1000) / FILL_SMOOTHING_MS);
    this.#fillSmoothMs += (this.depthMs - this.#fillSmoothMs) * alpha;
    const err = (this.#fillSmoothMs - this.targetMs) / 1000;
    this.#integral = clamp(this.#integral + err * dt, -MAX_RATIO_DEVIATION / KI, MAX_RATIO_DEVIATION / KI);
    this.#ratio = 1 + clamp(KP * err + KI * this.#integral, -MAX_RATIO_DEVIATION, MAX_RATIO_DEVIATION);
  }

  /**
   * Drops the oldest audio beyond the target at once. Called while nobody hears this input (standby,
   * or just before it goes on air), so a connect burst never becomes permanent latency.
   */
  trimToTarget(): void {
    if (this.#state === 'playing') this.#trimExcess(this.#opts.frameMs);
  }

  /** Trims to target + one frame when more than `thresholdMs` above it. */
  #trimExcess(thresholdMs = 180): void {
    const excess = this.fillSamples - ms2s(this.targetMs);
    if (excess > ms2s(thresholdMs)) {
      const drop = Math.floor(excess - ms2s(this.#opts.frameMs));
      this.#skip(drop);
      this.#trimmed += drop;
    }
  }

  /** Skips the oldest `samples` at once; the rate controller starts afresh from the new depth. */
  #skip(samples: number): void {
    this.#readPos += samples;
    this.#fillSmoothMs = this.depthMs;
    this.#integral = 0;
  }

  /**
   * The ring is full: the oldest audio goes. That is a jump in what listeners hear however much goes, so
   * it is one jump, down to the target (at most OVERFLOW_KEEP of the ring, so there is room again). Not
   * just the overflow of this push: a source sending faster than real time (a capture device with no
   * clock, a backlog) then overflowed on every push, ~40 small jumps a second with one push per MP3
   * frame, heard as a buzz; now it jumps a few times a second at most, and latency is back at the target.
   */
  #dropOnOverflow(): void {
    const usable = this.#cap - HISTORY;
    const keep = Math.min(Math.ceil(ms2s(this.targetMs + this.#opts.frameMs)), Math.floor(usable * OVERFLOW_KEEP));
    const drop = this.#written - this.#readPos - keep;
    this.#skip(drop);
    this.#overflowDropped += drop;
    this.#overflows++;
  }

  /** Copies up to n samples at ratio 1 (drain and underrun paths); zero-fills the rest. */
  #readPlain(out: Float32Array, n: number, nowMs: number): number {
    const avail = Math.max(0, this.#written - this.#readPos);
    const got = Math.min(n, avail);
    for (let i = 0; i < got; i++) {
      const src = ((this.#readPos + i) % this.#cap) * CHANNELS;
      out[i * CHANNELS] = (this.#ring[src] ?? 0) / 32768;
      out[i * CHANNELS + 1] = (this.#ring[src + 1] ?? 0) / 32768;
    }
    out.fill(0, got * CHANNELS, n * CHANNELS);
    this.#readPos += got;
    this.#frac = 0;
    if (got > 0) this.#hasHistory = true;
    if (this.#state === 'draining' && this.#written - this.#readPos <= 0) this.#setState('idle', nowMs);
    return got;
  }

  /** Catmull-Rom interpolation at positions readPos + frac + i·ratio (hot path: no closures). */
  #interpolate(out: Float32Array, n: number): void {
    const ring = this.#ring;
    const cap = this.#cap;
    const base = this.#readPos;
    const ratio = this.#ratio;
    const frac0 = this.#frac;
    const noHistory = !this.#hasHistory;
    const scale = 1 / 32768;
    for (let i = 0; i < n; i++) {
      const p = frac0 + i * ratio;
      const k = Math.floor(p);
      const t = p - k;
      const i1 = ((base + k) % cap) * CHANNELS;
      const i0 = k === 0 && noHistory ? i1 : ((base + k - 1 + cap) % cap) * CHANNELS;
      const i2 = ((base + k + 1) % cap) * CHANNELS;
      const i3 = ((base + k + 2) % cap) * CHANNELS;
      for (let ch = 0; ch < CHANNELS; ch++) {
        const y1 = ring[i1 + ch]! * scale;
        if (t === 0) {
          out[i * CHANNELS + ch] = y1;
          continue;
        }
        const y0 = ring[i0 + ch]! * scale;
        const y2 = ring[i2 + ch]! * scale;
        const y3 = ring[i3 + ch]! * scale;
        out[i * CHANNELS + ch] = y1 + 0.5 * t * (y2 - y0 + t * (2 * y0 - 5 * y1 + 4 * y2 - y3 + t * (3 * (y1 - y2) + y3 - y0)));
      }
    }
    const advance = frac0 + n * ratio;
    const whole = Math.floor(advance);
    this.#readPos = base + whole;
    this.#frac = advance - whole;
    this.#hasHistory = true;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}
