import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Framer } from '../../src/encoders/framing.js';
import { oggCrc, readOggPage as oggPageAt } from '../../src/codec/ogg.js';
import { resolveFfmpegPath } from '../../src/ffmpeg/path.js';
import { EPOCH_SAMPLES, MAX_EPOCHS, OggEpochs, pagesSpan, rebasePages } from '../../src/icecast-compat/ogg-rebase.js';

/** Six seconds of Vorbis in Ogg from the embedded ffmpeg: real pages with libogg's CRCs. */
function realOgg(): Buffer {
  const out = spawnSync(
    resolveFfmpegPath(process.env.FFMPEG_PATH),
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:sample_rate=44100:duration=6',
      '-ac',
      '2',
      '-c:a',
      'libvorbis',
      '-q:a',
      '2',
      '-page_duration',
      '40000',
      '-f',
      'ogg',
      'pipe:1',
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  if (out.status !== 0) throw new Error(`ffmpeg: ${out.stderr.toString()}`);
  return out.stdout;
}

function pages(b: Buffer): { start: number; len: number; granule: bigint; seq: number; crc: number }[] {
  const out = [];
  let i = 0;
  for (let p = oggPageAt(b, 0); p; p = oggPageAt(b, i)) {
    out.push({ start: i, len: p.length, granule: p.granule, seq: p.pageSeq, crc: b.readUInt32LE(i + 22) });
    i += p.length;
  }
  expect(i, 'whole pages only').toBe(b.length);
  return out;
}

/** The CRC the page at `start` should carry: computed with its CRC field as zeros. */
function expectedCrc(b: Buffer, start: number, len: number): number {
  const copy = Buffer.from(b.subarray(start, start + len));
  copy.writeUInt32LE(0, 22);
  return oggCrc(copy);
}

describe('Ogg CRC and granule rebase (VLC needs granules near 0)', () => {
  const ogg = realOgg();

  it('computes the Ogg CRC-32 (0x04c11db7, init 0, unreflected, no final XOR)', () => {
    // CRC-32/POSIX (cksum) has the same polynomial and init with a final XOR: its check value 0x765e7680, inverted.
    expect(oggCrc(Buffer.from('123456789', 'latin1')).toString(16)).toBe('89a1897f');
    expect(oggCrc(Buffer.alloc(0))).toBe(0);
    const ps = pages(ogg);
    expect(ps.length).toBeGreaterThan(100);
    for (const p of ps) expect(expectedCrc(ogg, p.start, p.len), `page ${p.seq}`).toBe(p.crc);
  });

  it('rebases granules and page numbers of mid-stream pages, with valid CRCs and the audio untouched', () => {
    const ps = pages(ogg);
    const mid = ps.slice(60, 80);
    const first = mid[0] as (typeof mid)[number];
    const data = ogg.subarray(
      first.start,
      (mid[mid.length - 1] as (typeof mid)[number]).start + (mid[mid.length - 1] as (typeof mid)[number]).len,
    );
    const span = pagesSpan(data);
    expect(span).toEqual({ firstSeq: first.seq, lastGranule: (mid[mid.length - 1] as (typeof mid)[number]).granule });
    const before = (ps[59] as (typeof ps)[number]).granule;
    const out = rebasePages(data, { granule: before, pageSeq: first.seq - 2 });
    expect(out).not.toBe(data);
    expect(out.length).toBe(data.length);
    const re = pages(out);
    expect(re.map((p) => p.seq)).toEqual(mid.map((_, k) => 2 + k));
    expect(re.map((p) => p.granule)).toEqual(mid.map((p) => (p.granule < 0n ? p.granule : p.granule - before)));
    expect((re[0] as (typeof re)[number]).granule).toBeGreaterThan(0n);
    expect((re[0] as (typeof re)[number]).granule).toBeLessThan(4096n);
    for (const p of re) {
      expect(expectedCrc(out, p.start, p.len)).toBe(p.crc);
      // Only the granule (6..13), sequence (18..21) and CRC (22..25) fields differ.
      expect(out.subarray(p.start + 26, p.start + p.len).equals(data.subarray(p.start + 26, p.start + p.len))).toBe(true);
      expect(out.subarray(p.start, p.start + 6).equals(data.subarray(p.start, p.start + 6))).toBe(true);
    }
    // The source chunk is shared by every listener: it must be left as it was.
    expect(data.equals(ogg.subarray(first.start, first.start + data.length))).toBe(true);
    // Our own framer accepts the rewritten pages as audio pages.
    const framed = new Framer('vorbis').push(out);
    expect(framed.every((f) => !f.oggHeader)).toBe(true);
  });

  it('shares one epoch among listeners who join within a second, starts another after, and resets per chain', () => {
    const ps = pages(ogg);
    const chunkAt = (k: number) => {
      const p = ps[k] as (typeof ps)[number];
      const prev = ps[k - 1] as (typeof ps)[number];
      return { data: ogg.subarray(p.start, p.start + p.len), samples: Number(p.granule - prev.granule), start: prev.granule };
    };
    const epochs = new OggEpochs();
    const a = chunkAt(20);
    const e1 = epochs.join(1, a.data, a.samples, 2);
    expect(e1?.by).toEqual({ granule: a.start, pageSeq: (ps[20] as (typeof ps)[number]).seq - 2 });
    // 10 pages (0.4 s) later: same epoch.
    const b = chunkAt(30);
    expect(epochs.join(1, b.data, b.samples, 2)).toBe(e1);
    // More than EPOCH_SAMPLES later: a new one.
    const late = ps.findIndex((p) => p.granule > a.start + BigInt(EPOCH_SAMPLES) + 5000n);
    const c = chunkAt(late);
    const e2 = epochs.join(1, c.data, c.samples, 2);
    expect(e2).not.toBe(e1);
    expect(epochs.size).toBe(2);
    // One rewrite per chunk per epoch, whatever the number of listeners.
    expect(e1?.view(c.data)).toBe(e1?.view(c.data));
    // A new chain (generation) starts afresh.
    const e3 = epochs.join(2, a.data, a.samples, 2);
    expect(e3?.generation).toBe(2);
    expect(e3).not.toBe(e1);
    expect(epochs.size).toBe(3);
    // An epoch lives while it has listeners.
    epochs.leave(e3 as NonNullable<typeof e3>);
    epochs.leave(e2 as NonNullable<typeof e2>);
    expect(epochs.size).toBe(1);
    // A chunk without a granule (none ends on it) gives no epoch: nothing to rebase.
    const noGranule = Buffer.from(a.data);
    noGranule.writeBigInt64LE(-1n, 6);
    expect(epochs.join(2, noGranule, 0, 2)).toBeUndefined();
  });

  it(`bounds live epochs at ${MAX_EPOCHS}: newcomers then share the newest`, () => {
    const epochs = new OggEpochs();
    const page = Buffer.from(ogg.subarray((pages(ogg)[5] as { start: number }).start));
    const at = (granule: bigint): Buffer => {
      const b = Buffer.from(page.subarray(0, (oggPageAt(page, 0) as { length: number }).length));
      b.writeBigInt64LE(granule, 6);
      return b;
    };
    let last;
    for (let k = 0; k < MAX_EPOCHS; k++) last = epochs.join(1, at(BigInt((k + 1) * 2 * EPOCH_SAMPLES)), 1024, 2);
    expect(epochs.size).toBe(MAX_EPOCHS);
    expect(epochs.join(1, at(BigInt((MAX_EPOCHS + 10) * 2 * EPOCH_SAMPLES)), 1024, 2)).toBe(last);
    expect(epochs.overflowJoins).toBe(1);
  });
});
