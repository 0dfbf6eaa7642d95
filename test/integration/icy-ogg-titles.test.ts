import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOggPage } from '../../src/codec/ogg.js';
import { decode, listen } from '../helpers/listener.js';
import { startOutputs, type OutputsStack } from '../helpers/outputs-stack.js';

let s: OutputsStack;
beforeAll(async () => {
  s = await startOutputs({
    icyMetaint: 8000,
    mounts: [
      { mount: '/listen/live-128.mp3', codec: 'mp3', bitrate: 128_000 },
      { mount: '/listen/latin.mp3', codec: 'mp3', bitrate: 128_000, charset: 'latin1' },
      { mount: '/listen/live.aac', codec: 'aac', bitrate: 64_000 },
      { mount: '/listen/live.ogg', codec: 'vorbis', quality: 2 },
    ],
  });
  await new Promise((r) => setTimeout(r, 1500));
});
afterAll(async () => {
  await s?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Ogg pages of a byte stream: serial, BOS flag and the text of header pages. */
function pages(b: Buffer) {
  const out: { serial: number; bos: boolean; granule: bigint; text: string }[] = [];
  let i = 0;
  for (;;) {
    const p = readOggPage(b, i);
    if (!p) break;
    out.push({ serial: p.serial, bos: p.bos, granule: p.granule, text: p.granule === 0n ? b.toString('latin1', i, i + p.length) : '' });
    i += p.length;
  }
  return out;
}

describe('ICY metadata', () => {
  it('shares two mounts on one encoder (same codec and bitrate)', () => {
    expect(
      s.encoders
        .snapshot()
        .map((e) => e.key)
        .sort(),
    ).toEqual(['aac-64k', 'mp3-128k', 'vorbis-q2']);
  });

  it('puts StreamTitle blocks every metaint bytes, the current title first, a new title where its audio is', async () => {
    const l = listen(s.port, '/listen/live-128.mp3', { icy: true });
    const h = await l.head;
    expect(h.headers['icy-metaint']).toBe('8000');
    const first = await l.waitForTitle('First Title');
    expect(first.offset).toBe(8000);
    await sleep(1500);
    const atChange = l.audioBytes();
    s.programme.setTitle('Zwéite – Title');
    const second = await l.waitForTitle('Zwéite – Title', 10_000);
    expect(second.offset % 8000).toBe(0);
    // The new title is announced at the first block after its audio starts: not before the audio the
    // listener already had when the title changed, and within a block plus encoder delay after it.
    expect(second.offset).toBeGreaterThanOrEqual(atChange);
    expect(second.offset).toBeLessThanOrEqual(atChange + 8000 + 16_000);
    // Between the two, blocks say "unchanged" (length 0) and are not recorded as titles.
    expect(l.titles.filter((t) => t.offset < second.offset).every((t) => t.title === 'First Title')).toBe(true);
    l.close();
    const d = await decode(l.audioBuffer());
    expect(d.info.codec).toBe('mp3');
    expect(d.pcm.length).toBeGreaterThan(44100 * 4 * 2);
  });

  it('encodes titles in Latin-1 on a Latin-1 mount; AAC mounts carry ICY too', async () => {
    s.programme.setTitle('Café');
    await sleep(800);
    const l = listen(s.port, '/listen/latin.mp3', { icy: true });
    const t = await l.waitForTitle('Caf\ufffd', 10_000).catch(() => l.titles[0]);
    expect(t?.raw.includes(Buffer.from("StreamTitle='Caf\xe9';", 'latin1'))).toBe(true);
    l.close();
    const a = listen(s.port, '/listen/live.aac', { icy: true });
    expect((await a.head).headers['icy-metaint']).toBe('8000');
    const cafe = await a.waitForTitle('Café', 10_000);
    // The burst reaches back before the change: the first block names the title of that older audio.
    expect(a.titles[0]?.offset).toBe(8000);
    expect(cafe.offset % 8000).toBe(0);
    a.close();
  });
});

describe('Ogg titles and late joiners', () => {
  it('never sends ICY on Ogg; a late joiner starts with the BOS and headers of the current chain', async () => {
    s.programme.setTitle('Ogg One');
    await sleep(2500);
    const l = listen(s.port, '/listen/live.ogg', { icy: true });
    expect((await l.head).headers['icy-metaint']).toBeUndefined();
    await l.waitForBytes(4000, 5000);
    await sleep(1500);
    s.programme.setTitle('Ogg Two');
    await sleep(3000);
    l.close();
    const b = l.audioBuffer();
    const ps = pages(b);
    expect(ps[0]?.bos).toBe(true);
    expect(ps[0]?.text).toContain('vorbis');
    expect(ps[1]?.text.toLowerCase()).toContain('title=');
    // Each title is a chained stream: a BOS with a new serial and the title in its comment header.
    // (The burst may reach back into the chain before "Ogg One", depending on timing.)
    const chains = ps.flatMap((p, i) => (p.bos ? [{ serial: p.serial, comment: (ps[i + 1]?.text ?? '').toLowerCase() }] : []));
    expect(new Set(chains.map((c) => c.serial)).size).toBe(chains.length);
    expect(chains.at(-1)?.comment).toContain('title=ogg two');
    expect(chains.at(-2)?.comment).toContain('title=ogg one');
    // Whole stream decodes from its first byte, across the chain boundary.
    const d = await decode(b);
    expect(d.info.codec).toBe('vorbis');
    expect(d.pcm.length / 4 / 44100).toBeGreaterThan(4);
  });
});
