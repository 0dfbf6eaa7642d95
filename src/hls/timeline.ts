// The segments and parts of every tier, in memory: what the aligner cuts becomes a part (ID3 + ADTS
// frames) per tier; complete segments slide through the playlist window, then stay downloadable for a grace
// period (RFC 8216 §6.2.2) and are freed. Only whole parts are ever published, so no reader sees half a one.
import type { AlignedFrame, AlignerSink } from './aligner.js';
import { buildId3, PTS_WRAP } from './id3.js';
import { framesToSeconds, type HlsLayout } from './layout.js';
import type { SegmentView } from './playlist.js';

export interface Part {
  readonly duration: number;
  /** One buffer per tier. */
  readonly bytes: readonly Buffer[];
}

export interface Segment extends SegmentView {
  readonly parts: Part[];
  duration: number | undefined;
  /** Whole-segment bytes per tier (the parts concatenated), once complete. */
  full: Buffer[] | undefined;
  /** Set when the segment left the playlist: freed after this wall-clock time (ms). */
  expiresAt: number | undefined;
  /** Tier 0's title at the segment's first frame (for the snapshot). */
  readonly title: string;
}

export interface TimelineOptions {
  readonly tiers: number;
  readonly layout: HlsLayout;
  readonly windowSegments: number;
  readonly firstMsn: number;
  readonly firstDisc: number;
  readonly now?: () => number;
  /** A media sequence number was handed out: persist it before anyone can see it. */
  readonly onSegmentOpened: (msn: number, disc: number) => void;
  readonly onPublished: () => void;
  readonly onBroken: (reason: string) => void;
}

export class Timeline implements AlignerSink {
  readonly #o: TimelineOptions;
  readonly #now: () => number;
  /** Oldest first: segments in grace, then the listed window, then possibly the open segment. */
  readonly #segments: Segment[] = [];
  #nextMsn: number;
  #disc: number;
  #epochStartMs = 0;
  #epochFrame = 0;
  #epochs = 0;
  #bytesHeld = 0;
  #lastTitle: string | undefined;

  constructor(opts: TimelineOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
    this.#nextMsn = opts.firstMsn;
    this.#disc = opts.firstDisc;
  }

  epoch(queuedFrames: number): void {
    // The queued frames were made before now: date the epoch back by their duration.
    this.#epochStartMs = this.#now() - framesToSeconds(queuedFrames, this.#o.layout.sampleRate) * 1000;
    this.#epochFrame = 0;
    this.#epochs++;
  }

  part(frames: readonly (readonly AlignedFrame[])[], final: boolean): void {
    const n = frames[0]?.length ?? 0;
    if (n === 0) return;
    const layout = this.#o.layout;
    const title = frames[0]?.[0]?.title ?? '';
    let seg = this.#open();
    if (!seg) {
      const msn = this.#nextMsn++;
      this.#o.onSegmentOpened(msn, this.#disc);
      seg = {
        msn,
        disc: this.#disc,
        pdtMs: this.#timeOf(this.#epochFrame),
        parts: [],
        duration: undefined,
        full: undefined,
        expiresAt: undefined,
        title,
      };
      this.#segments.push(seg);
    }
    // PES clock of the part's first sample, derived from the wall clock so it agrees with PROGRAM-DATE-TIME.
    const pts = (((this.#timeOf(this.#epochFrame) * 90) % PTS_WRAP) + PTS_WRAP) % PTS_WRAP;
    const id3 = buildId3(pts, title);
    const bytes = frames.map((tierFrames) => Buffer.concat([id3, ...tierFrames.map((f) => f.data)]));
    for (const b of bytes) this.#bytesHeld += b.length;
    seg.parts.push({ duration: framesToSeconds(n, layout.sampleRate), bytes });
    this.#lastTitle = title;
    this.#epochFrame += n;
    if (final || seg.parts.length >= layout.partsPerSegment) this.#complete(seg);
    this.#slide();
    this.#o.onPublished();
  }

  broken(reason: string): void {
    const seg = this.#open();
    if (seg) this.#complete(seg);
    this.#disc++;
    this.#slide();
    this.#o.onBroken(reason);
    this.#o.onPublished();
  }

  #timeOf(epochFrame: number): number {
    return this.#epochStartMs + framesToSeconds(epochFrame, this.#o.layout.sampleRate) * 1000;
  }

  #open(): Segment | undefined {
    const last = this.#segments.at(-1);
    return last && last.duration === undefined ? last : undefined;
  }

  #complete(seg: Segment): void {
    seg.duration = seg.parts.reduce((a, p) => a + p.duration, 0);
    seg.full = Array.from({ length: this.#o.tiers }, (_, t) => Buffer.concat(seg.parts.map((p) => p.bytes[t] ?? Buffer.alloc(0))));
    for (const b of seg.full) this.#bytesHeld += b.length;
  }

  /** Moves segments past the window into grace and frees those whose grace is over. */
  #slide(): void {
    const now = this.#now();
    const listed = this.listed();
    const complete = listed.filter((s) => s.duration !== undefined);
    const excess = complete.length - this.#o.windowSegments;
    if (excess > 0) {
      const playlistSeconds = listed.reduce((a, s) => a + (s.duration ?? 0), 0);
      for (const s of complete.slice(0, excess)) s.expiresAt = now + ((s.duration ?? 0) + playlistSeconds) * 1000;
    }
    while (this.#segments[0]?.expiresAt !== undefined && this.#segments[0].expiresAt <= now) {
      const s = this.#segments.shift();
      for (const p of s?.parts ?? []) for (const b of p.bytes) this.#bytesHeld -= b.length;
      for (const b of s?.full ?? []) this.#bytesHeld -= b.length;
    }
  }

  /** The segments in the playlist (window + open segment), oldest first. */
  listed(): Segment[] {
    return this.#segments.filter((s) => s.expiresAt === undefined);
  }

  /** Any segment still downloadable (listed or in grace). */
  find(msn: number): Segment | undefined {
    const first = this.#segments[0];
    if (!first) return undefined;
    // msn are consecutive in the array: index directly instead of searching.
    const s = this.#segments[msn - first.msn];
    return s?.msn === msn ? s : undefined;
  }

  /** The newest published part, or undefined before the first. */
  get last(): { readonly msn: number; readonly part: number; readonly complete: boolean } | undefined {
    const s = this.#segments.at(-1);
    if (!s) return undefined;
    return { msn: s.msn, part: s.parts.length - 1, complete: s.duration !== undefined };
  }

  /** The part a player will ask for next (EXT-X-PRELOAD-HINT). */
  get next(): { readonly msn: number; readonly part: number } {
    const s = this.#open();
    return s ? { msn: s.msn, part: s.parts.length } : { msn: this.#nextMsn, part: 0 };
  }

  /** The title in the newest part's ID3 tag. */
  get lastTitle(): string | undefined {
    return this.#lastTitle;
  }

  get bytesHeld(): number {
    return this.#bytesHeld;
  }

  get segmentsHeld(): number {
    return this.#segments.length;
  }

  get epochs(): number {
    return this.#epochs;
  }

  get discontinuitySequence(): number {
    return this.#disc;
  }
}
