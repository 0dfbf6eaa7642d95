// Issue 13 §2 on the real server: idle connections (no request line, ever) once filled a source port's
// 32 slots, so the studio's own encoder got `403 Forbidden` and its title updates `403 Icecast
// connection limit reached`, for as long as an attacker kept reconnecting.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { antennaFixture, SOURCE_PASSWORD } from '../helpers/antenna.js';
import { ATTACKERS, idleFlood } from '../helpers/attackers.js';
import { listen } from '../helpers/listener.js';
import { rawExchange } from '../helpers/source-client.js';

const f = antennaFixture();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('idle connections on the source ports (issue 13 §2)', () => {
  it('hundreds of idle connections from one address or several never keep the studio off air', async () => {
    const t = await f.start(
      { mounts: [{ mount: '/listen/live.mp3', codec: 'mp3', bitrate: 128_000 }], hlsTiers: [{ name: '64k', bitrate: 64_000 }] },
      { record: false },
    );
    const { primary, fallback } = t.antenna.ports;
    // 300 from one address to the fallback port, 5 × 60 from five addresses to the primary port.
    const one = f.track(await idleFlood(fallback, ['127.0.0.2'], 300));
    const many = f.track(await idleFlood(primary, ATTACKERS, 60));
    await sleep(200);

    const started = performance.now();
    f.source('fallback', { frequency: 660 });
    let connectedMs: number | undefined;
    while (connectedMs === undefined && performance.now() - started < 10_000) {
      if (t.antenna.snapshot().inputs.fallback.source.state !== 'idle') connectedMs = performance.now() - started;
      else await sleep(20);
    }
    expect(connectedMs, 'the studio source was never accepted').toBeDefined();
    // ffmpeg's own start-up is most of this; the issue's bound is a second.
    expect(connectedMs as number).toBeLessThan(3000);

    const update = await rawExchange(
      primary,
      `GET /admin/metadata?mode=updinfo&mount=/live&song=Studio HTTP/1.0\r\nAuthorization: ${basic('source', SOURCE_PASSWORD)}\r\n\r\n`,
    );
    expect(update.toString()).toMatch(/Metadata update successful/);

    // The flood crowded out only itself: the server closed all but a bounded number of its sockets.
    const pending = t.antenna.snapshot().ingest.connections;
    for (const p of pending) expect(p.pending).toBeLessThanOrEqual(32);
    expect(one.open()).toBeLessThanOrEqual(8);
    expect(many.open()).toBeLessThanOrEqual(32);
    expect(one.closedByServer() + many.closedByServer()).toBeGreaterThan(500);
    console.log(
      `studio source accepted ${Math.round(connectedMs as number)} ms after start, with ${one.opened + many.opened} idle connections opened`,
    );
  }, 40_000);

  it('failed logins on both surfaces are counted in the status snapshot (issue 13 §4)', async () => {
    const t = await f.start(
      { mounts: [{ mount: '/listen/live.mp3', codec: 'mp3', bitrate: 128_000 }], hlsTiers: [{ name: '64k', bitrate: 64_000 }] },
      { record: false },
    );
    const { primary, http } = t.antenna.ports;
    const wrong = basic('admin', 'not-the-password');
    for (let i = 0; i < 3; i++)
      expect((await fetch(`http://127.0.0.1:${http}/admin/stats`, { headers: { authorization: wrong } })).status).toBe(401);
    const reply = await rawExchange(
      primary,
      `GET /admin/metadata?mode=updinfo&song=x HTTP/1.0\r\nAuthorization: ${basic('source', 'nope')}\r\n\r\n`,
    );
    expect(reply.toString()).toMatch(/^HTTP\/1\.0 401/);
    // libshout's first, credential-less request is part of its protocol, not a failed login.
    await rawExchange(primary, 'GET /admin/metadata?mode=updinfo&song=x HTTP/1.0\r\n\r\n');
    expect(t.antenna.snapshot().auth).toEqual({ failures: 4, delayed: 0, throttledAddresses: 0 });
  });

  it('kept-alive connections idle after one cheap request count as idle again on the HTTP port (issue 13 §3)', async () => {
    const t = await f.start(
      {
        mounts: [{ mount: '/listen/live.mp3', codec: 'mp3', bitrate: 128_000 }],
        hlsTiers: [{ name: '64k', bitrate: 64_000 }],
        httpMaxPendingPerAddress: 8,
      },
      { record: false },
    );
    const { http } = t.antenna.ports;
    const sockets: net.Socket[] = [];
    f.track({ close: async () => sockets.forEach((s) => s.destroy()) });
    const answered = await Promise.all(
      Array.from({ length: 20 }, () => {
        const s = net.connect({ host: '127.0.0.1', port: http, localAddress: '127.0.0.2' });
        sockets.push(s);
        s.on('error', () => undefined);
        s.write('GET /status-json.xsl HTTP/1.1\r\nHost: x\r\n\r\n');
        return new Promise<boolean>((r) => s.once('data', () => r(true)));
      }),
    );
    expect(answered.every(Boolean)).toBe(true);
    // Every one was answered; then, idle, they are bounded per address like connections that never asked
    // (once the 2 s grace for requests not yet read has passed, and the next sweep has run).
    await sleep(3500);
    expect(sockets.filter((s) => !s.destroyed).length).toBeLessThanOrEqual(8);
    const l = listen(http, '/listen/live.mp3');
    f.track({ close: async () => l.close() });
    await (
      await l.head
    ).status;
    await sleep(500);
    expect(t.antenna.snapshot().http.pending).toBeLessThanOrEqual(8);
  });
});
