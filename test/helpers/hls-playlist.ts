// A small but real M3U8 parser for the tests, and the RFC 8216 / 8216bis rules Antenna's playlists must
// meet, checked on parsed structure rather than string snapshots. Returns the broken rules as text.

export type Attrs = Record<string, string>;

export interface ParsedPart {
  readonly duration: number;
  readonly uri: string;
  readonly independent: boolean;
}

export interface ParsedSegment {
  readonly msn: number;
  readonly disc: number;
  readonly duration: number;
  readonly uri: string;
  readonly pdt: number | undefined;
  readonly discontinuity: boolean;
  readonly parts: readonly ParsedPart[];
}

export interface ParsedMedia {
  readonly version: number | undefined;
  readonly targetDuration: number;
  readonly mediaSequence: number;
  readonly discontinuitySequence: number;
  readonly independentSegments: boolean;
  readonly serverControl: Attrs | undefined;
  readonly partTarget: number | undefined;
  readonly segments: readonly ParsedSegment[];
  /** Parts listed after the last EXTINF: the segment being filled. */
  readonly openParts: readonly ParsedPart[];
  readonly openPdt: number | undefined;
  readonly preloadHint: Attrs | undefined;
  readonly renditionReports: readonly Attrs[];
  readonly tags: readonly string[];
}

export interface ParsedVariant {
  readonly attrs: Attrs;
  readonly uri: string;
}

/** Parses an attribute list (RFC 8216 §4.2): quoted strings may hold commas. */
export function parseAttrs(s: string): Attrs {
  const out: Attrs = {};
  const re = /([A-Z0-9-]+)=("[^"]*"|[^,]*)(?:,|$)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    const [, k, v] = m;
    if (k !== undefined && v !== undefined) out[k] = v.startsWith('"') ? v.slice(1, -1) : v;
    if (m[0] === '') break;
  }
  return out;
}

function lines(text: string): string[] {
  const ls = text.split('\n').map((l) => l.trim());
  if (ls[0] !== '#EXTM3U') throw new Error('playlist does not start with #EXTM3U');
  return ls.filter((l) => l !== '');
}

function tagValue(line: string): string {
  const i = line.indexOf(':');
  return i < 0 ? '' : line.slice(i + 1);
}

export function parseMaster(text: string): { version: number | undefined; variants: ParsedVariant[]; tags: string[] } {
  const ls = lines(text);
  const variants: ParsedVariant[] = [];
  const tags: string[] = [];
  let version: number | undefined;
  for (let i = 1; i < ls.length; i++) {
    const l = ls[i] ?? '';
    if (l.startsWith('#')) tags.push(l.split(':')[0] ?? l);
    if (l.startsWith('#EXT-X-VERSION:')) version = Number(tagValue(l));
    if (l.startsWith('#EXT-X-STREAM-INF:')) {
      const uri = ls[++i] ?? '';
      if (uri.startsWith('#')) throw new Error('EXT-X-STREAM-INF not followed by a URI');
      variants.push({ attrs: parseAttrs(tagValue(l)), uri });
    }
  }
  return { version, variants, tags };
}

export function parseMedia(text: string): ParsedMedia {
  const ls = lines(text);
  let version: number | undefined;
  let target = NaN;
  let msn0 = 0;
  let disc0 = 0;
  let independent = false;
  let serverControl: Attrs | undefined;
  let partTarget: number | undefined;
  let preloadHint: Attrs | undefined;
  const reports: Attrs[] = [];
  const segments: ParsedSegment[] = [];
  const tags: string[] = [];
  let parts: ParsedPart[] = [];
  let pdt: number | undefined;
  let discontinuity = false;
  let extinf: number | undefined;
  let discCount = 0;
  for (const l of ls.slice(1)) {
    if (!l.startsWith('#')) {
      if (extinf === undefined) throw new Error(`URI ${l} without EXTINF`);
      if (discontinuity) discCount++;
      segments.push({ msn: msn0 + segments.length, disc: disc0 + discCount, duration: extinf, uri: l, pdt, discontinuity, parts });
      parts = [];
      pdt = undefined;
      discontinuity = false;
      extinf = undefined;
      continue;
    }
    const name = l.split(':')[0] ?? l;
    tags.push(name);
    const v = tagValue(l);
    switch (name) {
      case '#EXT-X-VERSION':
        version = Number(v);
        break;
      case '#EXT-X-TARGETDURATION':
        target = Number(v);
        break;
      case '#EXT-X-MEDIA-SEQUENCE':
        msn0 = Number(v);
        break;
      case '#EXT-X-DISCONTINUITY-SEQUENCE':
        disc0 = Number(v);
        break;
      case '#EXT-X-INDEPENDENT-SEGMENTS':
        independent = true;
        break;
      case '#EXT-X-SERVER-CONTROL':
        serverControl = parseAttrs(v);
        break;
      case '#EXT-X-PART-INF':
        partTarget = Number(parseAttrs(v)['PART-TARGET']);
        break;
      case '#EXT-X-PROGRAM-DATE-TIME':
        pdt = Date.parse(v);
        break;
      case '#EXT-X-DISCONTINUITY':
        discontinuity = true;
        break;
      case '#EXTINF':
        extinf = Number(v.split(',')[0]);
        break;
      case '#EXT-X-PART': {
        const a = parseAttrs(v);
        parts.push({ duration: Number(a.DURATION), uri: a.URI ?? '', independent: a.INDEPENDENT === 'YES' });
        break;
      }
      case '#EXT-X-PRELOAD-HINT':
        preloadHint = parseAttrs(v);
        break;
      case '#EXT-X-RENDITION-REPORT':
        reports.push(parseAttrs(v));
        break;
      default:
        break;
    }
  }
  return {
    version,
    targetDuration: target,
    mediaSequence: msn0,
    discontinuitySequence: disc0,
    independentSegments: independent,
    serverControl,
    partTarget,
    segments,
    openParts: parts,
    openPdt: pdt,
    preloadHint,
    renditionReports: reports,
    tags,
  };
}

