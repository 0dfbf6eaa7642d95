// An HLS client for the benchmark that tunes in the way hls.js does and records when each piece of
// audio would be heard: LL (PART-HOLD-BACK behind the edge of the playlist it first loads, then
// blocking reloads and parts) or plain (3 target durations behind the last complete segment, a reload
// per target duration). Fetched audio goes (ID3 stripped) into an ffmpeg AAC decoder; playback is
// modelled as a clock that starts when the first piece arrives and pauses whenever the next piece is late.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

const RATE = 44_100;
const MAX_PCM_BYTES = 64 * 1024 * 1024;

interface Item {
  readonly msn: number;
  readonly part: number | undefined;
  readonly uri: string;
  readonly duration: number;
}

interface Playlist {
  readonly target: number;
  readonly partHoldBack: number;
  /** Complete segments and (for LL) listed parts, in playlist order. */
  readonly segments: Item[];
  readonly parts: Item[];
}

function parse(text: string): Playlist {
  let target = 0;
  let phb = 0;
  let msn = 0;
  const segments: Item[] = [];
  const parts: Item[] = [];
  let partIdx = 0;
  let extinf = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXT-X-TARGETDURATION:')) target = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-SERVER-CONTROL:')) phb = Number(/PART-HOLD-BACK=([\d.]+)/.exec(line)?.[1] ?? 0);
    else if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) msn = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-PART:')) {
      const uri = /URI="([^"]+)"/.exec(line)?.[1] ?? '';
      const m = /^(\d+)\.(\d+)\.aac$/.exec(uri);
      if (m && Number(m[1]) !== msn) [msn, partIdx] = [Number(m[1]), 0];
      parts.push({ msn, part: partIdx++, uri, duration: Number(/DURATION=([\d.]+)/.exec(line)?.[1] ?? 0) });
    } else if (line.startsWith('#EXTINF:')) extinf = Number(line.slice(8).split(',')[0]);
    else if (line !== '' && !line.startsWith('#')) {
      segments.push({ msn, part: undefined, uri: line, duration: extinf });
      msn++;
      partIdx = 0;
    }
  }
  return { target, partHoldBack: phb, segments, parts };
}

/** A fetched piece: media seconds [from, to) counted from the first fetched piece's start, arrival time. */
interface Piece {
  readonly from: number;
  readonly to: number;
  readonly at: number;
}

