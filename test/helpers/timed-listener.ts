// A listener that hears like a person with a clock: it reads /listen/<mount> over HTTP, decodes the
// bytes with a real ffmpeg as they arrive, and runs Goertzel on every 40 ms window of the PCM, each
// window stamped with the monotonic time its audio came out of the decoder.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { analyseTones } from './tones.js';

export interface Heard {
  readonly at: number;
  readonly tone: number | null;
  readonly rmsDb: number;
}

export interface BenchListener {
  readonly windows: Heard[];
  /** Whether the HTTP connection closed while we were listening. */
  readonly disconnected: () => boolean;
  readonly bytes: () => number;
  close(): Promise<void>;
}

const WINDOW = 1764; // 40 ms

export function listen(ffmpeg: string, url: string, format: string, tones: readonly number[]): Promise<BenchListener> {
  return new Promise((resolve, reject) => {
    const dec = spawn(
      ffmpeg,
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-fflags',
        '+nobuffer',
        '-probesize',
        '32',
        '-analyzeduration',
        '0',
        '-f',
        format,
        '-i',
        'pipe:0',
        '-ac',
        '2',
        '-ar',
        '44100',
        '-f',
        's16le',
        '-flush_packets',
        '1',
        'pipe:1',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    dec.stderr.resume();
    dec.stdin.on('error', () => undefined);
    const windows: Heard[] = [];
    let pending: Buffer = Buffer.alloc(0);
    let bytes = 0;
    let closed = false;
    dec.stdout.on('data', (b: Buffer) => {
      const now = performance.now();
      pending = pending.length ? Buffer.concat([pending, b]) : b;
      const whole = Math.floor(pending.length / (WINDOW * 4)) * WINDOW * 4;
      if (whole === 0) return;
      const ws = analyseTones(pending.subarray(0, whole), tones, 40);
      // The newest complete window ended at most now; earlier ones in the same read 40 ms apart before
      // it. A window is stamped at its midpoint: a tone dominates a window once it fills at least half
      // of it, so its onset lies no later than the midpoint of the first window it dominates.
      ws.forEach((w, i) => windows.push({ at: now - (ws.length - 1 - i) * 40 - 20, tone: w.dominant, rmsDb: w.rmsDb }));
      pending = pending.subarray(whole);
    });
    const req = http.get(url, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        dec.kill('SIGKILL'); // no audio will come: do not leave the decoder behind
        reject(new Error(`listener got HTTP ${res.statusCode}`));
        return;
      }
      res.on('data', (b: Buffer) => {
        bytes += b.length;
        dec.stdin.write(b);
      });
      res.on('close', () => (closed = true));
      resolve({
        windows,
        disconnected: () => closed,
        bytes: () => bytes,
        close: async () => {
          req.destroy();
          dec.kill('SIGKILL');
          await new Promise((r) => dec.once('close', r));
        },
      });
    });
    req.on('error', (err) => {
      dec.kill('SIGKILL');
      reject(err);
    });
  });
}

// Reading the windows works as for the in-process programme.
export { firstHeard, longestSilenceMs as longestSilence } from './programme.js';
