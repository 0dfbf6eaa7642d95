// What the benchmarks play on air when the content matters: what an encoder costs depends on what it
// encodes (AAC's `twoloop` costs about three times `fast` on music, and less than `fast` on a steady tone).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Music for the on-air source: a tracker module from Debian's fb-music-high (Frozen-Bubble's music,
 * GPL), rendered by ffmpeg's libopenmpt to 44.1 kHz stereo: real, full-band music that any machine can
 * install from the archive. Without it, pink noise under a swept tone (the encoders bench's signal).
 */
export function programmePcm(ffmpeg: string, seconds: number): { name: string; pcm: Buffer } {
  const module = '/usr/share/games/frozen-bubble/snd/frozen-mainzik-2p.xm';
  // From 0:40, its steady full-band middle (the first 30 s build up from -23 dBFS RMS, the end fades).
  const out = ['-ss', '40', '-t', String(seconds), '-ac', '2', '-ar', '44100', '-f', 's16le', 'pipe:1'];
  // The embedded static build has no libopenmpt; the system's ffmpeg (Debian's) has.
  const render = (exe: string): ReturnType<typeof spawnSync> =>
    spawnSync(exe, ['-hide_banner', '-loglevel', 'error', '-i', module, ...out], { maxBuffer: 64 * 2 ** 20 });
  let music = render(ffmpeg);
  if (music.status !== 0) music = render('ffmpeg');
  if (music.status === 0 && Buffer.isBuffer(music.stdout) && music.stdout.length >= 44_100 * 4 * Math.min(seconds, 100))
    return { name: `music (${module.split('/').pop()} from fb-music-high: ${seconds} s from 0:40, looped)`, pcm: music.stdout };
  // prettier-ignore
  const noise = spawnSync(ffmpeg, ['-hide_banner', '-loglevel', 'error',
    '-f', 'lavfi', '-i', `anoisesrc=color=pink:amplitude=0.25:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=220:beep_factor=3:duration=${seconds}`,
    '-filter_complex', 'amix=inputs=2', ...out.slice(2)], { maxBuffer: 64 * 2 ** 20 });
  if (noise.status !== 0) throw new Error(`could not make programme PCM: ${noise.stderr.toString()}`);
  return { name: 'pink noise under a swept tone (fb-music-high is not installed: apt-get install fb-music-high)', pcm: noise.stdout };
}

/** Several short recordings played one after another (ffmpeg's concat filter); null if any is missing. */
export function concatInput(files: string[]): string[] | null {
  if (files.length === 0 || !files.every((f) => existsSync(f))) return null;
  // concat wants one format on every input, and the sources mix mono and stereo, 44.1 and 48 kHz.
  const pre = files.map((_, i) => `[${i}:a]aformat=sample_rates=44100:channel_layouts=stereo[a${i}];`).join('');
  const chain = files.map((_, i) => `[a${i}]`).join('');
  return [...files.flatMap((f) => ['-i', f]), '-filter_complex', `${pre}${chain}concat=n=${files.length}:v=0:a=1`];
}

/** The first `n` word recordings of a ktuberling-data language (one human speaker per language). */
export function words(lang: string, n: number): string[] {
  const dir = `/usr/share/ktuberling/sounds/${lang}`;
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.ogg'))
        .sort()
        .slice(0, n)
        .map((f) => join(dir, f))
    : [];
}

/**
 * Speech for the on-air source: a human voice, ktuberling-data's English word recordings (~0.8 s each,
 * 44.1 kHz stereo) one after another, as a talk programme's voice with short pauses. Null when the
 * package is not installed (apt-get install ktuberling-data): a synthetic voice would cost the
 * encoders differently, so there is no stand-in.
 */
export function speechPcm(ffmpeg: string, seconds: number): { name: string; pcm: Buffer } | null {
  const input = concatInput(words('en', Math.ceil(seconds / 0.6)));
  if (!input) return null;
  const args = ['-hide_banner', '-loglevel', 'error', ...input, '-t', String(seconds), '-ac', '2', '-ar', '44100', '-f', 's16le', 'pipe:1'];
  const r = spawnSync(ffmpeg, args, { maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0 || !Buffer.isBuffer(r.stdout) || r.stdout.length < 44_100 * 4) return null;
  return {
    name: `speech (ktuberling-data English words, one human speaker: ${(r.stdout.length / 44_100 / 4).toFixed(0)} s, looped)`,
    pcm: r.stdout,
  };
}