const count = (tags: readonly string[], name: string): number => tags.filter((t) => t === name).length;

/** The rules of RFC 8216 (and 8216bis for LL-HLS) that apply to our live audio playlists. */
export function mediaViolations(p: ParsedMedia, opts: { minSegments: number }): string[] {
  const v: string[] = [];
  for (const t of [
    '#EXT-X-VERSION',
    '#EXT-X-TARGETDURATION',
    '#EXT-X-MEDIA-SEQUENCE',
    '#EXT-X-DISCONTINUITY-SEQUENCE',
    '#EXT-X-SERVER-CONTROL',
    '#EXT-X-PART-INF',
  ]) {
    if (count(p.tags, t) !== 1) v.push(`${t} must appear exactly once (found ${count(p.tags, t)})`);
  }
  if (!Number.isInteger(p.targetDuration) || p.targetDuration < 1) v.push(`TARGETDURATION ${p.targetDuration} is not a positive integer`);
  const fractional = p.segments.some((s) => !Number.isInteger(s.duration));
  const needed = fractional ? 3 : 1; // §7: floating-point EXTINF needs 3; nothing else we write needs more
  if (p.version !== needed) v.push(`EXT-X-VERSION ${String(p.version)} is not the lowest the tags allow (${needed})`);
  if (!p.independentSegments) v.push('EXT-X-INDEPENDENT-SEGMENTS missing');
  if (p.segments.length < opts.minSegments) v.push(`${p.segments.length} segments listed, want ≥ ${opts.minSegments}`);
  const total = p.segments.reduce((a, s) => a + s.duration, 0);
  if (p.segments.length >= opts.minSegments && total < 3 * p.targetDuration) v.push(`playlist holds ${total}s < 3 target durations`);
  const uris = new Set<string>();
  for (const s of p.segments) {
    if (Math.round(s.duration) > p.targetDuration)
      v.push(`segment ${s.msn}: EXTINF ${s.duration} rounds above TARGETDURATION ${p.targetDuration}`);
    if (s.pdt === undefined || Number.isNaN(s.pdt)) v.push(`segment ${s.msn} has no EXT-X-PROGRAM-DATE-TIME`);
    if (uris.has(s.uri)) v.push(`segment URI ${s.uri} listed twice`);
    uris.add(s.uri);
    if (s.parts.length > 0) {
      const sum = s.parts.reduce((a, x) => a + x.duration, 0);
      if (Math.abs(sum - s.duration) > 1e-3) v.push(`segment ${s.msn}: parts sum to ${sum}, EXTINF says ${s.duration}`);
    }
  }
  for (let i = 1; i < p.segments.length; i++) {
    const a = p.segments[i - 1];
    const b = p.segments[i];
    if (a && b && !b.discontinuity && a.pdt !== undefined && b.pdt !== undefined && Math.abs(a.pdt + a.duration * 1000 - b.pdt) > 2) {
      v.push(`segment ${b.msn}: PROGRAM-DATE-TIME does not follow segment ${a.msn} without a discontinuity`);
    }
  }
  const sc = p.serverControl ?? {};
  if (sc['CAN-BLOCK-RELOAD'] !== 'YES') v.push('SERVER-CONTROL lacks CAN-BLOCK-RELOAD=YES');
  const pt = p.partTarget ?? NaN;
  const phb = Number(sc['PART-HOLD-BACK']);
  if (!(phb >= 2 * pt)) v.push(`PART-HOLD-BACK ${phb} < 2 × PART-TARGET ${pt}`);
  const allParts = [...p.segments.flatMap((s) => s.parts), ...p.openParts];
  for (const part of allParts) {
    if (part.duration > pt) v.push(`part ${part.uri} lasts ${part.duration} > PART-TARGET ${pt}`);
    if (!part.independent) v.push(`part ${part.uri} is not INDEPENDENT=YES`);
  }
  if (allParts.length === 0) v.push('no EXT-X-PART listed');
  if (p.preloadHint?.TYPE !== 'PART' || !p.preloadHint.URI) v.push('EXT-X-PRELOAD-HINT:TYPE=PART missing');
  return v;
}

export function masterViolations(m: ReturnType<typeof parseMaster>): string[] {
  const v: string[] = [];
  if (m.variants.length === 0) v.push('no variants');
  if (m.version !== undefined && m.version > 1) v.push(`master EXT-X-VERSION ${m.version} is higher than its tags need`);
  for (const x of m.variants) {
    const bw = Number(x.attrs.BANDWIDTH);
    const avg = Number(x.attrs['AVERAGE-BANDWIDTH']);
    if (!(bw > 0)) v.push(`${x.uri}: BANDWIDTH missing`);
    if (!(avg > 0)) v.push(`${x.uri}: AVERAGE-BANDWIDTH missing`);
    if (avg > bw) v.push(`${x.uri}: AVERAGE-BANDWIDTH ${avg} above peak BANDWIDTH ${bw}`);
    if (x.attrs.CODECS !== 'mp4a.40.2') v.push(`${x.uri}: CODECS ${String(x.attrs.CODECS)} is not mp4a.40.2`);
  }
  return v;
}
