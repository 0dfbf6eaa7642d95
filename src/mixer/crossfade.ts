// Equal-power crossfades between tiers, as a pure renderer over frames the mixer supplies. A switch
// that arrives while a fade is still running starts the new fade from the tier that is louder at that
// moment (at its current gain, so nothing jumps) and lets the quieter one out in a 10 ms tail.
import type { Tier } from '../types/contracts.js';
import { CHANNELS, msToSamples } from '../types/pcm.js';

interface Fade {
  readonly from: Tier;
  readonly to: Tier;
  readonly length: number;
  /** Gain of `from` when the fade started (1 unless it interrupted another fade). */
  readonly fromGain: number;
  pos: number;
}

interface Tail {
  readonly tier: Tier;
  readonly gain: number;
  readonly length: number;
  pos: number;
}

const TAIL = msToSamples(10);

export class Crossfader {
  #fade: Fade | null = null;
  #tail: Tail | null = null;

  /** Whether `tier` is heard (or fading out) right now, besides the current tier. */
  involves(tier: Tier): boolean {
    return this.#fade?.from === tier || this.#fade?.to === tier || this.#tail?.tier === tier;
  }

  get fading(): { readonly from: Tier; readonly to: Tier; readonly progress: number } | null {
    const f = this.#fade;
    return f ? { from: f.from, to: f.to, progress: f.pos / f.length } : null;
  }

  /** Starts a fade from `from` to `to` over `length` samples (0 = cut, used only when nothing is left). */
  start(from: Tier, to: Tier, length: number): void {
    const f = this.#fade;
    let fromTier = from;
    let fromGain = 1;
    if (f) {
      const [gA, gB] = gains(f);
      const louder = gB >= gA ? f.to : f.from;
      const quieter = louder === f.to ? f.from : f.to;
      fromTier = louder;
      fromGain = Math.max(gA, gB);
      this.#tail = { tier: quieter, gain: Math.min(gA, gB), length: TAIL, pos: 0 };
    }
    this.#fade = length > 0 && fromTier !== to ? { from: fromTier, to, length, fromGain, pos: 0 } : null;
  }

  /** Renders `n` samples into `out`: the current tier, or the fade (plus any tail) in progress. */
  render(out: Float32Array, n: number, current: Tier, source: (t: Tier) => Float32Array): void {
    const fade = this.#fade;
    if (!fade) out.set(source(current).subarray(0, n * CHANNELS));
    else {
      const a = source(fade.from);
      const b = source(fade.to);
      for (let i = 0; i < n; i++) {
        // Equal-power crossfade: cos/sin gains keep the perceived loudness constant through the switch.
        const t = Math.min(1, (fade.pos + i) / fade.length);
        const gA = fade.fromGain * Math.cos((Math.PI / 2) * t);
        const gB = Math.sin((Math.PI / 2) * t);
        for (let ch = 0; ch < CHANNELS; ch++) {
          const k = i * CHANNELS + ch;
          out[k] = (a[k] ?? 0) * gA + (b[k] ?? 0) * gB;
        }
      }
      fade.pos += n;
      if (fade.pos >= fade.length) this.#fade = null;
    }
    const tail = this.#tail;
    if (tail) {
      const s = source(tail.tier);
      for (let i = 0; i < n && tail.pos + i < tail.length; i++) {
        const g = tail.gain * (1 - (tail.pos + i) / tail.length);
        for (let ch = 0; ch < CHANNELS; ch++) out[i * CHANNELS + ch] = (out[i * CHANNELS + ch] ?? 0) + (s[i * CHANNELS + ch] ?? 0) * g;
      }
      tail.pos += n;
      if (tail.pos >= tail.length) this.#tail = null;
    }
  }
}

function gains(f: Fade): [number, number] {
  const t = Math.min(1, f.pos / f.length);
  return [f.fromGain * Math.cos((Math.PI / 2) * t), Math.sin((Math.PI / 2) * t)];
}
