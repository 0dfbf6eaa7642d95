// A stock Debian Icecast 2.4.4 as a relay edge of Antenna, the two ways stations set one up:
// <relay> per mount, and <master-server> (the edge polls /admin/streamlist.txt with the relay user).
// A listener on the edge must hear Antenna's audio and its ICY title.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeToPcm, dominantTones, rmsDb } from '../helpers/interop-audio.js';
import { getText, readIcy } from '../helpers/interop-http.js';
import { startIcecast, type Icecast } from '../helpers/interop-icecast.js';
import { missing, until } from '../helpers/interop-programs.js';
import { startAntenna, type AntennaServer, stopCleanly } from '../helpers/interop-server.js';

const skip = missing('icecast2');
const EMERGENCY_TONE = 523;
const TITLE = 'Interop Emergency Tone';
const STATION = 'Interop Station';
const MOUNTS = ['/listen/live.mp3', '/listen/live-128.mp3'];

interface EdgeSource {
  listenurl?: string;
  server_name?: string;
  title?: unknown;
}

async function edgeSources(edge: Icecast): Promise<EdgeSource[]> {
  const r = await getText(`${edge.base}/status-json.xsl`);
  const src = (JSON.parse(r.body) as { icestats: { source?: EdgeSource | EdgeSource[] } }).icestats.source;
  return src === undefined ? [] : Array.isArray(src) ? src : [src];
}

/** An edge listener: the ICY title (Node reader) and the decoded audio (ffmpeg as the client). */
async function expectEdgeListener(edge: Icecast, mount: string, describe: () => string): Promise<void> {
  const url = `${edge.base}${mount}`;
  const icy = await readIcy(url, { timeoutMs: 20_000, untilTitle: (t) => t === TITLE, minAudioBytes: 32_000 });
  expect(icy.status, `edge GET ${mount}: ${icy.error ?? ''}\n${edge.proc.output.text.slice(-2000)}`).toBe(200);
  expect(icy.titles, `ICY titles from the edge on ${mount}\n${describe()}`).toContain(TITLE);
  const decoded = await decodeToPcm(url, 4);
  expect(decoded.code, `ffmpeg on the edge ${mount}: ${decoded.stderr}`).toBe(0);
  expect(rmsDb(decoded.pcm), `level heard on the edge ${mount}`).toBeGreaterThan(-40);
  expect(dominantTones(decoded.pcm, [EMERGENCY_TONE, 440]), `tone heard on the edge ${mount}`).toContain(EMERGENCY_TONE);
}

describe.skipIf(skip !== undefined)(`stock Icecast 2.4.4 relaying Antenna${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let server: AntennaServer;
  const edges: Icecast[] = [];

  beforeAll(async () => {
    server = await startAntenna({
      env: {
        ANTENNA_STATION_NAME: STATION,
        ANTENNA_MOUNTS: JSON.stringify([
          { mount: '/listen/live.mp3', codec: 'mp3', bitrate: 320_000 },
          { mount: '/listen/live-128.mp3', codec: 'mp3', bitrate: 128_000 },
        ]),
        ANTENNA_HLS_TIERS: JSON.stringify([{ name: 'aac_64k', bitrate: 64_000 }]),
      },
    });
  });

  afterAll(async () => {
    for (const e of edges) await e.close();
    if (!server) return; // start-up failed: beforeAll already reported why
    await stopCleanly(server);
  });

  it('answers /admin/streamlist.txt to the relay user (password = admin password) and refuses others', async () => {
    const ok = await getText(`${server.httpBase}/admin/streamlist.txt`, { user: 'relay', pass: server.adminPassword });
    expect(ok.status, `GET /admin/streamlist.txt as relay: ${ok.body}\n${server.describe()}`).toBe(200);
    expect(ok.body.split(/\r?\n/).filter((l) => l !== '')).toEqual(expect.arrayContaining(MOUNTS));
    // Chunked bodies break Icecast's relay client (it never de-chunks).
    expect(ok.headers['transfer-encoding']).toBeUndefined();
    const bad = await getText(`${server.httpBase}/admin/streamlist.txt`, { user: 'relay', pass: 'wrong' });
    expect(bad.status).toBe(401);
    const none = await getText(`${server.httpBase}/admin/streamlist.txt`);
    expect(none.status).toBe(401);
  });

  it('relays both MP3 mounts by <relay>, with audio and ICY title', async () => {
    expect(server.httpBase).toMatch(/^http:/); // fails at once, saying why, while HTTP is not wired
    const edge = await startIcecast({
      relays: MOUNTS.map((m) => ({ server: '127.0.0.1', port: server.ports.http, mount: m, localMount: m.replace('/listen', '/edge') })),
    });
    edges.push(edge);
    await until('both <relay> mounts up on the edge', 30_000, async () => {
      const s = await edgeSources(edge);
      return s.length === 2 || undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}\n--- edge log ---\n${edge.proc.output.text.slice(-3000)}\n${server.describe()}`);
    });
    const sources = await edgeSources(edge);
    // The edge takes server_name from Antenna's icy-name.
    expect(sources.map((s) => s.server_name)).toEqual([STATION, STATION]);
    for (const m of MOUNTS) await expectEdgeListener(edge, m.replace('/listen', '/edge'), server.describe);
  });

  it('relays every mount by <master-server> (streamlist.txt), with audio and ICY title', async () => {
    expect(server.httpBase).toMatch(/^http:/);
    const edge = await startIcecast({
      master: { server: '127.0.0.1', port: server.ports.http, username: 'relay', password: server.adminPassword, intervalS: 5 },
    });
    edges.push(edge);
    await until('the master-server mounts up on the edge', 40_000, async () => {
      const urls = (await edgeSources(edge)).map((s) => new URL(s.listenurl ?? 'http://x/').pathname);
      return MOUNTS.every((m) => urls.includes(m)) || undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}\n--- edge log ---\n${edge.proc.output.text.slice(-3000)}\n${server.describe()}`);
    });
    for (const m of MOUNTS) await expectEdgeListener(edge, m, server.describe);
  });
});

describe.skipIf(skip !== undefined)(`relay password set separately${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let server: AntennaServer;
  beforeAll(async () => {
    server = await startAntenna({
      env: {
        ANTENNA_RELAY_PASSWORD: 'relay-only-pw',
        ANTENNA_MOUNTS: JSON.stringify([{ mount: '/listen/live-128.mp3', codec: 'mp3', bitrate: 128_000 }]),
        ANTENNA_HLS_TIERS: JSON.stringify([{ name: 'aac_64k', bitrate: 64_000 }]),
      },
    });
  });
  afterAll(async () => {
    if (!server) return;
    const r = await server.stop();
    expect(r.code).toBe(0);
    expect(r.leftovers).toEqual([]);
  });

  it('ANTENNA_RELAY_PASSWORD replaces the admin password for the relay user', async () => {
    const ok = await getText(`${server.httpBase}/admin/streamlist.txt`, { user: 'relay', pass: 'relay-only-pw' });
    expect(ok.status, ok.body).toBe(200);
    expect(ok.body).toContain('/listen/live-128.mp3');
    const admin = await getText(`${server.httpBase}/admin/streamlist.txt`, { user: 'relay', pass: server.adminPassword });
    expect(admin.status).toBe(401);
  });
});
