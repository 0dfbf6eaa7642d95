// Test listeners: a raw-socket HTTP listener that records every byte with its arrival time and can
// strip ICY metadata (recording each title with its audio offset), and ffmpeg-based decoding of what
// a listener received, or of a URL, to check codec / sample rate / bitrate and get PCM.
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { resolveFfmpegPath } from '../../src/ffmpeg/path.js';

export interface IcyTitle {
  /** Audio bytes received before this block (its position in the stream). */
  readonly offset: number;
  readonly title: string;
  readonly raw: Buffer;
}

export interface RawListener {
  /** Resolves with the status line and headers (lower-case names; repeated ones joined with ", "). */
  readonly head: Promise<{ statusLine: string; status: number; headers: Record<string, string>; rawHead: string }>;
  /** Audio bytes received, ICY blocks removed. */
  readonly audio: Buffer[];
  /** [time (performance.now()), audio bytes so far] per socket read. */
  readonly arrivals: [number, number][];
  readonly titles: IcyTitle[];
  readonly closed: Promise<void>;
  readonly socket: Socket;
  audioBytes(): number;
  audioBuffer(): Buffer;
  /** Resolves once at least `n` audio bytes arrived (rejects on close or after timeoutMs). */
  waitForBytes(n: number, timeoutMs?: number): Promise<void>;
  waitForTitle(title: string, timeoutMs?: number): Promise<IcyTitle>;
  close(): void;
}

export interface ListenOptions {
  readonly method?: string;
  readonly icy?: boolean;
  readonly headers?: Record<string, string>;
  readonly httpVersion?: '1.0' | '1.1';
}

