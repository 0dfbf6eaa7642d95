// Pure units of the HLS packager: ID3 tags, frame layout, tier alignment and discontinuities,
// playlists parsed back and checked against the RFC 8216 rules. (ADTS headers: codec.test.ts.)
import { describe, expect, it } from 'vitest';
import { Aligner, type AlignedFrame } from '../../src/hls/aligner.js';
import { buildId3, readId3 } from '../../src/hls/id3.js';
import { layoutFor } from '../../src/hls/layout.js';
import { renderMaster, renderMedia } from '../../src/hls/playlist.js';
import { Timeline } from '../../src/hls/timeline.js';
import type { EncodedChunk } from '../../src/types/contracts.js';
import { adtsFrame } from '../helpers/audio-bytes.js';
import { masterViolations, mediaViolations, parseMaster, parseMedia } from '../helpers/hls-playlist.js';

/** An encoder's chunk of whole ADTS frames, with the frame ends the encoder's framer reports. */
function chunk(frames: Buffer[], generation = 1, title = 'T'): EncodedChunk {
  let end = 0;
  return {
    data: Buffer.concat(frames),
    frames: frames.length,
    samples: frames.length * 1024,
    frameEnds: frames.map((f) => (end += f.length)),
    oggHeader: false,
    generation,
    meta: { title, tier: 'primary', seq: 1 },
  };
}

describe('ID3', () => {
  it('writes the PRIV transport-stream timestamp (33 bits) and a UTF-8 TIT2', () => {
    const tag = buildId3(2 ** 33 + 90_000, 'Café – Ölé');
    expect(tag.toString('latin1', 0, 3)).toBe('ID3');
    expect(tag.toString('latin1').includes('com.apple.streaming.transportStreamTimestamp\0')).toBe(true);
    expect(readId3(tag)).toEqual({ pts90k: 90_000, title: 'Café – Ölé', length: tag.length });
  });
});

describe('layout', () => {
  it('cuts parts and segments at whole AAC frames with a valid TARGETDURATION', () => {
    const l = layoutFor(4, 1, 44_100);
    expect(l).toMatchObject({ partFrames: 43, partsPerSegment: 4, segmentFrames: 172, targetDuration: 4 });
    expect(l.partDuration).toBeLessThanOrEqual(l.partTarget);
    // 8216bis: PART-HOLD-BACK MUST be ≥ 2 × PART-TARGET (we use the minimum: see layout.ts).
    expect(l.partHoldBack).toBeGreaterThanOrEqual(2 * l.partTarget);
    expect(l.partHoldBack).toBeLessThan(2 * l.partTarget + 1e-4);
    // 6 s requested with 1 s parts: 6 parts of 43 frames = 5.99 s, target 6 (RFC rounding, not ceil).
    expect(layoutFor(6, 1, 44_100).targetDuration).toBe(6);
    expect(Math.round(layoutFor(2.4, 0.5, 44_100).segmentDuration)).toBeLessThanOrEqual(layoutFor(2.4, 0.5, 44_100).targetDuration);
  });
});

function harness(tiers = 3) {
  const layout = layoutFor(1, 0.25, 44_100); // 11 frames a part, 4 parts a segment
  let now = 1_700_000_000_000;
  const opened: number[] = [];
  const broken: string[] = [];
  const timeline = new Timeline({
    tiers,
    layout,
    windowSegments: 6,
    firstMsn: 100,
    firstDisc: 7,
    now: () => now,
    onSegmentOpened: (msn) => opened.push(msn),
    onPublished: () => undefined,
    onBroken: (r) => broken.push(r),
  });
  const cuts: number[][] = [];
  const sink = {
    epoch: (n: number) => timeline.epoch(n),
    part: (frames: readonly (readonly AlignedFrame[])[], final: boolean) => {
      cuts.push(frames.map((f) => f.length));
      timeline.part(frames, final);
    },
    broken: (r: string) => timeline.broken(r),
  };
  const aligner = new Aligner(tiers, layout.partFrames, 2 * layout.segmentFrames, sink);
  return { layout, timeline, aligner, cuts, opened, broken, advance: (ms: number) => (now += ms) };
}

