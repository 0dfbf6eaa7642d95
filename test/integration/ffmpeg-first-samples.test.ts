// The live decoder and encoder command lines keep every sample from the first one. `-fflags +nobuffer`
// made ffmpeg drop what it read while probing: the first MP3 frame of each source connection and the
// first 1,024 PCM samples of each encoder run. Counted against plain ffmpeg reading the same bytes.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { decoderArgs, encoderArgs } from '../../src/ffmpeg/args.js';
import { resolveFfmpegPath } from '../../src/ffmpeg/path.js';
import { sinePcm } from '../helpers/tones.js';

const ffmpeg = resolveFfmpegPath(process.env.FFMPEG_PATH);
const run = (args: string[], input?: Buffer): Buffer => {
  const r = spawnSync(ffmpeg, args, { input, maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${r.stderr.toString()}`);
  return r.stdout;
};
/** Samples per channel in s16le stereo. */
const samples = (pcm: Buffer): number => pcm.length / 4;
const toPcm = (format: string, input: Buffer): Buffer =>
  run(['-hide_banner', '-loglevel', 'error', '-f', format, '-i', 'pipe:0', '-ac', '2', '-ar', '44100', '-f', 's16le', 'pipe:1'], input);

/** Plain ffmpeg reading s16le stereo PCM from stdin: the reference every count is checked against. */
const PLAIN_PCM_IN = ['-hide_banner', '-loglevel', 'error', '-f', 's16le', '-ar', '44100', '-ac', '2', '-i', 'pipe:0'];

// 1.5 s of a tone, s16le stereo (an odd length: 66,150 samples, not a multiple of any codec's frame).
const pcm = sinePcm(440, 1500);

describe('ffmpeg live command lines keep the first samples', () => {
  it('the decoder gives as many samples as plain ffmpeg decoding the same MP3', () => {
    const mp3 = run([...PLAIN_PCM_IN, '-c:a', 'libmp3lame', '-b:a', '128k', '-write_xing', '0', '-f', 'mp3', 'pipe:1'], pcm);
    expect(samples(run(decoderArgs('mp3'), mp3))).toBe(samples(toPcm('mp3', mp3)));
  });

  it('the encoder encodes every sample it is fed (MP3 and AAC decoded back, against the same encode from plain input)', () => {
    for (const spec of [
      { codec: 'mp3', bitrate: 128_000 },
      { codec: 'aac', bitrate: 128_000, aacCoder: 'twoloop' },
    ] as const) {
      const args = encoderArgs(spec);
      const ours = run(args, pcm);
      // The same output half after a plain input: the first option after `-i pipe:0` starts the output.
      const reference = run([...PLAIN_PCM_IN, ...args.slice(args.indexOf('pipe:0') + 1)], pcm);
      const format = spec.codec === 'mp3' ? 'mp3' : 'aac';
      expect(samples(toPcm(format, ours)), spec.codec).toBe(samples(toPcm(format, reference)));
    }
  });
});