export interface HlsClient {
  readonly mode: 'll' | 'plain';
  /** Decoded s16le stereo PCM from the first fetched piece's start. */
  pcm(): Buffer;
  /** Media seconds (same origin as pcm()) where playback starts, undefined before the first piece. */
  readonly startPos: number | undefined;
  /** Wall time (performance.now()) at which media position `pos` is heard, or undefined if not yet fetched. */
  heardAt(pos: number): number | undefined;
  /** Seconds of stalls so far (playback waiting for a late piece). */
  stalledSeconds(): number;
  readonly requests: number;
  readonly errors: string[];
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Strips the leading ID3v2 tag each part/segment starts with (the decoder wants bare ADTS). */
function stripId3(b: Buffer): Buffer {
  if (b.length < 10 || b.toString('latin1', 0, 3) !== 'ID3') return b;
  const size = ((b[6] ?? 0) << 21) | ((b[7] ?? 0) << 14) | ((b[8] ?? 0) << 7) | (b[9] ?? 0);
  return b.subarray(10 + size);
}

export function startHlsClient(opts: { ffmpeg: string; base: string; tier: string; mode: 'll' | 'plain'; decode?: boolean }): HlsClient {
  const decode = opts.decode !== false;
  let dec: ChildProcessWithoutNullStreams | undefined;
  const chunks: Buffer[] = [];
  let pcmBytes = 0;
  if (decode) {
    dec = spawn(opts.ffmpeg, [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'aac',
      '-i',
      'pipe:0',
      '-f',
      's16le',
      '-ac',
      '2',
      '-ar',
      String(RATE),
      'pipe:1',
    ]);
    dec.stdin.on('error', () => undefined);
    dec.stderr.resume();
    dec.stdout.on('data', (d: Buffer) => {
      if (pcmBytes + d.length > MAX_PCM_BYTES) return;
      chunks.push(d);
      pcmBytes += d.length;
    });
  }
  const pieces: Piece[] = [];
  const errors: string[] = [];
  let startPos: number | undefined;
  let requests = 0;
  let stopped = false;
  const ac = new AbortController();
  const url = (path: string): string => `${opts.base}/hls/${opts.tier}/${path}`;
  const get = async (path: string): Promise<Buffer> => {
    requests++;
    const r = await fetch(url(path), { signal: ac.signal });
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    return Buffer.from(await r.arrayBuffer());
  };
  let mediaEnd = 0;
  const take = (item: Item, body: Buffer): void => {
    pieces.push({ from: mediaEnd, to: mediaEnd + item.duration, at: performance.now() });
    mediaEnd += item.duration;
    if (dec && !dec.stdin.destroyed) dec.stdin.write(stripId3(body));
  };

  const runLl = async (): Promise<void> => {
    const pl = parse((await get('index.m3u8')).toString());
    // hls.js: start = edge − PART-HOLD-BACK, at the part that holds it.
    const edge = pl.parts.reduce((a, p) => a + p.duration, 0);
    let pos = edge - pl.partHoldBack;
    let i = 0;
    let acc = 0;
    for (; i < pl.parts.length - 1 && acc + (pl.parts[i]?.duration ?? 0) <= pos; i++) acc += pl.parts[i]?.duration ?? 0;
    pos -= acc;
    let last: Item | undefined;
    for (const item of pl.parts.slice(i)) {
      take(item, await get(item.uri));
      startPos ??= Math.max(0, pos);
      last = item;
    }
    while (!stopped && last) {
      const complete = (p: Playlist): boolean => p.segments.some((s) => s.msn === last?.msn);
      // The next part (the server answers part n+1 of a closed segment with the next segment's part 0).
      const text = (await get(`index.m3u8?_HLS_msn=${last.msn}&_HLS_part=${(last.part ?? 0) + 1}`)).toString();
      const p = parse(text);
      const at = p.parts.findIndex((x) => x.msn === last?.msn && x.part === last.part);
      const next = at >= 0 ? p.parts.slice(at + 1) : complete(p) ? p.parts.filter((x) => x.msn > (last?.msn ?? 0)) : [];
      for (const item of next) {
        take(item, await get(item.uri));
        last = item;
      }
    }
  };

  const runPlain = async (): Promise<void> => {
    const pl = parse((await get('index.m3u8')).toString());
    const edge = pl.segments.reduce((a, s) => a + s.duration, 0);
    let pos = edge - 3 * pl.target;
    let i = 0;
    let acc = 0;
    for (; i < pl.segments.length - 1 && acc + (pl.segments[i]?.duration ?? 0) <= pos; i++) acc += pl.segments[i]?.duration ?? 0;
    pos -= acc;
    let lastMsn = -1;
    for (const s of pl.segments.slice(i)) {
      take(s, await get(s.uri));
      startPos ??= Math.max(0, pos);
      lastMsn = s.msn;
    }
    while (!stopped) {
      await sleep(pl.target * 1000);
      if (stopped) break;
      const p = parse((await get('index.m3u8')).toString());
      for (const s of p.segments.filter((x) => x.msn > lastMsn)) {
        take(s, await get(s.uri));
        lastMsn = s.msn;
      }
    }
  };

  const loop = (opts.mode === 'll' ? runLl() : runPlain()).catch((e: unknown) => {
    if (!stopped) errors.push(String(e));
  });

  /** Playout with stalls: media position q plays at max over fetched pieces of (arrival + distance into them). */
  const heardAt = (q: number): number | undefined => {
    if (startPos === undefined || pieces.length === 0 || q < startPos) return undefined;
    const first = pieces[0] as Piece;
    let t = first.at + (q - startPos) * 1000;
    for (const p of pieces) {
      if (p.from > q) break;
      t = Math.max(t, p.at + (q - Math.max(p.from, startPos)) * 1000);
    }
    return pieces.at(-1)!.to > q ? t : undefined;
  };

  return {
    mode: opts.mode,
    pcm: () => Buffer.concat(chunks),
    get startPos() {
      return startPos;
    },
    heardAt,
    stalledSeconds: () => {
      const end = pieces.at(-1);
      if (!end || startPos === undefined) return 0;
      const q = end.to - 0.001;
      const t = heardAt(q) ?? 0;
      return Math.max(0, (t - ((pieces[0] as Piece).at + (q - startPos) * 1000)) / 1000);
    },
    get requests() {
      return requests;
    },
    errors,
    close: async () => {
      stopped = true;
      ac.abort();
      await loop;
      if (dec) {
        dec.stdin.end();
        const d = dec;
        const t = setTimeout(() => d.kill('SIGKILL'), 3000);
        if (d.exitCode === null) await new Promise((r) => d.once('close', r));
        clearTimeout(t);
      }
    },
  };
}
