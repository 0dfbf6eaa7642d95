// The pages plugin with a built directory of its own (no web build needed): the HTML filled with the
// station's name (escaped), security headers, content-hashed assets served gzipped when accepted, no
// path from a request reaching the disk, and a clear 503 when the pages are not built. Also the peak
// meter's hold, and (at compile time) that the pages read the API's shapes as its schemas define them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Fastify from 'fastify';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type {
  emergencyList,
  eventsResponse,
  historyResponse,
  meResponse,
  nowPlaying,
  publicConfig,
  status,
} from '../../src/api/schemas.js';
import { FLOOR_DB, heldPeakDb, peakDb, rmsDb } from '../../src/mixer/levels.js';
import { escapeHtml, fillPage, pagesPlugin } from '../../src/pages/index.js';
import type * as Web from '../../web/shared/types.js';
import { tempDir } from '../helpers/interop-programs.js';

// What the server sends must be what the pages read: each schema's type must be assignable to the page's.
type Reads<Server, Page> = Server extends Page ? true : false;
const contract: [
  Reads<z.infer<typeof status>, Web.Status>,
  Reads<z.infer<typeof nowPlaying>, Web.NowPlaying>,
  Reads<z.infer<typeof publicConfig>, Web.PublicConfig>,
  Reads<z.infer<typeof meResponse>, Web.Me>,
  Reads<z.infer<typeof emergencyList>, Web.EmergencyList>,
  Reads<z.infer<typeof eventsResponse>, { events: Web.TimelineItem[] }>,
  Reads<z.infer<typeof historyResponse>, Web.HistoryResponse>,
] = [true, true, true, true, true, true, true];

const CONFIG = {
  stationName: 'Radio <Valley> & "Friends"',
  stationDescription: 'news & music',
  stationUrl: '',
  appwriteEndpoint: 'https://appwrite.example.org/v1',
};
const dirs: { remove(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

function builtPages(): string {
  const d = tempDir('pages-unit');
  dirs.push(d);
  mkdirSync(join(d.path, 'assets'));
  writeFileSync(join(d.path, 'index.html'), '<title>{{stationName}}</title><meta content="{{stationDescription}}">{{unknown}}');
  writeFileSync(join(d.path, 'dashboard.html'), '<title>Dashboard · {{stationName}}</title>');
  const js = 'console.log("station");'.repeat(20);
  writeFileSync(join(d.path, 'assets', 'station-ABC123.js'), js);
  writeFileSync(join(d.path, 'assets', 'station-ABC123.js.gz'), gzipSync(js));
  writeFileSync(join(d.path, 'assets', 'notes.txt'), 'not a page asset');
  return d.path;
}

async function app(dir: string | undefined) {
  const a = Fastify();
  await a.register(pagesPlugin({ config: CONFIG, log: pino({ level: 'silent' }), ...(dir ? { dir } : {}) }));
  return a;
}

describe('pages plugin', () => {
  it('fills the station name into the HTML, escaped, with a content security policy', async () => {
    const a = await app(builtPages());
    const r = await a.inject('/');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.body).toBe('<title>Radio &#60;Valley&#62; &#38; &#34;Friends&#34;</title><meta content="news &#38; music">{{unknown}}');
    expect(r.headers['content-security-policy']).toContain("default-src 'self'");
    expect(r.headers['content-security-policy']).toContain("connect-src 'self' https://appwrite.example.org;");
    expect((await a.inject('/dashboard/')).body).toContain('Dashboard · Radio &#60;Valley&#62;');
    const redirect = await a.inject('/dashboard');
    expect(redirect.statusCode).toBe(301);
    expect(redirect.headers.location).toBe('/dashboard/');
    await a.close();
  });

  it('serves built assets (gzipped when accepted, cached forever) and nothing else', async () => {
    const a = await app(builtPages());
    const plain = await a.inject('/assets/station-ABC123.js');
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['cache-control']).toContain('immutable');
    expect(plain.body).toContain('console.log');
    const gz = await a.inject({ url: '/assets/station-ABC123.js', headers: { 'accept-encoding': 'gzip, br' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    for (const path of ['/assets/notes.txt', '/assets/..%2Findex.html', '/assets/station-ABC123.js.gz', '/assets/nothing.js']) {
      expect((await a.inject(path)).statusCode, path).toBe(404);
    }
    await a.close();
  });

  it('answers 503 with what to do when the pages are not built', async () => {
    const d = tempDir('pages-empty');
    dirs.push(d);
    const a = await app(d.path);
    const r = await a.inject('/');
    expect(r.statusCode).toBe(503);
    expect(r.body).toContain('npm run build');
    expect((await a.inject('/dashboard/')).statusCode).toBe(503);
    await a.close();
  });

  it('escapeHtml and fillPage leave no markup through', () => {
    expect(escapeHtml(`<script>alert('x')</script>`)).toBe('&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;');
    expect(fillPage('{{a}}-{{b}}', { a: '<' })).toBe('&#60;-{{b}}');
  });

  it('holds the pages’ API contract (checked by the compiler)', () => {
    expect(contract.every(Boolean)).toBe(true);
  });
});

describe('peak meter', () => {
  it('measures the sample peak of either channel and holds it, falling back at 12 dB/s', () => {
    const s = new Float32Array([0.1, -0.5, 0.25, 0.2]);
    expect(peakDb(s, 2)).toBeCloseTo(20 * Math.log10(0.5), 5);
    expect(peakDb(new Float32Array(4), 2)).toBe(FLOOR_DB);
    expect(rmsDb(s, 2)).toBeLessThan(peakDb(s, 2));
    // A loud frame, then silence: after 1 s of 20 ms frames the reading is 12 dB lower.
    let p = heldPeakDb(FLOOR_DB, -6, 20);
    expect(p).toBe(-6);
    for (let i = 0; i < 50; i++) p = heldPeakDb(p, FLOOR_DB, 20);
    expect(p).toBeCloseTo(-18, 5);
    expect(heldPeakDb(p, -3, 20)).toBe(-3);
  });
});
