// The encoder's output framer on hand-built units and on real encoder output, and the encoder's ffmpeg
// arguments. The header parsers themselves are tested in codec.test.ts.
import { describe, expect, it } from 'vitest';
import { readAdtsHeader } from '../../src/codec/adts.js';
import type { ReadFrameHeader } from '../../src/codec/frame.js';
import { readMpegHeader } from '../../src/codec/mpeg.js';
import { readOggPage } from '../../src/codec/ogg.js';
import { Framer, type Framed } from '../../src/encoders/framing.js';
import { encoderArgs, multiEncoderArgs } from '../../src/ffmpeg/args.js';
import type { Codec } from '../../src/types/contracts.js';
import { adtsFrame, encoderOutput, headerChain, mp3Frame, oggPage } from '../helpers/audio-bytes.js';
import { encoderKey } from '../../src/types/encoder-spec.js';

/** The lengths of the frames in a unit, each read from its header where the previous one ended. */
function frameLengths(u: Framed, read: ReadFrameHeader): number[] {
  return headerChain(u.data, read).map((f) => f.h.length);
}

/** Pushes `data` in pieces of the given sizes (cycled), returns all units. */
function feed(f: Framer, data: Buffer, sizes: number[]): Framed[] {
  const out: Framed[] = [];
  let i = 0;
  let k = 0;
  while (i < data.length) {
    const n = sizes[k++ % sizes.length] as number;
    out.push(...f.push(data.subarray(i, i + n)));
    i += n;
  }
  return out;
}

describe('encoder output framing', () => {
  it('cuts MP3 split at arbitrary points into whole frames, none lost', () => {
    const frames = [mp3Frame(), mp3Frame(true), mp3Frame(), mp3Frame(), mp3Frame(true)];
    const data = Buffer.concat([...frames, ...frames]);
    const out = feed(new Framer('mp3'), data, [1, 3, 700, 50, 1000, 2]);
    expect(out.reduce((n, u) => n + u.frames, 0)).toBe(10);
    expect(out.reduce((n, u) => n + u.samples, 0)).toBe(11_520);
    expect(Buffer.concat(out.map((u) => u.data)).equals(data)).toBe(true);
    for (const u of out) expect(frameLengths(u, readMpegHeader)).toEqual(u.frameEnds.map((e, k) => e - (u.frameEnds[k - 1] ?? 0)));
  });

  it('resyncs after garbage instead of emitting a partial frame', () => {
    const f = new Framer('mp3');
    const out = f.push(Buffer.concat([Buffer.from('garbage!'), mp3Frame(), mp3Frame()]));
    expect(out.reduce((n, u) => n + u.frames, 0)).toBe(2);
    expect(out.flatMap((u) => u.frameEnds)).toEqual([417, 834]);
    expect(f.skipped).toBe(8);
  });

  it('takes only Layer III from the MP3 encoder: a Layer II header is a chance sync', () => {
    const layer2 = Buffer.from([0xff, 0xfd, 0x10, 0x00]); // a valid MPEG-1 Layer II header, 104 bytes long
    const f = new Framer('mp3');
    const out = f.push(Buffer.concat([layer2, Buffer.alloc(100, 0x55), mp3Frame()]));
    expect(out.map((u) => u.frames)).toEqual([1]);
    expect(f.skipped).toBe(104);
  });

  it('cuts ADTS into whole frames', () => {
    const data = Buffer.concat([adtsFrame(300), adtsFrame(7 + 100), adtsFrame(512)]);
    const out = feed(new Framer('aac'), data, [5, 2, 400, 9]);
    expect(out.reduce((n, u) => n + u.frames, 0)).toBe(3);
    expect(Buffer.concat(out.map((u) => u.data)).equals(data)).toBe(true);
    expect(out.flatMap((u) => frameLengths(u, readAdtsHeader))).toEqual([300, 107, 512]);
  });

  it('cuts Ogg into whole pages, marks header pages, counts samples from granules', () => {
    const pages = [
      oggPage({ bos: true, granule: 0n, serial: 7, seq: 0, packets: [30] }),
      oggPage({ granule: 0n, serial: 7, seq: 1, packets: [100, 3000] }),
      oggPage({ granule: 4410n, serial: 7, seq: 2, packets: [200, 200, 200] }),
      oggPage({ granule: 8820n, serial: 7, seq: 3, packets: [600] }),
    ];
    const out = feed(new Framer('vorbis'), Buffer.concat(pages), [10, 1000, 3]);
    expect(out.map((u) => u.oggHeader)).toEqual([true, true, false, false]);
    expect(out.map((u) => u.frameEnds)).toEqual(pages.map((p) => [p.length]));
    expect(out.map((u) => u.samples)).toEqual([0, 0, 4410, 4410]);
    expect(out.map((u) => u.frames)).toEqual([0, 0, 3, 1]);
  });
});

