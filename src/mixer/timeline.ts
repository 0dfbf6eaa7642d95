// A bounded in-memory timeline of recent pipeline events for the status API: a fixed-size ring,
// oldest dropped first, long strings cut so the ring's size stays bounded in bytes too.
import type { TimelineEntry } from '../types/snapshots.js';
export type { TimelineEntry } from '../types/snapshots.js';

const MAX_STRING = 256;

export class Timeline {
  readonly #entries: TimelineEntry[] = [];

  constructor(private readonly size: number) {}

  add(type: string, detail: Record<string, string | number | boolean | null | undefined>, at = Date.now()): void {
    const clean: Record<string, string | number | boolean | null> = {};
    for (const [k, v] of Object.entries(detail)) {
      if (v === undefined) continue;
      clean[k] = typeof v === 'string' && v.length > MAX_STRING ? v.slice(0, MAX_STRING) + '…' : v;
    }
    this.#entries.push(Object.freeze({ at, type, detail: Object.freeze(clean) }));
    if (this.#entries.length > this.size) this.#entries.shift();
  }

  /** Newest last; a copy, so callers cannot disturb the ring. */
  list(): readonly TimelineEntry[] {
    return [...this.#entries];
  }
}
