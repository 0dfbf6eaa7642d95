// Pure silence detector, one per input: levels in, decisions out, no timers (the mixer owns the
// clock). Silent after `silenceMs` below the threshold; sound again only after `soundMs` of sustained
// sound, where a silent gap longer than `gapMs` restarts the count, so one click does not count.

export type SilenceState = 'sound' | 'silent';

export interface SilenceOptions {
  readonly thresholdDb: number;
  readonly silenceMs: number;
  readonly soundMs: number;
  /** A quiet gap longer than this resets the sustained-sound count (speech has short pauses). */
  readonly gapMs?: number;
}

export type SilenceDecision = 'became-silent' | 'became-sound' | null;

export class SilenceDetector {
  #state: SilenceState = 'sound';
  #quietMs = 0;
  #soundMs = 0;
  #gapMs = 0;

  constructor(private readonly opts: SilenceOptions) {}

  get state(): SilenceState {
    return this.#state;
  }

  /** Feeds one block's level; returns the transition it caused, if any. */
  feed(levelDb: number, durationMs: number): SilenceDecision {
    const loud = levelDb >= this.opts.thresholdDb;
    if (this.#state === 'sound') {
      this.#quietMs = loud ? 0 : this.#quietMs + durationMs;
      if (this.#quietMs >= this.opts.silenceMs) {
        this.#state = 'silent';
        this.#soundMs = 0;
        this.#gapMs = 0;
        return 'became-silent';
      }
      return null;
    }
    if (loud) {
      this.#soundMs += durationMs;
      this.#gapMs = 0;
    } else {
      this.#gapMs += durationMs;
      if (this.#gapMs > (this.opts.gapMs ?? 300)) this.#soundMs = 0;
    }
    if (this.#soundMs >= this.opts.soundMs) {
      this.#state = 'sound';
      this.#quietMs = 0;
      return 'became-sound';
    }
    return null;
  }

  /** A new connection starts with a clean slate: presumed sound, as the connect-to-air target needs. */
  reset(): void {
    this.#state = 'sound';
    this.#quietMs = 0;
    this.#soundMs = 0;
    this.#gapMs = 0;
  }
}
