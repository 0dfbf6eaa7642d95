// Regression for issue 8 (VLC 3.0 decoded nothing from an Ogg mount joined mid-chain): a listener who
// tunes in long after the Vorbis encoder started gets the chain's headers, then pages whose granule
// positions start near 0 and whose page numbers follow the headers, every CRC valid; listeners who tune
// in together share one rebase; a new chain (title change) reaches them unmodified.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oggCrc, readOggPage as oggPageAt } from '../../src/codec/ogg.js';
import { EPOCH_SAMPLES } from '../../src/icecast-compat/ogg-rebase.js';
import { decode, listen, toneOf } from '../helpers/listener.js';
import { startOutputs, type OutputsStack } from '../helpers/outputs-stack.js';

const MOUNT = '/listen/live.ogg';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Page {
  readonly bos: boolean;
  readonly granule: bigint;
  readonly serial: number;
  readonly seq: number;
  readonly crcOk: boolean;
}

function pages(b: Buffer): Page[] {
  const out: Page[] = [];
  let i = 0;
  for (let p = oggPageAt(b, 0); p; p = oggPageAt(b, i)) {
    const copy = Buffer.from(b.subarray(i, i + p.length));
    copy.writeUInt32LE(0, 22);
    out.push({ bos: p.bos, granule: p.granule, serial: p.serial, seq: p.pageSeq, crcOk: oggCrc(copy) === b.readUInt32LE(i + 22) });
    i += p.length;
  }
  return out;
}

let s: OutputsStack;
beforeAll(async () => {
  s = await startOutputs({ mounts: [{ mount: MOUNT, codec: 'vorbis', quality: 6 }] });
  await sleep(6000); // the chain is 6 s old: a plain relay would start the listener at granule ~264,600
});
afterAll(async () => {
  await s?.close();
});

describe('an Ogg listener who joins mid-chain', () => {
  it('gets headers, then granules from near 0 and page numbers that follow the headers, with valid CRCs', async () => {
    const a = listen(s.port, MOUNT);
    await sleep(300);
    const b = listen(s.port, MOUNT);
    await sleep(2000);
    a.close();
    b.close();
    for (const [name, l] of [
      ['first', a],
      ['second', b],
    ] as const) {
      const ps = pages(l.audioBuffer());
      expect(ps.length, name).toBeGreaterThan(40);
      expect(ps[0]?.bos, `${name}: BOS first`).toBe(true);
      expect(
        ps.every((p) => p.crcOk),
        `${name}: every CRC`,
      ).toBe(true);
      const audio = ps.filter((p) => p.granule !== 0n);
      const first = audio[0] as Page;
      expect(first.granule, `${name}: first granule`).toBeGreaterThan(0n);
      expect(first.granule, `${name}: first granule`).toBeLessThan(BigInt(EPOCH_SAMPLES + 8192));
      for (let k = 1; k < audio.length; k++) {
        expect((audio[k] as Page).granule).toBeGreaterThanOrEqual((audio[k - 1] as Page).granule);
        expect((audio[k] as Page).seq).toBe((audio[k - 1] as Page).seq + 1);
      }
    }
    // The first listener started its epoch: its audio pages follow the two header pages at once.
    const first = pages(a.audioBuffer()).find((p) => p.granule !== 0n) as Page;
    expect(first.seq).toBeLessThanOrEqual(3);
    // They tuned in 0.3 s apart: one epoch (one rewrite per chunk) serves both.
    expect(s.icecast.mounts.get(MOUNT)?.oggEpochs.size).toBeLessThanOrEqual(1);
    const d = await decode(a.audioBuffer(), { format: 'ogg' });
    expect(d.info.codec).toBe('vorbis');
    expect(toneOf(d.pcm).rms).toBeGreaterThan(0.05);
  });

  it('passes a new chain (title change) through unmodified: its granules start at 0 for everyone', async () => {
    const l = listen(s.port, MOUNT);
    await sleep(1500);
    s.programme.setTitle('Second Chain Title');
    await sleep(3500);
    l.close();
    const ps = pages(l.audioBuffer());
    expect(ps.every((p) => p.crcOk)).toBe(true);
    const serials = [...new Set(ps.map((p) => p.serial))];
    expect(serials.length, 'two chains').toBe(2);
    const second = ps.filter((p) => p.serial === serials[1]);
    expect(second[0]?.bos).toBe(true);
    expect(second[0]?.seq).toBe(0);
    const firstAudio = second.find((p) => p.granule !== 0n) as Page;
    expect(firstAudio.granule).toBeLessThan(8192n);
  });
});
