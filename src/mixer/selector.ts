// Pure source selection: availability of each tier and an operator's hold in, switch decisions out;
// no I/O, no timers. Switches down a tier happen at once; switches up wait until the higher tier has
// been available for `holdMs` without a break, so a flapping encoder cannot make the programme flap.
// A hold caps the programme at a lower tier (maintenance): tiers above it count as unavailable
// ('held') until it is released, while their availability keeps being tracked so a release returns
// at once to a tier that has been available all along.
import type { HoldTier, SwitchReason, Tier, UnavailableReason } from '../types/contracts.js';

export type { HoldTier, SwitchReason, UnavailableReason } from '../types/contracts.js';

export const TIERS: readonly Tier[] = ['primary', 'fallback', 'emergency'];

export type Availability = { readonly available: true } | { readonly available: false; readonly reason: UnavailableReason };

export interface SwitchDecision {
  readonly from: Tier;
  readonly to: Tier;
  readonly reason: SwitchReason;
}

const rank = (t: Tier): number => TIERS.indexOf(t);

export class Selector {
  #current: Tier = 'emergency';
  #hold: HoldTier | null = null;
  /** Set by a release; the next upward switch is reported as 'released' (then cleared). */
  #released = false;
  readonly #availableSince = new Map<Tier, number>();

  constructor(private readonly holdMs: number) {}

  get current(): Tier {
    return this.#current;
  }

  get hold(): HoldTier | null {
    return this.#hold;
  }

  /** Holds the programme on `tier` or below (null releases); takes effect at the next update(). */
  setHold(tier: HoldTier | null): void {
    if (tier === this.#hold) return;
    this.#released = tier === null || (this.#hold !== null && rank(tier) < rank(this.#hold));
    this.#hold = tier;
  }

  /** How long `tier` has been available without a break, or undefined when it is not. */
  availableFor(tier: Tier, nowMs: number): number | undefined {
    const since = this.#availableSince.get(tier);
    return since === undefined ? undefined : nowMs - since;
  }

  /**
   * `availability` covers primary and fallback; the emergency tier is always available.
   * Returns the switch to make now, if any.
   */
  update(nowMs: number, availability: Readonly<Record<'primary' | 'fallback', Availability>>): SwitchDecision | null {
    for (const tier of ['primary', 'fallback'] as const) {
      if (availability[tier].available) {
        if (!this.#availableSince.has(tier)) this.#availableSince.set(tier, nowMs);
      } else {
        this.#availableSince.delete(tier);
      }
    }
    const released = this.#released;
    this.#released = false;
    const capped = (t: Tier): boolean => this.#hold !== null && rank(t) < rank(this.#hold);
    const isAvailable = (t: Tier): boolean => !capped(t) && (t === 'emergency' || availability[t].available);
    const from = this.#current;

    // Down: the current tier is gone (or held off); take the best tier below it that is available, at once.
    if (!isAvailable(from)) {
      const reason: SwitchReason = capped(from)
        ? 'held'
        : from === 'emergency'
          ? 'disconnected'
          : (availability[from] as { reason: UnavailableReason }).reason;
      const below = TIERS.filter((t) => rank(t) > rank(from) && isAvailable(t));
      // A higher tier that has already served its hold beats falling further down.
      const held = TIERS.filter((t) => rank(t) < rank(from) && this.#ready(t, nowMs, capped));
      const to = held[0] ?? below[0] ?? 'emergency';
      this.#current = to;
      return { from, to, reason: held[0] ? 'returned' : reason };
    }

    // Up: the best tier above the current one that has been available for the hold time.
    for (const t of TIERS) {
      if (rank(t) >= rank(from)) break;
      if (this.#ready(t, nowMs, capped)) {
        this.#current = t;
        return { from, to: t, reason: released ? 'released' : 'returned' };
      }
    }
    return null;
  }

  #ready(t: Tier, nowMs: number, capped: (t: Tier) => boolean): boolean {
    if (capped(t)) return false;
    if (t === 'emergency') return true;
    const since = this.#availableSince.get(t);
    return since !== undefined && nowMs - since >= this.holdMs;
  }
}