describe('encoder output framing on real encoder output', () => {
  const readers: Record<Exclude<Codec, 'vorbis'>, ReadFrameHeader> = {
    mp3: readMpegHeader,
    aac: readAdtsHeader,
  };
  it.each([
    { codec: 'mp3', bitrate: 128_000 },
    { codec: 'aac', bitrate: 64_000 },
    { codec: 'vorbis', quality: 3 },
  ] as const)('cuts every byte of $codec into units whose ends are where the headers say', (spec) => {
    const data = encoderOutput(spec);
    const f = new Framer(spec.codec);
    const out = feed(f, data, [4096, 1, 333, 65_536]);
    expect(Buffer.concat(out.map((u) => u.data)).equals(data)).toBe(true);
    expect(f.skipped).toBe(0);
    for (const u of out) {
      expect(u.frameEnds.at(-1)).toBe(u.data.length);
      if (spec.codec === 'vorbis') expect(u.frameEnds).toEqual([readOggPage(u.data)?.length]);
      else expect(u.frameEnds).toHaveLength(u.frames);
      if (spec.codec !== 'vorbis')
        expect(frameLengths(u, readers[spec.codec])).toEqual(u.frameEnds.map((e, k) => e - (u.frameEnds[k - 1] ?? 0)));
    }
    if (spec.codec === 'vorbis') expect(out.filter((u) => u.oggHeader).length).toBeGreaterThanOrEqual(2);
    else expect(out.some((u) => u.oggHeader)).toBe(false);
  });
});

describe('encoder arguments', () => {
  it('keeps probing off, flushes packets, and never puts a title on the command line', () => {
    const mp3 = encoderArgs({ codec: 'mp3', bitrate: 128_000 });
    expect(mp3).toEqual(expect.arrayContaining(['-flush_packets', '1', '-probesize', '32', '-write_xing', '0']));
    const ogg = encoderArgs({ codec: 'vorbis', quality: 6, oggPageDurationUs: 100_000 });
    expect(ogg.join(' ')).toContain('-page_duration 100000');
    // Several encodes: one input, each output mapped from it onto its own pipe (fd 1, then 3, 4, ...).
    const many = multiEncoderArgs([
      { codec: 'mp3', bitrate: 128_000 },
      { codec: 'aac', bitrate: 64_000 },
      { codec: 'vorbis', quality: 2 },
    ]);
    expect(many.filter((a) => a === '-i')).toHaveLength(1);
    expect(many.filter((a) => a.startsWith('pipe:')).slice(1)).toEqual(['pipe:1', 'pipe:3', 'pipe:4']);
    // Titles come from the network: never on the command line.
    expect(ogg.join(' ')).not.toMatch(/title/);
    expect(encoderKey({ codec: 'aac', bitrate: 64_000 })).toBe('aac-64k');
    expect(encoderKey({ codec: 'vorbis', quality: 2 })).toBe('vorbis-q2');
  });
});
