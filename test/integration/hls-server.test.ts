// The HLS packager end to end on loopback: real ffmpeg encoders, the real Fastify routes, playlists
// parsed and checked against RFC 8216 / LL-HLS rules, tiers compared byte-wise, and ffmpeg as a player.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readId3 } from '../../src/hls/id3.js';
import { ffmpegPath } from '../helpers/hls-encoders.js';
import { alignedPlaylists, scanPackedAudio } from '../helpers/hls-media.js';
import { masterViolations, mediaViolations, parseMaster, parseMedia } from '../helpers/hls-playlist.js';
import { getBytes, getText, startHlsStack, TEST_TIERS, until, type HlsStack } from '../helpers/hls-server.js';

const TIERS = TEST_TIERS.map((t) => t.name);
let s: HlsStack;

beforeAll(async () => {
  s = await startHlsStack();
  // A full window: 6 complete segments of ~1 s plus the one being filled.
  await until(() => (s.hls.snapshot().lastMsn ?? 0) - (s.hls.snapshot().mediaSequence ?? 0) >= 6, 30_000, 'a full HLS window');
});

afterAll(async () => {
  await s?.close();
});

describe('HLS from memory', () => {
  it('serves a master playlist with peak and average bandwidth and AAC-LC codecs', async () => {
    const r = await getText(`${s.base}/hls/master.m3u8`, { 'accept-encoding': 'gzip' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(r.headers.get('content-encoding')).toBe('gzip');
    expect(r.headers.get('cache-control')).toBe('no-cache');
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    const master = parseMaster(r.text);
    expect(masterViolations(master)).toEqual([]);
    expect(master.variants.map((v) => v.uri)).toEqual(TIERS.map((t) => `${t}/index.m3u8`));
    const bw = master.variants.map((v) => Number(v.attrs.BANDWIDTH));
    expect(bw[0]).toBeLessThan(bw[1] ?? 0);
    expect(bw[1]).toBeLessThan(bw[2] ?? 0);
  });

  it('media playlists meet RFC 8216 and LL-HLS rules, and every tier has the same timeline', async () => {
    const lists = await alignedPlaylists(s.base, TIERS);
    for (const p of lists) expect(mediaViolations(p, { minSegments: 6 })).toEqual([]);
    const shape = (p: (typeof lists)[number]) => ({
      seq: p.mediaSequence,
      disc: p.discontinuitySequence,
      segs: p.segments.map((x) => [x.msn, x.duration, x.pdt, x.uri, x.parts.map((q) => q.uri)]),
      open: p.openParts.map((q) => [q.uri, q.duration]),
      hint: p.preloadHint,
    });
    expect(shape(lists[1] ?? lists[0]!)).toEqual(shape(lists[0]!));
    expect(shape(lists[2] ?? lists[0]!)).toEqual(shape(lists[0]!));
    // Rendition reports name the other tiers with our own last part.
    const p0 = lists[0]!;
    expect(p0.renditionReports.map((r) => r.URI)).toEqual(TIERS.slice(1).map((t) => `../${t}/index.m3u8`));
    expect(p0.segments.length).toBeGreaterThanOrEqual(6);
  });

  it('segments of every tier start at the same sample: same frame counts, same PRIV timestamps', async () => {
    const p = parseMedia((await getText(`${s.base}/hls/${TIERS[0]}/index.m3u8`)).text);
    for (const seg of p.segments.slice(-3)) {
      const scans = [];
      for (const t of TIERS) {
        const r = await getBytes(`${s.base}/hls/${t}/${seg.uri}`);
        expect(r.status).toBe(200);
        expect(r.headers.get('content-type')).toBe('audio/aac');
        expect(r.headers.get('cache-control')).toMatch(/max-age=\d{3,}/);
        scans.push(scanPackedAudio(r.body));
      }
      for (const sc of scans) {
        expect(sc.garbage).toBe(0);
        expect(sc.tagAt[0]).toBe(0); // the PRIV tag opens the segment
        expect(sc.frames).toBe(scans[0]?.frames);
        expect(sc.tags.map((x) => x.pts90k)).toEqual(scans[0]?.tags.map((x) => x.pts90k));
      }
      // EXTINF is exactly the frames' duration.
      expect(seg.duration).toBeCloseTo(((scans[0]?.frames ?? 0) * 1024) / 44_100, 4);
    }
  });

  it('answers a blocking reload the moment the requested part is published', async () => {
    const p = parseMedia((await getText(`${s.base}/hls/${TIERS[1]}/index.m3u8`)).text);
    const [, hintMsn] = /^(\d+)\.(\d+)\.aac$/.exec(p.preloadHint?.URI ?? '') ?? [];
    // Ask for the first part of the segment after the hinted one: at least one part duration away.
    const msn = Number(hintMsn) + 1;
    // Watch for the publish from the side, to compare with when the answer arrives.
    let publishedAt = 0;
    const watch = setInterval(() => {
      if (publishedAt === 0 && (s.hls.snapshot().lastMsn ?? 0) >= msn) publishedAt = performance.now();
    }, 2);
    const t0 = performance.now();
    const r = await getText(`${s.base}/hls/${TIERS[1]}/index.m3u8?_HLS_msn=${msn}&_HLS_part=0`);
    const answeredAt = performance.now();
    clearInterval(watch);
    expect(r.status).toBe(200);
    const q = parseMedia(r.text);
    const uris = [...q.segments.flatMap((x) => x.parts), ...q.openParts].map((x) => x.uri);
    expect(uris).toContain(`${msn}.0.aac`);
    // It waited for the part, and the answer left with the publish (not on a poll or a timeout).
    expect(answeredAt - t0).toBeGreaterThan(50);
    expect(publishedAt).toBeGreaterThan(0);
    expect(answeredAt - publishedAt).toBeLessThan(250);
    // The hinted part itself can be requested before it exists and arrives when published.
    const next = /^(\d+)\.(\d+)\.aac$/.exec(q.preloadHint?.URI ?? '') ?? [];
    const b = await getBytes(`${s.base}/hls/${TIERS[1]}/${next[1]}.${next[2]}.aac`);
    expect(b.status).toBe(200);
    expect(readId3(b.body)?.pts90k).toBeTypeOf('number');
  });

  it('rejects requests far in the future with 400 and malformed ones with 400/404', async () => {
    const last = s.hls.snapshot().lastMsn ?? 0;
    expect((await getText(`${s.base}/hls/${TIERS[0]}/index.m3u8?_HLS_msn=${last + 3}`)).status).toBe(400);
    expect((await getText(`${s.base}/hls/${TIERS[0]}/index.m3u8?_HLS_part=1`)).status).toBe(400);
    expect((await getText(`${s.base}/hls/${TIERS[0]}/index.m3u8?_HLS_msn=abc`)).status).toBe(400);
    for (const path of [
      '/hls/../package.json',
      '/hls/%2e%2e/%2e%2e/package.json',
      '/hls/aac_64k/..%2f..%2fpackage.json',
      '/hls/nope/index.m3u8',
      '/hls/aac_64k/1.aac.bak',
      `/hls/aac_64k/${last + 50}.aac`,
      '/hls/aac_64k/0.99999.aac',
    ]) {
      const r = await getText(`${s.base}${path}`);
      expect(r.status, path).toBe(404);
      expect(r.text).not.toContain('"name": "antenna"');
    }
  });

  it('keeps a segment downloadable after it leaves the playlist', async () => {
    const p = parseMedia((await getText(`${s.base}/hls/${TIERS[0]}/index.m3u8`)).text);
    const r = await getBytes(`${s.base}/hls/${TIERS[0]}/${p.mediaSequence - 1}.aac`);
    expect(r.status).toBe(200);
    expect(s.hls.snapshot().segmentsHeld).toBeLessThanOrEqual(7 + 9);
  });

  it('carries the on-air title as ID3 TIT2 in the next parts', async () => {
    s.programme.setTitle('Ünïcode Artist – Second Song');
    await until(() => s.hls.snapshot().title === 'Ünïcode Artist – Second Song', 10_000, 'the new title in a part');
    // The part with the new title is published; the whole segment holding it follows within a segment.
    let titles: (string | undefined)[] = [];
    const end = Date.now() + 10_000;
    while (!titles.includes('Ünïcode Artist – Second Song') && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 200));
      const p = parseMedia((await getText(`${s.base}/hls/${TIERS[2]}/index.m3u8`)).text);
      const r = await getBytes(`${s.base}/hls/${TIERS[2]}/${p.segments.at(-1)?.uri ?? ''}`);
      titles = scanPackedAudio(r.body).tags.map((x) => x.title);
    }
    expect(titles).toContain('Ünïcode Artist – Second Song');
  });

  it('counts HLS sessions by sid or by address and user agent', async () => {
    await getText(`${s.base}/hls/master.m3u8?sid=abc`);
    await getText(`${s.base}/hls/master.m3u8?sid=def`);
    await getText(`${s.base}/hls/master.m3u8`, { 'user-agent': 'AppleCoreMedia/1.0' });
    expect(s.hls.snapshot().sessions).toBeGreaterThanOrEqual(3);
  });

  it('answers CORS preflight', async () => {
    const res = await fetch(`${s.base}/hls/master.m3u8`, {
      method: 'OPTIONS',
      headers: { origin: 'https://example.org', 'access-control-request-method': 'GET' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('ffmpeg plays the master playlist over HTTP and decodes the 440 Hz tone from every tier', async () => {
    const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', `${s.base}/hls/master.m3u8`];
    for (let i = 0; i < TIERS.length; i++)
      args.push('-map', `0:a:${i}`, '-t', '2', '-ac', '1', '-ar', '44100', '-f', 's16le', `pipe:${i === 0 ? 1 : i + 2}`);
    const child = spawn(ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'] });
    const outs: Buffer[][] = [[], [], []];
    child.stdout?.on('data', (d: Buffer) => outs[0]?.push(d));
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => outs[1]?.push(d));
    (child.stdio[4] as NodeJS.ReadableStream).on('data', (d: Buffer) => outs[2]?.push(d));
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(code, stderr).toBe(0);
    for (const o of outs) {
      const pcm = Buffer.concat(o);
      const n = Math.floor(pcm.length / 2);
      expect(n, stderr).toBeGreaterThan(44_100 * 1.5);
      // Count zero crossings in the middle second: a 440 Hz sine crosses zero 880 times a second.
      let crossings = 0;
      let sumSq = 0;
      for (let i = 22_050 + 1; i < 22_050 + 44_100; i++) {
        const a = pcm.readInt16LE((i - 1) * 2);
        const b = pcm.readInt16LE(i * 2);
        if ((a < 0 && b >= 0) || (a >= 0 && b < 0)) crossings++;
        sumSq += b * b;
      }
      expect(Math.sqrt(sumSq / 44_100)).toBeGreaterThan(5000);
      expect(crossings).toBeGreaterThan(860);
      expect(crossings).toBeLessThan(900);
    }
  });
});
