// HTTPS with automatic certificates against a real ACME server (Debian's pebble): a certificate is
// issued for localhost over HTTP-01 on Antenna's plain port, listener mounts, HLS and the API answer
// over HTTPS (h2 and HTTP/1.1) with a chain to pebble's root, plain HTTP redirects per policy, a restart
// reuses the kept certificate, a renewal swaps it while listeners and an HLS player keep going, and a
// CA that cannot be reached leaves plain HTTP serving with the reason in the status API.
import type { IncomingMessage } from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AntennaEvents } from '../../src/types/events.js';
import { ADMIN_PASSWORD, startAntenna, type TestAntenna } from '../helpers/antenna.js';
import { freePort, missing, until } from '../helpers/interop-programs.js';
import { startPebble, type Pebble } from '../helpers/pebble.js';

const skip = missing('pebble', 'openssl');
const ADMIN = 'Basic ' + Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64');

interface Handshake {
  readonly alpn: string | false | null;
  readonly serial: string;
  readonly authorized: boolean;
}

/** A TLS handshake verified against `root` for the name localhost. */
function handshake(port: number, root: string, alpn = ['h2', 'http/1.1']): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: root, ALPNProtocols: alpn }, () => {
      resolve({ alpn: s.alpnProtocol, serial: s.getPeerCertificate().serialNumber, authorized: s.authorized });
      s.destroy();
    });
    s.on('error', reject);
  });
}

interface H2Get {
  readonly status: number;
  readonly headers: http2.IncomingHttpHeaders;
  readonly body: Buffer;
}

function h2get(session: http2.ClientHttp2Session, path: string, headers: http2.OutgoingHttpHeaders = {}): Promise<H2Get> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': path, ...headers });
    const chunks: Buffer[] = [];
    let head: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => (head = h));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks) }));
    req.on('error', reject);
  });
}

/** An endless listener over an h2 stream of `session`, counting bytes. */
function h2listener(session: http2.ClientHttp2Session, path: string): { bytes: () => number; status: Promise<number>; close(): void } {
  const req = session.request({ ':path': path, 'user-agent': 'test-h2-listener' });
  let n = 0;
  const status = new Promise<number>((resolve) => req.on('response', (h) => resolve(Number(h[':status']))));
  req.on('data', (c: Buffer) => (n += c.length));
  req.on('error', () => undefined);
  return { bytes: () => n, status, close: () => req.close() };
}

/** An endless listener over HTTPS/1.1, counting bytes. */
function h1listener(port: number, root: string, path: string): { bytes: () => number; status: Promise<number>; close(): void } {
  let n = 0;
  let res: IncomingMessage | undefined;
  const status = new Promise<number>((resolve, reject) => {
    const req = https.get(
      {
        host: '127.0.0.1',
        port,
        path,
        servername: 'localhost',
        ca: root,
        agent: false,
        headers: { host: 'localhost', 'user-agent': 'test-h1-listener' },
      },
      (r) => {
        res = r;
        r.on('data', (c: Buffer) => (n += c.length));
        r.on('error', () => undefined);
        resolve(r.statusCode ?? 0);
      },
    );
    req.on('error', reject);
  });
  return { bytes: () => n, status, close: () => res?.destroy() };
}

function plainGet(port: number, path: string): Promise<{ status: number; location: string | undefined }> {
  return fetch(`http://127.0.0.1:${port}${path}`, { redirect: 'manual', headers: { host: `localhost:${port}` } }).then(async (r) => {
    const status = r.status;
    const location = r.headers.get('location') ?? undefined;
    // Listener responses never end: read nothing more.
    await r.body?.cancel();
    return { status, location };
  });
}

