// Audio checks for the interop suite: decode what a listener received with ffmpeg, then measure its
// level and which test tone it carries (each source in a test plays its own frequency).
import { spawn } from 'node:child_process';
import { resolveFfmpegPath } from '../../src/ffmpeg/path.js';
import { which } from './interop-programs.js';

/** The system ffmpeg when installed (the interop suite's "real listener"), else the embedded one. */
export function listenerFfmpeg(): string {
  return which('ffmpeg') ?? resolveFfmpegPath(process.env.FFMPEG_PATH);
}

/** Decodes `seconds` of a URL or file with ffmpeg to 44.1 kHz stereo s16le; returns the PCM (bounded). */
export function decodeToPcm(
  input: string | Buffer,
  seconds: number,
  timeoutMs = 30_000,
): Promise<{ pcm: Buffer; code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const src = typeof input === 'string' ? input : 'pipe:0';
    const args = [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-i',
      src,
      '-t',
      String(seconds),
      '-f',
      's16le',
      '-ac',
      '2',
      '-ar',
      '44100',
      'pipe:1',
    ];
    if (typeof input !== 'string') args.splice(args.indexOf('-nostdin'), 1);
    const proc = spawn(listenerFfmpeg(), args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let len = 0;
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => {
      if (len < 44_100 * 4 * (seconds + 2)) {
        out.push(d);
        len += d.length;
      }
    });
    proc.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    proc.stdin.on('error', () => undefined);
    if (typeof input === 'string') proc.stdin.end();
    else proc.stdin.end(input);
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ pcm: Buffer.concat(out), code, stderr });
    });
  });
}

/** RMS level of s16le PCM in dBFS (-Infinity for digital silence or no samples). */
export function rmsDb(pcm: Buffer): number {
  const n = Math.floor(pcm.length / 2);
  if (n === 0) return -Infinity;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const s = pcm.readInt16LE(i * 2) / 32768;
    sum += s * s;
  }
  return 10 * Math.log10(sum / n);
}

/** Power of `freq` in s16le stereo PCM (left channel), by the Goertzel algorithm, normalised per sample. */
export function tonePower(pcm: Buffer, freq: number, sampleRate = 44_100): number {
  const n = Math.floor(pcm.length / 4);
  if (n === 0) return 0;
  const coeff = 2 * Math.cos((2 * Math.PI * freq) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const x = pcm.readInt16LE(i * 4) / 32768;
    const s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (n * n);
}

/**
 * Which of `freqs` dominates each `windowS`-second window of the PCM (undefined where the audio is
 * near silence or no tone stands out `ratio`:1 in power), so a test can tell which source was on air
 * when. `ratio` 1 takes the strongest tone whatever the margin.
 */
export function dominantTones(pcm: Buffer, freqs: readonly number[], windowS = 0.5, ratio = 10): (number | undefined)[] {
  const win = Math.floor(44_100 * windowS) * 4;
  const out: (number | undefined)[] = [];
  for (let off = 0; off + win <= pcm.length; off += win) {
    const w = pcm.subarray(off, off + win);
    if (rmsDb(w) < -50) {
      out.push(undefined);
      continue;
    }
    const powers = freqs.map((f) => tonePower(w, f));
    const best = Math.max(...powers);
    const second = Math.max(0, ...powers.filter((p) => p !== best));
    out.push(best > ratio * second || (ratio <= 1 && best > 0) ? freqs[powers.indexOf(best)] : undefined);
  }
  return out;
}
