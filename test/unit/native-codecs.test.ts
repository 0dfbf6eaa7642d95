// MP3 and Vorbis encoded in Node with LAME and libvorbis (src/encoders/lame.ts, vorbis.ts): the same
// bitstreams as ffmpeg's `libmp3lame` and `libvorbis` encoders with the server's arguments, which is
// why moving them in-process changes nothing a listener hears; and who encodes them
// (ANTENNA_MP3_VORBIS_ENCODER). Compared against the system ffmpeg, which links the same libraries.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { readOggPage } from '../../src/codec/ogg.js';
import { AntennaError } from '../../src/errors.js';
import { multiEncoderArgs } from '../../src/ffmpeg/args.js';
import { loadLame, type LameLibrary } from '../../src/encoders/lame.js';
import { NativeCodecError } from '../../src/encoders/native.js';
import { selectNativeCodecs } from '../../src/encoders/native-select.js';
import { loadVorbis, type VorbisLibrary } from '../../src/encoders/vorbis.js';
import { which } from '../helpers/interop-programs.js';

const ffmpeg = which('ffmpeg');
if (!ffmpeg) throw new Error('these tests compare with the system ffmpeg (Debian: apt-get install ffmpeg, which .ci/run does)');
const lame = await loadLame();
const vorbis = await loadVorbis();

/** 4 s of 44.1 kHz stereo s16 with something in it for a psychoacoustic model: a chord per channel, noise, a click. */
function programme(): Buffer {
  const r = spawnSync(
    ffmpeg as string,
    [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i'],
      "aevalsrc='0.3*sin(2*PI*440*t)+0.2*sin(2*PI*3150*t)+0.05*random(0)-0.05*random(1)+0.4*lt(mod(t,1),0.002)|0.3*sin(2*PI*660*t)+0.1*sin(2*PI*9000*t)':s=44100:d=4",
      ...['-f', 's16le', '-ac', '2', '-'],
    ],
    { maxBuffer: 1 << 24 },
  );
  expect(r.status).toBe(0);
  return r.stdout;
}

/** ffmpeg's encode of `pcm` with the server's own arguments for `spec`. */
function ffmpegEncode(pcm: Buffer, spec: { codec: 'mp3' | 'vorbis'; bitrate?: number; quality?: number }): Buffer {
  const args = multiEncoderArgs([{ ...spec, oggPageDurationUs: 40_000 }]).map((a) => (a === 'pipe:1' ? '-' : a));
  const r = spawnSync(ffmpeg as string, args, { input: pcm, maxBuffer: 1 << 24 });
  expect(r.status, r.stderr.toString()).toBe(0);
  return r.stdout;
}

/** Encodes in 20 ms writes, as the mixer feeds the encoders. */
function inProcess(pcm: Buffer, encode: (b: Buffer) => Buffer[]): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < pcm.length; i += 3528) out.push(...encode(pcm.subarray(i, i + 3528)));
  return Buffer.concat(out);
}

function oggPackets(b: Buffer): { packets: Buffer[]; pages: { granule: bigint; packets: number }[] } {
  const packets: Buffer[] = [];
  const pages: { granule: bigint; packets: number }[] = [];
  let part: Buffer[] = [];
  for (let i = 0; i < b.length;) {
    const p = readOggPage(b, i);
    if (!p) throw new Error(`no Ogg page at ${i}`);
    pages.push({ granule: p.granule, packets: p.packets });
    const n = b[i + 26] as number;
    let off = i + 27 + n;
    for (let s = 0; s < n; s++) {
      const lace = b[i + 27 + s] as number;
      part.push(b.subarray(off, off + lace));
      off += lace;
      if (lace < 255) {
        packets.push(Buffer.concat(part));
        part = [];
      }
    }
    i += p.length;
  }
  return { packets, pages };
}

describe('LAME in-process', () => {
  it.each([320_000, 128_000])('at %i b/s gives the bytes ffmpeg -c:a libmp3lame gives', (bitrate) => {
    const pcm = programme();
    const enc = lame.open(bitrate);
    const mine = inProcess(pcm, (b) => enc.encode(b));
    enc.close();
    const theirs = ffmpegEncode(pcm, { codec: 'mp3', bitrate });
    // ffmpeg flushes LAME's last frames at the end of its input; a live encode never ends.
    expect(mine.length).toBeGreaterThan(theirs.length - 4 * 1045);
    expect(mine.equals(theirs.subarray(0, mine.length))).toBe(true);
  });
});