describe.skipIf(skip)(`TLS with ACME against pebble${skip ? ` (skipped: ${skip} not installed)` : ''}`, () => {
  let pebble: Pebble;
  let root: string;
  let httpPort: number;
  let dataDir: string;
  let server: TestAntenna | undefined;
  const seen: { name: keyof AntennaEvents; payload: unknown }[] = [];

  const start = async (overrides: Record<string, unknown> = {}): Promise<TestAntenna> => {
    const t = await startAntenna(
      {
        domains: 'localhost',
        acmeDirectory: pebble.directory,
        acmeCaFile: pebble.caFile,
        acmeEmail: 'ops@example.org',
        httpPort,
        httpsPort: 0,
        dataDir,
        ...overrides,
      },
      { emergencyTone: 440, record: false },
    );
    for (const name of ['certificate-issued', 'certificate-renewed', 'certificate-failed', 'certificate-expiring'] as const)
      t.antenna.events.on(name, (payload) => seen.push({ name, payload }));
    return t;
  };
  const stop = async (): Promise<void> => {
    // stop() removes the helper's temp dir (the tone file); the data dir is ours and survives a restart.
    await server?.stop();
    server = undefined;
  };

  beforeAll(async () => {
    httpPort = await freePort();
    pebble = await startPebble(httpPort);
    root = await pebble.root();
    dataDir = mkdtempSync(join(tmpdir(), 'antenna-tls-data-'));
  });
  afterAll(async () => {
    await stop();
    await pebble?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('issues a certificate for localhost and serves mounts, HLS and the API over HTTPS (h2 and HTTP/1.1)', async () => {
    server = await start();
    const a = server.antenna;
    // Start-up did not wait for the CA: plain HTTP answers at once.
    expect((await plainGet(httpPort, '/listen/live.mp3')).status).toBe(200);
    await until('certificate issued', 60_000, () =>
      a.ports.https !== undefined && a.snapshot().tls?.state === 'valid' ? true : undefined,
    );
    const port = a.ports.https as number;

    const hs = await handshake(port, root);
    expect(hs.authorized).toBe(true); // chain to pebble's root, for the name localhost
    expect(hs.alpn).toBe('h2');
    expect((await handshake(port, root, ['http/1.1'])).alpn).toBe('http/1.1');

    // Kept in the data dir, owner-only.
    for (const f of ['account-key.pem', 'key.pem', 'cert.pem']) expect(statSync(join(dataDir, 'tls', f)).mode & 0o777).toBe(0o600);

    const session = http2.connect(`https://127.0.0.1:${port}`, { ca: root, servername: 'localhost' });
    try {
      const master = await h2get(session, '/hls/master.m3u8');
      expect(master.status).toBe(200);
      expect(master.body.toString()).toContain('#EXTM3U');
      const st = await h2get(session, '/api/status', { authorization: ADMIN });
      expect(st.status).toBe(200);
      const cert = (JSON.parse(st.body.toString()) as { components: { certificate: Record<string, unknown>; http: unknown[] } }).components;
      expect(cert.certificate).toMatchObject({ source: 'acme', domains: ['localhost'], state: 'valid', lastError: null });
      expect(cert.http).toContainEqual({ protocol: 'https', port });
      // Listen URLs follow the transport, on the host of the certificate (publicHostname defaults to it).
      expect((await h2get(session, '/listen/live.mp3.m3u')).body.toString().trim()).toBe(`https://localhost:${port}/listen/live.mp3`);
      const plainM3u = await fetch(`http://127.0.0.1:${httpPort}/listen/live.mp3.m3u`);
      expect((await plainM3u.text()).trim()).toBe(`http://localhost:${httpPort}/listen/live.mp3`);

      // A mount over an h2 stream: the same burst and bytes as over HTTP/1.
      const l2 = h2listener(session, '/listen/live.mp3');
      expect(await l2.status).toBe(200);
      const l1 = h1listener(port, root, '/listen/live.mp3');
      expect(await l1.status).toBe(200);
      await until('both TLS listeners receive audio', 20_000, () => (l1.bytes() > 100_000 && l2.bytes() > 100_000 ? true : undefined));
      const mount = a.snapshot().mounts.mounts.find((m) => m.mount === '/listen/live.mp3');
      expect(mount?.listeners).toBeGreaterThanOrEqual(2);
      l1.close();
      l2.close();
      await until('listeners counted out', 10_000, () => (a.snapshot().mounts.listeners === 0 ? true : undefined)).catch(
        async (err: Error) => {
          const counts = a.snapshot().mounts.mounts.map((m) => `${m.mount}=${m.listeners}`);
          // Which transport's departure was missed: the admin list names each listener's user agent.
          const left = await fetch(`http://127.0.0.1:${httpPort}/admin/listclients?mount=/listen/live.mp3`, {
            headers: { authorization: ADMIN },
          });
          throw new Error(`${err.message}; still counted: ${counts.join(' ')}; listclients: ${await left.text()}`);
        },
      );
    } finally {
      session.close();
    }
    expect(seen.some((e) => e.name === 'certificate-issued')).toBe(true);
  });

  it('redirects plain HTTP by policy (admin: API moves, listeners and HLS stay), ACME challenges never', async () => {
    const a = (server as TestAntenna).antenna;
    const port = a.ports.https as number;
    const api = await plainGet(httpPort, '/api/status');
    expect(api.status).toBe(308);
    expect(api.location).toBe(`https://localhost:${port}/api/status`);
    expect((await plainGet(httpPort, '/listen/live.mp3')).status).toBe(200);
    expect((await plainGet(httpPort, '/hls/master.m3u8')).status).toBe(200);
    expect((await plainGet(httpPort, '/status-json.xsl')).status).toBe(200);
    expect((await plainGet(httpPort, '/.well-known/acme-challenge/unknown-token')).status).toBe(404);
  });

  it('swaps in a renewed certificate live: an HTTPS listener, an h2 listener and an HLS player keep going', async () => {
    const a = (server as TestAntenna).antenna;
    const port = a.ports.https as number;
    const before = await handshake(port, root);
    const session = http2.connect(`https://127.0.0.1:${port}`, { ca: root, servername: 'localhost' });
    try {
      const l2 = h2listener(session, '/listen/live.aac');
      const l1 = h1listener(port, root, '/listen/live.mp3');
      expect(await l1.status).toBe(200);
      expect(await l2.status).toBe(200);
      await until('listeners playing', 20_000, () => (l1.bytes() > 50_000 && l2.bytes() > 20_000 ? true : undefined));

      await a.commands.renewCertificate();
      expect(a.snapshot().tls).toMatchObject({ state: 'valid', renewals: 1, lastError: null });
      const after = await until('new handshakes get the new certificate', 10_000, async () => {
        const h = await handshake(port, root);
        return h.serial !== before.serial ? h : undefined;
      });
      expect(after.authorized).toBe(true);
      expect(seen.some((e) => e.name === 'certificate-renewed')).toBe(true);

      // The connections made before the swap carry on: more audio, and the HLS player's next playlist.
      const [b1, b2] = [l1.bytes(), l2.bytes()];
      await until('listeners still receive audio after the swap', 20_000, () =>
        l1.bytes() > b1 + 50_000 && l2.bytes() > b2 + 20_000 ? true : undefined,
      );
      const media = await h2get(session, '/hls/aac_64k/index.m3u8');
      expect(media.status).toBe(200);
      expect(media.body.toString()).toContain('#EXTINF');
      expect(a.snapshot().mounts.listeners).toBe(2);
      l1.close();
      l2.close();
    } finally {
      session.close();
    }
  });

  it('reuses the kept certificate on restart: HTTPS is up before start-up resolves, no new order', async () => {
    const a = (server as TestAntenna).antenna;
    const served = await handshake(a.ports.https as number, root);
    await stop();
    // (The next test stops this server whatever happens here.)
    const ordersBefore = (pebble.proc.output.text.match(/POST \/order-plz/g) ?? []).length;
    seen.length = 0;
    server = await start();
    const b = server.antenna;
    expect(b.ports.https).toBeDefined();
    expect(b.snapshot().tls).toMatchObject({ state: 'valid' });
    expect((await handshake(b.ports.https as number, root)).serial).toBe(served.serial);
    // (The kept certificate's certificate-issued { kept: true } is emitted inside createAntenna, before this
    // test could subscribe; observers built by the composition root hear it.)
    expect(b.snapshot().tls).toMatchObject({ renewals: 0, failures: 0, renewing: false });
    await new Promise((r) => setTimeout(r, 1000));
    expect(ordersBefore).toBeGreaterThan(0);
    expect((pebble.proc.output.text.match(/POST \/order-plz/g) ?? []).length).toBe(ordersBefore);
    expect(seen.filter((e) => e.name !== 'certificate-issued')).toEqual([]);
  });

  it('keeps plain HTTP serving when the CA cannot be reached, and says why in the status API', async () => {
    await stop();
    const emptyData = mkdtempSync(join(tmpdir(), 'antenna-tls-fail-'));
    const closed = await freePort();
    try {
      seen.length = 0;
      server = await start({ dataDir: emptyData, acmeDirectory: `https://127.0.0.1:${closed}/dir` });
      const a = server.antenna;
      expect((await plainGet(httpPort, '/listen/live.mp3')).status).toBe(200);
      const failed = await until('certificate-failed', 60_000, () => seen.find((e) => e.name === 'certificate-failed'));
      expect(failed.payload).toMatchObject({ reason: 'ca-unreachable', code: 'TLS_ISSUANCE_FAILED', attempt: 1 });
      const r = await fetch(`http://127.0.0.1:${httpPort}/api/status`, { headers: { authorization: ADMIN } });
      // No certificate, so no redirect: the API answers on plain HTTP.
      expect(r.status).toBe(200);
      const cert = ((await r.json()) as { components: { certificate: Record<string, unknown> } }).components.certificate;
      expect(cert).toMatchObject({ state: 'none', lastError: { reason: 'ca-unreachable', code: 'TLS_ISSUANCE_FAILED' } });
      expect(cert.nextAttemptAt).toBeGreaterThan(Date.now());
      expect(a.ports.https).toBeUndefined();
    } finally {
      await stop();
      rmSync(emptyData, { recursive: true, force: true });
    }
  });
});
