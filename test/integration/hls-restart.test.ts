// Timestamps that restart: an encoder restart (generation bump) and a server restart must both show
// up as discontinuities, with the media sequence only ever growing (it persists in the data dir).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alignedPlaylists } from '../helpers/hls-media.js';
import { mediaViolations, parseMedia } from '../helpers/hls-playlist.js';
import { getText, startHlsStack, TEST_TIERS, until, type HlsStack } from '../helpers/hls-server.js';

const TIERS = TEST_TIERS.map((t) => t.name);
const stacks: HlsStack[] = [];
let dataDir: string | undefined;

afterEach(async () => {
  for (const s of stacks.splice(0)) await s.close(s.dataDir === dataDir);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

describe('HLS discontinuities', () => {
  it('an encoder restart becomes an EXT-X-DISCONTINUITY in every tier, tiers stay aligned', async () => {
    const s = await startHlsStack();
    stacks.push(s);
    await until(() => (s.hls.snapshot().lastMsn ?? 0) >= 2, 20_000, 'three segments');
    const discBefore = s.hls.snapshot().discontinuities;
    await s.encoders[2]?.restart();
    await until(() => s.hls.snapshot().discontinuities > discBefore, 10_000, 'the discontinuity');
    const at = s.hls.snapshot().lastMsn ?? 0;
    await until(() => (s.hls.snapshot().lastMsn ?? 0) >= at + 2, 10_000, 'segments after the restart');
    const lists = await alignedPlaylists(s.base, TIERS);
    for (const p of lists) {
      expect(mediaViolations(p, { minSegments: 3 })).toEqual([]);
      const marked = p.segments.filter((x) => x.discontinuity);
      expect(marked.length).toBeGreaterThanOrEqual(1);
      expect(marked[0]?.disc).toBe((marked[0]?.msn ?? 0) > p.mediaSequence ? p.discontinuitySequence + 1 : p.discontinuitySequence);
      expect(p.segments.map((x) => [x.msn, x.duration, x.disc])).toEqual(lists[0]?.segments.map((x) => [x.msn, x.duration, x.disc]));
    }
  });

  it('a server restart continues the media sequence and starts a new discontinuity sequence', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'antenna-hls-restart-'));
    const a = await startHlsStack({ dataDir });
    stacks.push(a);
    await until(() => (a.hls.snapshot().lastMsn ?? 0) >= 3, 20_000, 'four segments');
    const before = parseMedia((await getText(`${a.base}/hls/${TIERS[0]}/index.m3u8`)).text);
    const lastBefore = a.hls.snapshot().lastMsn ?? 0;
    await a.close(true);
    const saved = JSON.parse(await readFile(join(dataDir, 'hls-state.json'), 'utf8')) as { nextMsn: number; lastDisc: number };
    expect(saved.nextMsn).toBe(lastBefore + 1);

    const b = await startHlsStack({ dataDir });
    stacks.push(b);
    await until(() => (b.hls.snapshot().lastMsn ?? 0) >= lastBefore + 4, 20_000, 'segments after the restart');
    const after = parseMedia((await getText(`${b.base}/hls/${TIERS[0]}/index.m3u8`)).text);
    expect(mediaViolations(after, { minSegments: 3 })).toEqual([]);
    expect(after.mediaSequence).toBe(lastBefore + 1);
    expect(after.discontinuitySequence).toBe(before.discontinuitySequence + 1);
    // Wall-clock timestamps keep going forward across the restart.
    expect(after.segments[0]?.pdt ?? 0).toBeGreaterThan(before.segments.at(-1)?.pdt ?? Infinity);
  });
});

describe('HLS shutdown', () => {
  it('closing the server releases parked blocking reloads at once', async () => {
    const s = await startHlsStack();
    stacks.push(s);
    await until(() => s.hls.snapshot().lastMsn !== undefined, 20_000, 'the first part');
    const last = s.hls.snapshot().lastMsn ?? 0;
    const parked = getText(`${s.base}/hls/${TIERS[0]}/index.m3u8?_HLS_msn=${last + 2}&_HLS_part=1`);
    await until(() => s.hls.snapshot().blockedRequests === 1, 5_000, 'the request to park');
    const t0 = performance.now();
    await s.app.close();
    expect(performance.now() - t0).toBeLessThan(1500);
    expect((await parked).status).toBe(503);
  });
});
