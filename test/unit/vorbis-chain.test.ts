// The Vorbis re-chainer on real encoder output: ffmpeg's single-chain Ogg stream in, a chained stream
// out that is valid Ogg (CRCs, page sequence, BOS/EOS), carries each title in its chain's comment, and
// decodes with ffmpeg to as much audio as went in.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { oggCrc, readOggPage } from '../../src/codec/ogg.js';
import { VorbisChainer, vorbisComment } from '../../src/codec/vorbis-chain.js';
import { encoderArgs } from '../../src/ffmpeg/args.js';
import { resolveFfmpegPath } from '../../src/ffmpeg/path.js';

const ffmpeg = resolveFfmpegPath(undefined);

function pages(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length;) {
    const p = readOggPage(b, i);
    if (!p) throw new Error(`no page at ${i}`);
    out.push(b.subarray(i, i + p.length));
    i += p.length;
  }
  return out;
}

/** `seconds` of a 440 Hz tone through the encoder command the server runs (40 ms pages). */
function encoderOgg(seconds: number): Buffer {
  const pcm = spawnSync(
    ffmpeg,
    ['-v', 'error', '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`, '-ac', '2', '-f', 's16le', 'pipe:1'],
    {
      maxBuffer: 1 << 26,
    },
  ).stdout;
  const r = spawnSync(ffmpeg, encoderArgs({ codec: 'vorbis', quality: 2, oggPageDurationUs: 40_000 }), { input: pcm, maxBuffer: 1 << 26 });
  expect(r.status).toBe(0);
  return r.stdout;
}

/** Every comment of each chain's comment header, by chain serial. */
function comments(stream: Buffer): string[][] {
  const out: string[][] = [];
  for (const pg of pages(stream)) {
    const nsegs = pg[26] as number;
    const body = pg.subarray(27 + nsegs);
    if (body.subarray(0, 7).toString('latin1') !== '\x03vorbis') continue;
    const vlen = body.readUInt32LE(7);
    let i = 11 + vlen;
    const n = body.readUInt32LE(i);
    i += 4;
    const list: string[] = [];
    for (let k = 0; k < n; k++) {
      const len = body.readUInt32LE(i);
      list.push(body.toString('utf8', i + 4, i + 4 + len));
      i += 4 + len;
    }
    out.push(list);
  }
  return out;
}

describe('VorbisChainer', () => {
  it('chains a real encoder stream at each new title: valid pages, titles in the comments, all audio decodable', () => {
    const src = pages(encoderOgg(6));
    const ch = new VorbisChainer(1000);
    const out: Buffer[] = [];
    let audio = 0;
    for (const pg of src) {
      const isAudio = readOggPage(pg)!.granule > 0n;
      const title = !isAudio ? 'one' : audio < 50 ? 'one' : audio < 100 ? 'twø = ; # \n two' : '';
      if (isAudio) audio++;
      for (const p of ch.page(pg, title)) out.push(p.data);
    }
    const stream = Buffer.concat(out);
    const parsed = pages(stream).map((b) => ({ b, p: readOggPage(b)! }));
    // CRC of every page, and each chain's page sequence from 0 without a gap.
    for (const { b } of parsed) {
      const copy = Buffer.from(b);
      copy.writeUInt32LE(0, 22);
      expect(oggCrc(copy)).toBe(b.readUInt32LE(22));
    }
    const serials = [...new Set(parsed.map((x) => x.p.serial))];
    expect(serials).toEqual([1000, 1001, 1002]);
    for (const s of serials) {
      const chain = parsed.filter((x) => x.p.serial === s).map((x) => x.p);
      expect(chain.map((p) => p.pageSeq)).toEqual(chain.map((_, i) => i));
      expect(chain[0]?.bos).toBe(true);
      expect(chain.filter((p) => p.bos)).toHaveLength(1);
      expect(chain[chain.length - 1]?.eos).toBe(true); // ended by the chainer, or by ffmpeg at the end
      const granules = chain.map((p) => p.granule).filter((g) => g > 0n);
      // Each chain's clock starts near 0 (at most a page of audio) and only goes forward.
      expect(Number(granules[0])).toBeLessThan(44_100 * 0.1);
      expect([...granules].sort((a, b) => (a < b ? -1 : 1))).toEqual(granules);
    }
    // A chain's pages never interleave with another's.
    const order = parsed.map((x) => x.p.serial).filter((s, i, a) => i === 0 || a[i - 1] !== s);
    expect(order).toEqual(serials);
    const c = comments(stream);
    expect(c).toHaveLength(3);
    expect(c[0]).toContain('TITLE=one');
    expect(c[1]).toContain('TITLE=twø = ; # \n two');
    expect(c[2]?.some((x) => /^title=/i.test(x))).toBe(false); // an empty title: no TITLE comment
    for (const list of c) expect(list.filter((x) => /^title=/i.test(x)).length).toBeLessThanOrEqual(1);

    // ffmpeg decodes the whole chained stream: 6 s in, 6 s out less at most a packet per chain start.
    const dec = spawnSync(ffmpeg, ['-v', 'error', '-f', 'ogg', '-i', 'pipe:0', '-f', 's16le', '-ac', '2', 'pipe:1'], {
      input: stream,
      maxBuffer: 1 << 26,
    });
    expect(dec.status).toBe(0);
    expect(dec.stderr.toString()).toBe('');
    const seconds = dec.stdout.length / 4 / 44_100;
    expect(seconds).toBeGreaterThan(5.9);
    expect(seconds).toBeLessThan(6.1);
  });

  it('passes nothing before the headers are complete, and keeps the chain while the title stays', () => {
    const src = pages(encoderOgg(1));
    const ch = new VorbisChainer(7);
    expect(ch.page(src[0] as Buffer, 't')).toEqual([]);
    expect(ch.ready).toBe(false);
    expect(ch.page(src[1] as Buffer, 't')).toEqual([]);
    expect(ch.ready).toBe(true);
    const first = ch.page(src[2] as Buffer, 't');
    expect(first.filter((p) => p.header).length).toBeGreaterThanOrEqual(2);
    expect(first[first.length - 1]?.header).toBe(false);
    expect(ch.page(src[3] as Buffer, 't')).toHaveLength(1);
    expect(ch.chain).toBe(0);
  });

  it('builds a comment header keeping the vendor and other comments, replacing any title', () => {
    const u32 = (n: number): Buffer => Buffer.from([n & 0xff, (n >> 8) & 0xff, 0, 0]);
    const orig = Buffer.concat([
      Buffer.from('\x03vorbis', 'latin1'),
      u32(4),
      Buffer.from('Lavf'),
      u32(2),
      u32(11),
      Buffer.from('title=old x'),
      u32(15),
      Buffer.from('encoder=Lavc59x'),
      Buffer.from([1]),
    ]);
    const c = vorbisComment(orig, 'new');
    expect(c.toString('latin1')).toBe('\x03vorbis\x04\0\0\0Lavf\x02\0\0\0\x0f\0\0\0encoder=Lavc59x\x09\0\0\0TITLE=new\x01');
  });
});
