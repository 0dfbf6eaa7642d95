import { describe, expect, it } from 'vitest';
import { Framer, adtsFrameAt, mp3FrameAt, oggPageAt } from '../../src/encoders/framing.js';
import { encoderArgs, ffmetadata } from '../../src/ffmpeg/args.js';
import { encoderKey } from '../../src/encoders/index.js';

/** MPEG-1 Layer III, 128 kbit/s, 44.1 kHz: 417 bytes (418 with padding). */
function mp3Frame(padding = false, fill = 0xaa): Buffer {
  const len = 417 + (padding ? 1 : 0);
  const b = Buffer.alloc(len, fill);
  b[0] = 0xff;
  b[1] = 0xfb;
  b[2] = 0x90 | (padding ? 0x02 : 0);
  b[3] = 0x64;
  return b;
}

function adtsFrame(len: number): Buffer {
  const b = Buffer.alloc(len, 0x11);
  b[0] = 0xff;
  b[1] = 0xf1;
  b[2] = 0x50;
  b[3] = 0x80 | ((len >> 11) & 0x03);
  b[4] = (len >> 3) & 0xff;
  b[5] = ((len & 0x07) << 5) | 0x1f;
  b[6] = 0xfc;
  return b;
}

function oggPage(opts: { bos?: boolean; granule: bigint; serial: number; seq: number; packets: number[] }): Buffer {
  const lacing: number[] = [];
  for (const p of opts.packets) {
    let n = p;
    while (n >= 255) {
      lacing.push(255);
      n -= 255;
    }
    lacing.push(n);
  }
  const body = opts.packets.reduce((a, b) => a + b, 0);
  const b = Buffer.alloc(27 + lacing.length + body, 0x22);
  b.write('OggS', 0, 'latin1');
  b[4] = 0;
  b[5] = opts.bos ? 2 : 0;
  b.writeBigInt64LE(opts.granule, 6);
  b.writeUInt32LE(opts.serial, 14);
  b.writeUInt32LE(opts.seq, 18);
  b[26] = lacing.length;
  Buffer.from(lacing).copy(b, 27);
  return b;
}

/** Pushes `data` in pieces of the given sizes (cycled), returns all units. */
function feed(f: Framer, data: Buffer, sizes: number[]) {
  const out = [];
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
  it('reads MP3 and ADTS header lengths', () => {
    expect(mp3FrameAt(mp3Frame(), 0)).toEqual({ len: 417, samples: 1152 });
    expect(mp3FrameAt(mp3Frame(true), 0)).toEqual({ len: 418, samples: 1152 });
    expect(mp3FrameAt(Buffer.from([0xff, 0xfb, 0xf0, 0x64]), 0)).toBeUndefined(); // bad bitrate index
    expect(adtsFrameAt(adtsFrame(300), 0)).toEqual({ len: 300, samples: 1024 });
  });

  it('cuts MP3 split at arbitrary points into whole frames, none lost', () => {
    const frames = [mp3Frame(), mp3Frame(true), mp3Frame(), mp3Frame(), mp3Frame(true)];
    const data = Buffer.concat([...frames, ...frames]);
    const out = feed(new Framer('mp3'), data, [1, 3, 700, 50, 1000, 2]);
    expect(out.reduce((n, u) => n + u.frames, 0)).toBe(10);
    expect(out.reduce((n, u) => n + u.samples, 0)).toBe(11_520);
    expect(Buffer.concat(out.map((u) => u.data)).equals(data)).toBe(true);
    for (const u of out) expect(mp3FrameAt(u.data, 0)).toBeDefined();
  });

  it('resyncs after garbage instead of emitting a partial frame', () => {
    const f = new Framer('mp3');
    const out = f.push(Buffer.concat([Buffer.from('garbage!'), mp3Frame(), mp3Frame()]));
    expect(out.reduce((n, u) => n + u.frames, 0)).toBe(2);
    expect(f.skipped).toBe(8);
  });

  it('cuts ADTS into whole frames', () => {
    const data = Buffer.concat([adtsFrame(300), adtsFrame(7 + 100), adtsFrame(512)]);
    const out = feed(new Framer('aac'), data, [5, 2, 400, 9]);
    expect(out.reduce((n, u) => n + u.frames, 0)).toBe(3);
    expect(Buffer.concat(out.map((u) => u.data)).equals(data)).toBe(true);
  });

  it('cuts Ogg into whole pages, marks header pages, counts samples from granules', () => {
    const pages = [
      oggPage({ bos: true, granule: 0n, serial: 7, seq: 0, packets: [30] }),
      oggPage({ granule: 0n, serial: 7, seq: 1, packets: [100, 3000] }),
      oggPage({ granule: 4410n, serial: 7, seq: 2, packets: [200, 200, 200] }),
      oggPage({ granule: 8820n, serial: 7, seq: 3, packets: [600] }),
    ];
    expect(oggPageAt(pages[1] as Buffer, 0)).toMatchObject({ serial: 7, pageSeq: 1, packets: 2 });
    const out = feed(new Framer('vorbis'), Buffer.concat(pages), [10, 1000, 3]);
    expect(out.map((u) => u.oggHeader)).toEqual([true, true, false, false]);
    expect(out.map((u) => u.samples)).toEqual([0, 0, 4410, 4410]);
    expect(out.map((u) => u.frames)).toEqual([0, 0, 3, 1]);
  });
});

describe('encoder arguments', () => {
  it('keeps probing off, flushes packets, and titles Ogg chains', () => {
    const mp3 = encoderArgs({ codec: 'mp3', bitrate: 128_000 });
    expect(mp3).toEqual(expect.arrayContaining(['-flush_packets', '1', '-probesize', '32', '-write_xing', '0']));
    const ogg = encoderArgs({ codec: 'vorbis', quality: 6, oggPageDurationUs: 100_000, metadataOnFd3: true });
    expect(ogg.join(' ')).toContain('-page_duration 100000');
    expect(ogg.join(' ')).toContain('-f ffmetadata -i pipe:3 -map 0:a -map_metadata 1');
    // Titles come from the network: never on the command line.
    expect(ogg.join(' ')).not.toMatch(/title/);
    expect(encoderKey({ codec: 'aac', bitrate: 64_000 })).toBe('aac-64k');
    expect(ffmetadata('a=b;c#d\\e\nf\0g Ä').toString('utf8')).toBe(';FFMETADATA1\ntitle=a\\=b\\;c\\#d\\\\e\\\nfg Ä\n');
    expect(encoderKey({ codec: 'vorbis', quality: 2 })).toBe('vorbis-q2');
  });
});
