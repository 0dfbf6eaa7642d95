// Renders the multivariant and media playlists from the timeline: pure functions of their inputs, so
// the tests parse real output and the server renders once per publish, not once per request.
import type { HlsLayout } from './layout.js';

/**
 * EXT-X-VERSION 3: floating-point EXTINF needs it (RFC 8216 §7); nothing else we write needs more.
 * 8216bis §8 (the normative compatibility list) ties no version to EXT-X-SERVER-CONTROL, PART-INF,
 * PART, PRELOAD-HINT or RENDITION-REPORT (only EXT-X-SKIP: 9, with DATERANGE removal 10), and clients
 * MUST ignore tags they do not know, so a version-3 player reads the same playlist as plain HLS.
 * Apple's page listing 10 for those tags contradicts both the draft and Apple's own LL example (6).
 */
export const MEDIA_PLAYLIST_VERSION = 3;
export const AAC_LC_CODECS = 'mp4a.40.2';

export interface VariantView {
  readonly uri: string;
  readonly bandwidth: number;
  readonly averageBandwidth: number;
}

export function renderMaster(variants: readonly VariantView[]): string {
  // No EXT-X-VERSION: no tag here needs more than version 1, which is what its absence means.
  const lines = ['#EXTM3U', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const v of variants) {
    lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${v.bandwidth},AVERAGE-BANDWIDTH=${v.averageBandwidth},CODECS="${AAC_LC_CODECS}"`, v.uri);
  }
  return lines.join('\n') + '\n';
}

export interface PartView {
  readonly duration: number;
}

export interface SegmentView {
  readonly msn: number;
  readonly disc: number;
  readonly pdtMs: number;
  readonly parts: readonly PartView[];
  /** Undefined while the segment is still being filled (only its parts are listed). */
  readonly duration: number | undefined;
}

export interface MediaView {
  readonly layout: HlsLayout;
  /** Listed segments, oldest first; the last may be open. */
  readonly segments: readonly SegmentView[];
  /** Parts are listed only for segments at most this many seconds from the end (8216bis: 3 target durations). */
  readonly partWindowSeconds: number;
  readonly preloadHint: { readonly msn: number; readonly part: number } | undefined;
  /** Other tiers' playlists (relative URIs); they are aligned, so they report our last msn/part. */
  readonly renditionReports: readonly string[];
}

export function segmentUri(msn: number): string {
  return `${msn}.aac`;
}

export function partUri(msn: number, part: number): string {
  return `${msn}.${part}.aac`;
}

function fmt(s: number): string {
  return s.toFixed(5);
}

export function renderMedia(view: MediaView): string {
  const { layout, segments } = view;
  const first = segments[0];
  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${MEDIA_PLAYLIST_VERSION}`,
    `#EXT-X-TARGETDURATION:${layout.targetDuration}`,
    `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${fmt(layout.partHoldBack)}`,
    `#EXT-X-PART-INF:PART-TARGET=${fmt(layout.partTarget)}`,
    `#EXT-X-MEDIA-SEQUENCE:${first?.msn ?? 0}`,
    `#EXT-X-DISCONTINUITY-SEQUENCE:${first?.disc ?? 0}`,
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  // Seconds from each segment's end to the playlist's end decide whether its parts are still listed.
  const ends: number[] = [];
  let tail = 0;
  for (let i = segments.length - 1; i >= 0; i--) {
    ends[i] = tail;
    const s = segments[i];
    if (s) tail += s.duration ?? s.parts.reduce((a, p) => a + p.duration, 0);
  }
  let last: { msn: number; part: number } | undefined;
  segments.forEach((s, i) => {
    if (i > 0 && s.disc !== segments[i - 1]?.disc) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.pdtMs).toISOString()}`);
    if ((ends[i] ?? 0) < view.partWindowSeconds || s.duration === undefined) {
      s.parts.forEach((p, j) => lines.push(`#EXT-X-PART:DURATION=${fmt(p.duration)},URI="${partUri(s.msn, j)}",INDEPENDENT=YES`));
    }
    if (s.duration !== undefined) lines.push(`#EXTINF:${fmt(s.duration)},`, segmentUri(s.msn));
    if (s.parts.length > 0) last = { msn: s.msn, part: s.parts.length - 1 };
  });
  if (view.preloadHint) lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${partUri(view.preloadHint.msn, view.preloadHint.part)}"`);
  if (last) {
    for (const uri of view.renditionReports) lines.push(`#EXT-X-RENDITION-REPORT:URI="${uri}",LAST-MSN=${last.msn},LAST-PART=${last.part}`);
  }
  return lines.join('\n') + '\n';
}
