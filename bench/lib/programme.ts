// What the benchmarks play on air when the content matters: what an encoder costs depends on what it
// encodes (AAC's `twoloop` costs about three times `fast` on music, and less than `fast` on a steady tone).
import { spawnSync } from 'node:child_process';

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
