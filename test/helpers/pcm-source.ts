// A studio source the benchmark controls to the sample: Node generates PCM (a sine whose frequency or
// silence can be switched at an exact, time-stamped sample) and writes it in real time into a real
// ffmpeg that encodes MP3 and streams it to the server as an Icecast source (PUT).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export interface PcmSource {
  readonly proc: ChildProcessWithoutNullStreams;
  /** Switches the tone at the next block; resolves with the monotonic time that block was written. */
  setTone(freq: number | null): Promise<number>;
  /** Time the first block was written. */
  readonly startedAt: Promise<number>;
  pause(): void;
  resume(): void;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

const RATE = 44_100;
const BLOCK_MS = 20;

/** Copies `pcm` from `offset` into `buf`, wrapping round at its end; returns the next offset. */
function fillFrom(pcm: Buffer, offset: number, buf: Buffer): number {
  let at = offset;
  for (let o = 0; o < buf.length;) {
    if (at + 4 > pcm.length) at = 0;
    const c = pcm.copy(buf, o, at, Math.min(pcm.length - (pcm.length % 4), at + buf.length - o));
    o += c;
    at += c;
  }
  return at;
}

/**
 * `freq` is a tone, or a programme to loop (s16le stereo 44.1 kHz PCM, e.g. music: what an encoder costs
 * depends on what it encodes). `speed` > 1 plays a source whose clock runs fast (1.001 = +0.1 %):
 * blocks are written that much sooner.
 */
export function startPcmSource(ffmpeg: string, url: string, freq: number | { programme: Buffer }, speed = 1): PcmSource {
  const proc = spawn(
    ffmpeg,
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      's16le',
      '-ar',
      String(RATE),
      '-ac',
      '2',
      '-i',
      'pipe:0',
      '-c:a',
      'libmp3lame',
      '-b:a',
      '128k',
      '-flush_packets',
      '1',
      '-content_type',
      'audio/mpeg',
      '-f',
      'mp3',
      url,
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  proc.stdin.on('error', () => undefined);
  proc.stderr.resume();
  proc.stdout.resume();
  const programme = typeof freq === 'number' ? undefined : freq.programme;
  let tone: number | null = typeof freq === 'number' ? freq : null;
  let phase = 0;
  let offset = 0;
  let pending: ((t: number) => void)[] = [];
  let resolveStart: (t: number) => void = () => undefined;
  const startedAt = new Promise<number>((r) => (resolveStart = r));
  const t0 = performance.now();
  let blocks = 0;
  const n = (RATE * BLOCK_MS) / 1000;
  const exited = new Promise<void>((r) => proc.once('close', () => r()));
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) * speed) / BLOCK_MS) - blocks;
    for (let b = 0; b < due; b++) {
      const buf = Buffer.alloc(n * 4);
      // A programme loops; setTone(f) plays a tone instead from then on, and setTone(null) goes back to it.
      if (programme && tone === null) offset = fillFrom(programme, offset, buf);
      else
        for (let i = 0; i < n; i++) {
          const v = tone === null ? 0 : Math.round(0.5 * 32767 * Math.sin(phase));
          if (tone !== null) phase += (2 * Math.PI * tone) / RATE;
          buf.writeInt16LE(v, i * 4);
          buf.writeInt16LE(v, i * 4 + 2);
        }
      phase %= 2 * Math.PI;
      const now = performance.now();
      if (blocks === 0) resolveStart(now);
      for (const p of pending) p(now);
      pending = [];
      if (!proc.stdin.destroyed) proc.stdin.write(buf);
      blocks++;
    }
  }, 5);
  const alive = (): boolean => proc.exitCode === null && proc.signalCode === null;
  return {
    proc,
    startedAt,
    setTone: (f) =>
      new Promise((r) => {
        tone = f;
        pending.push(r);
      }),
    pause: () => void (alive() && proc.kill('SIGSTOP')),
    resume: () => void (alive() && proc.kill('SIGCONT')),
    kill: async () => {
      clearInterval(timer);
      if (alive()) proc.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      clearInterval(timer);
      if (alive()) {
        proc.kill('SIGCONT');
        proc.stdin.end();
      }
      await exited;
    },
  };
}