/** A listener on a raw socket: sees exactly the bytes a player gets, never decodes chunked framing. */
export function listen(port: number, path: string, opts: ListenOptions = {}): RawListener {
  const socket = connect({ host: '127.0.0.1', port });
  const lines = [
    `${opts.method ?? 'GET'} ${path} HTTP/${opts.httpVersion ?? '1.0'}`,
    'Host: 127.0.0.1',
    'User-Agent: AntennaTestListener/1.0',
  ];
  if (opts.icy) lines.push('Icy-MetaData: 1');
  for (const [k, v] of Object.entries(opts.headers ?? {})) lines.push(`${k}: ${v}`);
  socket.write(lines.join('\r\n') + '\r\n\r\n');

  const audio: Buffer[] = [];
  const arrivals: [number, number][] = [];
  const titles: IcyTitle[] = [];
  let total = 0;
  let headBuf: Buffer | undefined = Buffer.alloc(0);
  let metaint = 0;
  let untilMeta = 0;
  let metaLeft = -1; // -1: reading audio; >= 0: bytes of the current block still to read
  let metaParts: Buffer[] = [];
  const waiters = new Set<() => void>();
  let resolveHead!: (h: Awaited<RawListener['head']>) => void;
  let rejectHead!: (e: Error) => void;
  const head = new Promise<Awaited<RawListener['head']>>((res, rej) => {
    resolveHead = res;
    rejectHead = rej;
  });
  head.catch(() => undefined);

  const onAudio = (b: Buffer): void => {
    if (b.length === 0) return;
    audio.push(b);
    total += b.length;
  };
  const onBody = (b: Buffer): void => {
    if (metaint === 0) return onAudio(b);
    let i = 0;
    while (i < b.length) {
      if (metaLeft === -1) {
        const n = Math.min(untilMeta, b.length - i);
        onAudio(b.subarray(i, i + n));
        i += n;
        untilMeta -= n;
        if (untilMeta === 0) metaLeft = -2; // the next byte is the block length / 16
      } else if (metaLeft === -2) {
        metaLeft = (b[i] as number) * 16;
        i++;
        metaParts = [];
        if (metaLeft === 0) {
          metaLeft = -1;
          untilMeta = metaint;
        }
      } else {
        const n = Math.min(metaLeft, b.length - i);
        metaParts.push(b.subarray(i, i + n));
        i += n;
        metaLeft -= n;
        if (metaLeft === 0) {
          const raw = Buffer.concat(metaParts);
          const text = raw.toString('utf8').replace(/\0+$/, '');
          const m = /StreamTitle='(.*?)';/s.exec(text);
          titles.push({ offset: total, title: m ? (m[1] as string) : '', raw });
          metaLeft = -1;
          untilMeta = metaint;
        }
      }
    }
  };

  socket.on('data', (b: Buffer) => {
    if (headBuf) {
      headBuf = Buffer.concat([headBuf, b]);
      const end = headBuf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const rawHead = headBuf.subarray(0, end).toString('utf8');
      const rest = headBuf.subarray(end + 4);
      headBuf = undefined;
      const [statusLine = '', ...hs] = rawHead.split('\r\n');
      const headers: Record<string, string> = {};
      for (const h of hs) {
        const c = h.indexOf(':');
        const k = h.slice(0, c).trim().toLowerCase();
        const v = h.slice(c + 1).trim();
        headers[k] = headers[k] !== undefined ? `${headers[k]}, ${v}` : v;
      }
      metaint = opts.icy && headers['icy-metaint'] ? Number(headers['icy-metaint']) : 0;
      untilMeta = metaint;
      resolveHead({ statusLine, status: Number(statusLine.split(' ')[1]), headers, rawHead });
      b = rest;
    }
    onBody(b);
    arrivals.push([performance.now(), total]);
    for (const w of waiters) w();
  });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((res) => socket.once('close', () => res()));
  void closed.then(() => {
    rejectHead(new Error('closed before the response head'));
    for (const w of waiters) w();
  });

  const waitFor = <T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const done = (): void => {
        const v = check();
        if (v !== undefined) {
          cleanup();
          resolve(v);
        } else if (socket.destroyed) {
          cleanup();
          reject(new Error(`listener closed while waiting for ${what} (got ${total} bytes)`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what} (got ${total} bytes)`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
      };
      waiters.add(done);
      done();
    });

  return {
    head,
    audio,
    arrivals,
    titles,
    closed,
    socket,
    audioBytes: () => total,
    audioBuffer: () => Buffer.concat(audio),
    waitForBytes: (n, timeoutMs = 15_000) => waitFor(() => (total >= n ? true : undefined), timeoutMs, `${n} bytes`).then(() => undefined),
    waitForTitle: (title, timeoutMs = 15_000) => waitFor(() => titles.find((t) => t.title === title), timeoutMs, `title ${title}`),
    close: () => socket.destroy(),
  };
}

export interface StreamInfo {
  readonly codec: string | undefined;
  readonly sampleRate: number | undefined;
  readonly channels: string | undefined;
  readonly kbps: number | undefined;
}

/** Parses ffmpeg's `Stream #0:0: Audio: mp3, 44100 Hz, stereo, fltp, 320 kb/s` line (there is no ffprobe). */
export function parseStreamInfo(stderr: string): StreamInfo {
  const m = /Stream #\d+:\d+.*?: Audio: ([^,\s]+)[^,]*, (\d+) Hz, ([^,]+)(?:, [^,]+)?(?:, (\d+) kb\/s)?/.exec(stderr);
  return { codec: m?.[1], sampleRate: m?.[2] ? Number(m[2]) : undefined, channels: m?.[3], kbps: m?.[4] ? Number(m[4]) : undefined };
}

export interface Decoded {
  readonly pcm: Buffer;
  readonly info: StreamInfo;
  readonly stderr: string;
  readonly code: number | null;
}

/** Decodes bytes (as a player would from its first byte) to s16le stereo 44.1 kHz with the embedded ffmpeg. */
export function decode(bytes: Buffer, opts: { format?: string } = {}): Promise<Decoded> {
  const args = [
    '-hide_banner',
    '-nostdin',
    ...(opts.format ? ['-f', opts.format] : []),
    '-i',
    'pipe:0',
    '-f',
    's16le',
    '-ac',
    '2',
    '-ar',
    '44100',
    'pipe:1',
  ];
  return run(args, bytes);
}

/** An ffmpeg player connected to a URL for `seconds`: PCM out, stream info parsed from its log. */
export function decodeUrl(url: string, seconds: number): Promise<Decoded> {
  return run(['-hide_banner', '-nostdin', '-i', url, '-t', String(seconds), '-f', 's16le', '-ac', '2', '-ar', '44100', 'pipe:1']);
}

function run(args: string[], input?: Buffer): Promise<Decoded> {
  return new Promise((resolve, reject) => {
    const p = spawn(resolveFfmpegPath(process.env.FFMPEG_PATH), args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.setEncoding('utf8');
    p.stderr.on('data', (s: string) => {
      if (stderr.length < 200_000) stderr += s;
    });
    p.stdin.on('error', () => undefined);
    p.once('error', reject);
    p.once('close', (code) => resolve({ pcm: Buffer.concat(out), info: parseStreamInfo(stderr), stderr, code }));
    if (input) p.stdin.end(input);
    else p.stdin.end();
  });
}

/** RMS level and dominant frequency estimate (zero crossings) of s16le stereo PCM, left channel. */
export function toneOf(pcm: Buffer): { rms: number; hz: number } {
  const n = Math.floor(pcm.length / 4);
  let sum = 0;
  let crossings = 0;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const v = pcm.readInt16LE(i * 4);
    sum += v * v;
    if (i > 0 && ((prev < 0 && v >= 0) || (prev >= 0 && v < 0))) crossings++;
    prev = v;
  }
  return { rms: n ? Math.sqrt(sum / n) / 32768 : 0, hz: n ? (crossings / 2) * (44100 / n) : 0 };
}