describe('libvorbis in-process', () => {
  it.each([6, 2])('at q%i gives the packets ffmpeg -c:a libvorbis gives, in ~40 ms pages', (quality) => {
    const pcm = programme();
    const enc = vorbis.open(quality, 1764);
    const mineBytes = inProcess(pcm, (b) => enc.encode(b));
    enc.close();
    const theirsBytes = ffmpegEncode(pcm, { codec: 'vorbis', quality });
    const mine = oggPackets(mineBytes);
    const theirs = oggPackets(theirsBytes);
    // Identification and setup headers are the same; the comment's vendor is the library's (the chainer rewrites it).
    expect(mine.packets[0]?.equals(theirs.packets[0] as Buffer)).toBe(true);
    expect(mine.packets[2]?.equals(theirs.packets[2] as Buffer)).toBe(true);
    // Audio: the packets are ffmpeg's but for a few. The first differs because libvorbis extrapolates
    // backwards from however much audio its first write held (ffmpeg writes 64 samples at a time, the
    // mixer 882), and is only used to prime the overlap; now and then a block-size decision sees more
    // lookahead in a larger write (one packet in ~200 here; none when fed 256 samples at a time).
    const audio = Math.min(mine.packets.length, theirs.packets.length) - 3;
    expect(audio).toBeGreaterThan(150);
    let differ = 0;
    for (let i = 3; i < 3 + audio; i++) if (!mine.packets[i]?.equals(theirs.packets[i] as Buffer)) differ++;
    expect(differ).toBeLessThanOrEqual(Math.ceil(audio / 50));
    // And it sounds the same: decoded, each is as close to the original as the other (within 0.2 dB).
    const snr = (ogg: Buffer): number => {
      const d = spawnSync(ffmpeg as string, ['-hide_banner', '-loglevel', 'error', '-i', '-', '-f', 's16le', '-'], {
        input: ogg,
        maxBuffer: 1 << 24,
      });
      let sig = 0;
      let err = 0;
      for (let i = 8192; i < Math.min(pcm.length, d.stdout.length) - 16384; i += 2) {
        const a = pcm.readInt16LE(i);
        sig += a * a;
        err += (a - d.stdout.readInt16LE(i)) ** 2;
      }
      return 10 * Math.log10(sig / err);
    };
    const mineSnr = snr(mineBytes);
    expect(mineSnr).toBeGreaterThan(10);
    expect(Math.abs(mineSnr - snr(theirsBytes))).toBeLessThan(0.2);
    // Pages: headers (granule 0) first, then one per ≥ 40 ms of audio, granules rising.
    const audioPages = mine.pages.filter((p) => p.granule > 0n);
    for (let i = 1; i < audioPages.length; i++) {
      const step = Number((audioPages[i] as { granule: bigint }).granule - (audioPages[i - 1] as { granule: bigint }).granule);
      expect(step).toBeGreaterThanOrEqual(1764);
      expect(step).toBeLessThan(1764 + 2048);
    }
  });
});

describe('selectNativeCodecs', () => {
  const missing = (what: string) => () => Promise.reject(new NativeCodecError(`${what} did not load (not found)`));
  const ok = { lame: () => Promise.resolve(lame), vorbis: () => Promise.resolve(vorbis) };

  it('auto, with AAC in the server: in-process for each library that loads, ffmpeg for the other, saying why', async () => {
    const both = await selectNativeCodecs('auto', true, ok);
    expect(both).toMatchObject({ mp3: 'in-process', vorbis: 'in-process', codecs: { lame, vorbis } });
    expect(both.why).toMatch(/libmp3lame\.so\.0, libvorbis\.so\.0 \+ libvorbisenc\.so\.2 loaded/);
    const one = await selectNativeCodecs('auto', true, { ...ok, vorbis: missing('libvorbis.so.0') });
    expect(one).toMatchObject({ mp3: 'in-process', vorbis: 'ffmpeg', codecs: { lame } });
    expect(one.codecs?.vorbis).toBeUndefined();
    expect(one.why).toMatch(/ffmpeg for the rest: libvorbis\.so\.0 did not load/);
    const none = await selectNativeCodecs('auto', true, { lame: missing('libmp3lame.so.0'), vorbis: missing('libvorbis.so.0') });
    expect(none.codecs).toBeUndefined();
    expect(none).toMatchObject({ mp3: 'ffmpeg', vorbis: 'ffmpeg' });
  });

  it('auto, with ffmpeg encoding AAC: ffmpeg for MP3 and Vorbis too (it runs anyway), without loading them', async () => {
    let tried = false;
    const touch = () => ((tried = true), Promise.resolve(lame));
    const choice = await selectNativeCodecs('auto', false, { ...ok, lame: touch });
    expect(choice).toMatchObject({ mp3: 'ffmpeg', vorbis: 'ffmpeg', why: expect.stringMatching(/^ffmpeg encodes AAC here/) });
    expect(choice.codecs).toBeUndefined();
    expect(tried).toBe(false);
  });

  it('ffmpeg: loads nothing', async () => {
    let tried = false;
    const touch = () => ((tried = true), Promise.resolve(lame));
    expect(await selectNativeCodecs('ffmpeg', true, { lame: touch, vorbis: () => Promise.resolve(vorbis) })).toEqual({
      mp3: 'ffmpeg',
      vorbis: 'ffmpeg',
      why: 'set by ANTENNA_MP3_VORBIS_ENCODER',
    });
    expect(tried).toBe(false);
  });

  it('in-process: both libraries (with or without AAC in the server) or a fatal error naming the setting and the cause', async () => {
    expect(await selectNativeCodecs('in-process', false, ok)).toMatchObject({ mp3: 'in-process', vorbis: 'in-process' });
    const err = await selectNativeCodecs('in-process', true, { ...ok, lame: missing('libmp3lame.so.0') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AntennaError);
    expect(err).toMatchObject({ code: 'MP3_VORBIS_ENCODER_UNAVAILABLE', fatal: true });
    expect((err as Error).message).toBe('ANTENNA_MP3_VORBIS_ENCODER=in-process: libmp3lame.so.0 did not load (not found)');
  });

  it('a library that is not there is a clear error with the Debian package to install', async () => {
    const err = await loadLame('libmp3lame-not-here.so.9').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NativeCodecError);
    expect((err as Error).message).toMatch(/^libmp3lame-not-here\.so\.9 did not load \(.*\); on Debian: apt-get install libmp3lame0$/);
  });
});

// Types only: the libraries loaded above are what the server would load.
export type { LameLibrary, VorbisLibrary };