describe('aligner + timeline', () => {
  it('cuts frames where the encoder says they end, each with its title, and reads the sample rate once', () => {
    const parts: (readonly (readonly AlignedFrame[])[])[] = [];
    const aligner = new Aligner(1, 3, 100, { epoch: () => undefined, part: (f) => parts.push(f), broken: () => undefined });
    expect(aligner.sampleRate(0)).toBeUndefined();
    aligner.push(0, chunk([adtsFrame(50, 1), adtsFrame(70, 2)]));
    aligner.push(0, chunk([adtsFrame(90, 3)], 1, 'U'));
    expect(parts).toHaveLength(1);
    expect(parts[0]?.[0]?.map((f) => [f.data.length, f.data[10], f.title])).toEqual([
      [50, 1, 'T'],
      [70, 2, 'T'],
      [90, 3, 'U'],
    ]);
    expect(aligner.sampleRate(0)).toBe(44100);
  });

  it('cuts every tier at the same frame whatever the chunking, and lines tiers up by arrival at start', () => {
    const h = harness();
    // Tier 0 started earlier (a shared encoder): 5 frames nobody else has yet are dropped at sync.
    h.aligner.push(0, chunk(Array.from({ length: 5 }, () => adtsFrame(50))));
    for (let i = 0; i < 200; i++) {
      for (let t = 0; t < 3; t++) h.aligner.push(t, chunk(Array.from({ length: 1 + ((i + t) % 3) }, () => adtsFrame(60 + t * 20))));
      h.advance(50);
    }
    expect(h.cuts.length).toBeGreaterThan(20);
    for (const c of h.cuts) expect(new Set(c).size).toBe(1);
    expect(h.cuts.every((c) => c[0] === h.layout.partFrames)).toBe(true);
    const listed = h.timeline.listed();
    expect(listed[0]?.msn).toBe(h.opened.find((m) => m === listed[0]?.msn));
    for (const s of listed.filter((x) => x.full)) {
      // Same frame count in every tier: payload sizes differ only by the per-tier frame size.
      const counts = (s.full ?? []).map((b, t) => (b.length - s.parts.length * (readId3(b)?.length ?? 0)) / (60 + t * 20));
      expect(new Set(counts).size).toBe(1);
    }
  });

  it('an encoder restart ends the segment early and starts a new discontinuity sequence', () => {
    const h = harness(2);
    const feed = (gen: number, n: number): void => {
      for (let i = 0; i < n; i++) {
        h.aligner.push(0, chunk([adtsFrame(40)], 1));
        h.aligner.push(1, chunk([adtsFrame(40)], gen));
      }
    };
    feed(1, 50); // 4 parts + 6 frames: segment 100 complete, 101 open with 6 frames pending
    feed(2, 60);
    expect(h.broken).toHaveLength(1);
    const media = parseMedia(
      renderMedia({
        layout: h.layout,
        segments: h.timeline.listed(),
        partWindowSeconds: 3,
        preloadHint: h.timeline.next,
        renditionReports: [],
      }),
    );
    expect(media.mediaSequence).toBe(100);
    expect(media.discontinuitySequence).toBe(7);
    const firstAfter = media.segments.find((s) => s.discontinuity);
    expect(firstAfter?.disc).toBe(8);
    expect(media.segments.find((s) => s.msn === 101)?.duration).toBeLessThan(h.layout.segmentDuration);
  });

  it('keeps the window, frees segments after their grace period, and bounds memory', () => {
    const h = harness(1);
    for (let i = 0; i < 44 * 60; i++) {
      h.aligner.push(0, chunk([adtsFrame(100)]));
      h.advance(1000 / 43);
    }
    const listed = h.timeline.listed();
    expect(listed.filter((s) => s.duration !== undefined)).toHaveLength(6);
    // Grace = segment duration + playlist duration ≈ 7 s of 1 s segments beyond the 6 listed (+ the open one).
    expect(h.timeline.segmentsHeld).toBeLessThanOrEqual(6 + 1 + 8);
    expect(h.timeline.bytesHeld).toBeLessThan(15 * 2 * 44 * 100 + 20_000);
  });
});

describe('playlists', () => {
  it('master and media playlists meet RFC 8216 rules', () => {
    const h = harness(1);
    for (let i = 0; i < 44 * 10; i++) {
      h.aligner.push(0, chunk([adtsFrame(100)]));
      h.advance(1000 / 43);
    }
    const media = parseMedia(
      renderMedia({
        layout: h.layout,
        segments: h.timeline.listed(),
        partWindowSeconds: 3,
        preloadHint: h.timeline.next,
        renditionReports: ['../b/index.m3u8'],
      }),
    );
    expect(mediaViolations(media, { minSegments: 6 })).toEqual([]);
    expect(media.renditionReports[0]).toMatchObject({ URI: '../b/index.m3u8' });
    const master = parseMaster(renderMaster([{ uri: 'a/index.m3u8', bandwidth: 80_000, averageBandwidth: 70_000 }]));
    expect(masterViolations(master)).toEqual([]);
  });
});
