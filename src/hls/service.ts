// The HLS packager for a set of aligned tiers: encoded chunks in (through the aligner), playlists and
// media out, rendered once per publish and kept gzipped, plus the bookkeeping the HTTP routes need.
import { gzipSync } from 'node:zlib';
import type { Logger } from 'pino';
import { Aligner } from './aligner.js';
import type { HlsLayout } from './layout.js';
import { renderMaster, renderMedia } from './playlist.js';
import { SessionCounter, type SessionReports } from './sessions.js';
import type { StateWriter } from './state.js';
import { Timeline, type Segment } from './timeline.js';
import { Waiters } from './waiters.js';
import type { EncodedChunk } from '../types/contracts.js';
import type { TierStats } from '../types/snapshots.js';
export type { TierStats } from '../types/snapshots.js';

export interface TierInfo {
  readonly name: string;
  readonly bitrate: number;
}

export interface Rendered {
  readonly text: string;
  readonly gzip: () => Buffer;
}

/** Most parked blocking requests at once; past this a player gets 503 and retries. */
export const MAX_WAITERS = 20_000;

function rendered(text: string): Rendered {
  let gz: Buffer | undefined;
  return { text, gzip: () => (gz ??= gzipSync(text)) };
}

export class HlsService {
  readonly tiers: readonly TierInfo[];
  readonly layout: HlsLayout;
  readonly aligner: Aligner;
  readonly timeline: Timeline;
  readonly waiters = new Waiters(MAX_WAITERS);
  readonly sessions: SessionCounter;
  readonly #log: Logger;
  #version = 0;
  readonly #cache = new Map<number, { version: number; r: Rendered }>();
  #breaks = 0;
  #lastBreak: string | undefined;

  constructor(opts: {
    tiers: readonly TierInfo[];
    layout: HlsLayout;
    windowSegments: number;
    firstMsn: number;
    firstDisc: number;
    state: StateWriter;
    log: Logger;
    sessionReports?: SessionReports;
  }) {
    this.tiers = opts.tiers;
    this.layout = opts.layout;
    this.#log = opts.log;
    this.sessions = new SessionCounter(2 * opts.layout.targetDuration * 1000, undefined, opts.sessionReports);
    this.timeline = new Timeline({
      tiers: opts.tiers.length,
      layout: opts.layout,
      windowSegments: opts.windowSegments,
      firstMsn: opts.firstMsn,
      firstDisc: opts.firstDisc,
      onSegmentOpened: (msn, disc) => opts.state.save({ nextMsn: msn + 1, lastDisc: disc }),
      onPublished: () => {
        this.#version++;
        this.waiters.notify();
      },
      onBroken: (reason) => {
        this.#breaks++;
        this.#lastBreak = reason;
        this.#log.warn({ reason }, 'HLS timestamps restart: discontinuity');
      },
    });
    // Two segments of slack between the fastest and the slowest encoder before the tiers re-synchronise.
    this.aligner = new Aligner(opts.tiers.length, opts.layout.partFrames, 2 * opts.layout.segmentFrames, this.timeline);
  }

  push(tier: number, chunk: EncodedChunk): void {
    this.aligner.push(tier, chunk);
  }

  tierIndex(name: string): number {
    return this.tiers.findIndex((t) => t.name === name);
  }

  master(): Rendered {
    return this.#cached(-1, () =>
      renderMaster(
        this.tiers.map((t, i) => {
          const s = this.stats(i);
          // Before measurements exist, allow 10 % over nominal plus ADTS/ID3 overhead (~8 kbit/s).
          const nominalPeak = Math.round(t.bitrate * 1.1 + 8000);
          return {
            uri: `${t.name}/index.m3u8`,
            bandwidth: Math.max(nominalPeak, s.peakBps ?? 0),
            averageBandwidth: s.averageBps ?? t.bitrate + 8000,
          };
        }),
      ),
    );
  }

  media(tier: number): Rendered {
    return this.#cached(tier, () =>
      renderMedia({
        layout: this.layout,
        segments: this.timeline.listed(),
        partWindowSeconds: 3 * this.layout.targetDuration,
        preloadHint: this.timeline.last ? this.timeline.next : undefined,
        renditionReports: this.tiers.filter((_, i) => i !== tier).map((t) => `../${t.name}/index.m3u8`),
      }),
    );
  }

  /** Whole segment or one part of it, for one tier; undefined if not (or no longer) there. */
  mediaBytes(tier: number, msn: number, part: number | undefined): Buffer | undefined {
    const seg = this.timeline.find(msn);
    if (!seg) return undefined;
    if (part === undefined) return seg.full?.[tier];
    return seg.parts[part]?.bytes[tier];
  }

  /** True once the playlist holds part `part` of segment `msn` or anything later (whole segment if part is undefined). */
  has(msn: number, part: number | undefined): boolean {
    const last = this.timeline.last;
    if (!last) return false;
    if (msn < last.msn) return true;
    if (msn > last.msn) return false;
    return part === undefined ? last.complete : part <= last.part;
  }

  /** 8216bis §6.2.5.2: a request more than two segments past the last one is answered 400 at once. */
  tooFar(msn: number): boolean {
    const last = this.timeline.last;
    return last !== undefined && msn > last.msn + 2;
  }

  stats(tier: number): TierStats {
    const t = this.tiers[tier] ?? { name: '?', bitrate: 0 };
    const done = this.timeline.listed().filter((s): s is Segment & { duration: number } => s.duration !== undefined && s.duration > 0);
    let peak: number | undefined;
    let bytes = 0;
    let secs = 0;
    for (const s of done) {
      const len = s.full?.[tier]?.length ?? 0;
      // Short segments (cut by a discontinuity) overstate the rate of their ID3 overhead: peaks use full ones.
      if (s.parts.length === this.layout.partsPerSegment) peak = Math.max(peak ?? 0, Math.ceil((len * 8) / s.duration));
      bytes += len;
      secs += s.duration;
    }
    return { name: t.name, bitrate: t.bitrate, peakBps: peak, averageBps: secs > 0 ? Math.round((bytes * 8) / secs) : undefined };
  }

  get breaks(): { readonly count: number; readonly last: string | undefined } {
    return { count: this.#breaks, last: this.#lastBreak };
  }

  #cached(key: number, render: () => string): Rendered {
    const hit = this.#cache.get(key);
    if (hit && hit.version === this.#version) return hit.r;
    const r = rendered(render());
    this.#cache.set(key, { version: this.#version, r });
    return r;
  }

  close(): void {
    this.waiters.close();
  }
}
