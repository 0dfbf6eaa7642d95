// The HTTPS side of the HTTP front with a certificate brought as files (test/fixtures/tls: throwaway
// self-signed pairs for localhost, not secrets): listener mounts over h2 streams (burst, counts, HEAD,
// no ICY, slow-listener drop), HTTPS/1.1 listeners, the connection guard on the TLS port, the redirect
// policy, a certificate file replaced while running, public URLs that follow the request's transport,
// HSTS, and one descriptor pool for both ports.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Antenna } from '../../src/app.js';
import { pino } from 'pino';
import { LISTEN_BACKLOG, buildHttpServer, listenHttp } from '../../src/http/server.js';
import { loadConfig } from '../../src/config/load.js';
import { ADMIN_PASSWORD, antennaFixture } from '../helpers/antenna.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const fx = antennaFixture();
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

async function until<T>(what: string, ms: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Copies of fixture pair `a` in a temp dir (so a test may overwrite them). */
function certFiles(): { cert: string; key: string } {
  const d = mkdtempSync(join(tmpdir(), 'antenna-https-'));
  dirs.push(d);
  copyFileSync(join(FIXTURES, 'cert-a.pem'), join(d, 'cert.pem'));
  copyFileSync(join(FIXTURES, 'key-a.pem'), join(d, 'key.pem'));
  return { cert: join(d, 'cert.pem'), key: join(d, 'key.pem') };
}

async function startTls(
  overrides: Record<string, unknown> = {},
): Promise<{ a: Antenna; port: number; files: { cert: string; key: string } }> {
  const files = certFiles();
  const t = await fx.start(
    { tlsCertFile: files.cert, tlsKeyFile: files.key, httpsPort: 0, ...overrides },
    { emergencyTone: 440, record: false },
  );
  const port = t.antenna.ports.https;
  if (port === undefined) throw new Error('no HTTPS port');
  return { a: t.antenna, port, files };
}

function connect(port: number, settings: http2.Settings = {}): http2.ClientHttp2Session {
  const s = http2.connect(`https://127.0.0.1:${port}`, { ca: [tlsFixture('a'), tlsFixture('b')], servername: 'localhost', settings });
  s.on('error', () => undefined);
  return s;
}

interface Got {
  readonly status: number;
  readonly headers: http2.IncomingHttpHeaders;
  readonly text: string;
}

function h2get(session: http2.ClientHttp2Session, path: string, headers: http2.OutgoingHttpHeaders = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': path, ...headers });
    let head: http2.IncomingHttpHeaders = {};
    let text = '';
    req.setEncoding('utf8');
    req.on('response', (h) => (head = h));
    req.on('data', (c: string) => (text += c));
    req.on('end', () => resolve({ status: Number(head[':status']), headers: head, text }));
    req.on('error', reject);
  });
}

const ADMIN = 'Basic ' + Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64');

/** Every listen URL the public surfaces give for `/listen/live.mp3` (and HLS), fetched by `get`. */
async function listenUrls(
  get: (path: string, headers?: Record<string, string>) => Promise<{ status: number; text: string }>,
): Promise<string[]> {
  const m3u = await get('/listen/live.mp3.m3u');
  const xspf = await get('/listen/live.mp3.xspf');
  const status = JSON.parse((await get('/status-json.xsl')).text) as { icestats: { source: { listenurl: string }[] } };
  const stats = await get('/admin/stats', { authorization: ADMIN });
  const np = JSON.parse((await get('/api/nowplaying')).text) as {
    station: { listen_url: string; hls_url: string; mounts: { url: string }[] };
  };
  for (const r of [m3u, xspf, stats]) expect(r.status).toBe(200);
  return [
    m3u.text.trim(),
    /<location>([^<]+)<\/location>/.exec(xspf.text)?.[1] ?? 'no location',
    status.icestats.source.find((x) => x.listenurl.endsWith('/listen/live.mp3'))?.listenurl ?? 'no listenurl',
    /<listenurl>([^<]*\/listen\/live\.mp3)<\/listenurl>/.exec(stats.text)?.[1] ?? 'no listenurl',
    np.station.listen_url,
    np.station.mounts[0]?.url ?? 'no mount',
    np.station.hls_url.replace('/hls/master.m3u8', '/listen/live.mp3'),
  ];
}

function tlsFixture(n: 'a' | 'b'): string {
  return readFileSync(join(FIXTURES, `cert-${n}.pem`), 'utf8');
}

describe('HTTPS front (certificate files)', () => {
  it('streams a mount over an h2 stream: burst, counted, no ICY even when asked, gone when the stream closes', async () => {
    const { a, port } = await startTls();
    expect(a.snapshot().tls).toMatchObject({ source: 'file', state: 'valid', domains: ['localhost'] });
    const session = connect(port);
    try {
      const head = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        const r = session.request({ ':path': '/listen/live.mp3', ':method': 'HEAD', 'icy-metadata': '1' });
        r.on('response', resolve);
        r.on('error', reject);
        r.resume();
      });
      expect(head[':status']).toBe(200);
      expect(head['content-type']).toBe('audio/mpeg');
      expect(head['icy-metaint']).toBeUndefined();
      expect(head.connection).toBeUndefined();

      const req = session.request({ ':path': '/listen/live.mp3', 'icy-metadata': '1' });
      let bytes = 0;
      let first: Buffer | undefined;
      req.on('data', (c: Buffer) => {
        first ??= c;
        bytes += c.length;
      });
      // The 2 s burst of a 320 kbit/s mount arrives at once (80 KB).
      await until('the burst', 10_000, () => (bytes >= 70_000 ? true : undefined));
      expect(((first as Buffer)[0] as number) & 0xff).toBe(0xff); // starts on an MPEG frame
      expect(a.snapshot().mounts.mounts.find((m) => m.mount === '/listen/live.mp3')?.listeners).toBe(1);
      req.close();
      await until('counted out', 5_000, () => (a.snapshot().mounts.listeners === 0 ? true : undefined));
    } finally {
      session.close();
    }
  });

  // A Node client's stream.close() sends RST_STREAM(NO_ERROR). Node 20 then closes the server's stream
  // only once its queued writes are done, and writes waiting on a flow-control window that will never
  // open are never done: without the fix, an endless response stays open and counted for good.
  it('counts out an h2 listener that resets its stream while its writes wait on flow control', async () => {
    const { a, port } = await startTls();
    const session = connect(port, { initialWindowSize: 4096 }); // a small window, full within the burst
    try {
      const req = session.request({ ':path': '/listen/live.mp3' });
      let bytes = 0;
      req.on('data', (c: Buffer) => (bytes += c.length));
      await until('the first bytes', 10_000, () => (bytes > 0 ? true : undefined));
      req.pause();
      await new Promise((r) => setTimeout(r, 1_000)); // 40 KB more of a 320 kbit/s mount: writes queue
      const left = new Promise<{ reason: string }>((resolve) => a.events.once('listener-disconnected', resolve));
      req.close();
      await until('counted out', 5_000, () => (a.snapshot().mounts.listeners === 0 ? true : undefined));
      expect((await left).reason).toBe('closed');
      expect(a.snapshot().mounts.mounts.find((m) => m.mount === '/listen/live.mp3')?.slowListeners).toBe(0);
    } finally {
      session.close();
    }
  });

  it('frees the live feed slot of an h2 client that resets its stream while its writes wait on flow control', async () => {
    const { port } = await startTls();
    const session = connect(port, { initialWindowSize: 1024 });
    const probe = connect(port);
    const liveClients = async (): Promise<number> =>
      (JSON.parse((await h2get(probe, '/api/status', { authorization: ADMIN })).text) as { components: { live: { clients: number } } })
        .components.live.clients;
    try {
      const req = session.request({ ':path': '/api/live', authorization: ADMIN });
      let bytes = 0;
      req.on('data', (c: Buffer) => (bytes += c.length));
      await until('the first events', 10_000, () => (bytes > 0 ? true : undefined));
      req.pause();
      expect(await liveClients()).toBe(1);
      await new Promise((r) => setTimeout(r, 1_500)); // levels at 10 Hz overrun a 1 KB window
      req.close();
      await until('the slot freed', 5_000, async () => ((await liveClients()) === 0 ? true : undefined));
    } finally {
      session.close();
      probe.close();
    }
  });

  it('drops an h2 listener that stops reading, past the byte bound, without touching the connection', async () => {
    const { a, port } = await startTls({ queueBytes: 65_536 });
    const session = connect(port);
    try {
      const slow = session.request({ ':path': '/listen/live.mp3' });
      slow.pause(); // flow control stops the server's stream once the windows are full
      const ok = session.request({ ':path': '/listen/live-64.aac' });
      let okBytes = 0;
      ok.on('data', (c: Buffer) => (okBytes += c.length));
      await until('the slow listener dropped', 30_000, () =>
        (a.snapshot().mounts.mounts.find((m) => m.mount === '/listen/live.mp3')?.slowListeners ?? 0) > 0 ? true : undefined,
      );
      const before = okBytes;
      await until('the other stream on the same connection keeps playing', 10_000, () => (okBytes > before + 8_000 ? true : undefined));
      expect(a.snapshot().mounts.listeners).toBe(1);
      ok.close();
    } finally {
      session.close();
    }
  });

  it('serves HTTPS/1.1 listeners with the raw Icecast head and ICY metadata', async () => {
    const { port } = await startTls();
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: tlsFixture('a'), ALPNProtocols: ['http/1.1'] });
    try {
      await new Promise<void>((resolve, reject) => s.once('secureConnect', resolve).once('error', reject));
      expect(s.alpnProtocol).toBe('http/1.1');
      s.write('GET /listen/live.mp3 HTTP/1.0\r\nHost: localhost\r\nIcy-MetaData: 1\r\n\r\n');
      let text = '';
      s.on('data', (c: Buffer) => (text += c.toString('latin1')));
      await until('the head', 10_000, () => (text.includes('\r\n\r\n') ? true : undefined));
      expect(text.startsWith('HTTP/1.0 200 OK\r\n')).toBe(true);
      expect(text).toContain('icy-metaint:16000');
    } finally {
      s.destroy();
    }
  });

  it.skipIf(spawnSync('ss', ['-V']).status !== 0)(
    'listens with an accept queue of 4,096 on both ports (or somaxconn, if lower): a connect storm is queued, not dropped',
    async () => {
      const { a, port } = await startTls();
      const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
      // ss: for a listening socket, Send-Q is its backlog.
      const backlog = (p: number): number => {
        const line =
          spawnSync('ss', ['-Hltn', `sport = :${p}`], { encoding: 'utf8' })
            .stdout.trim()
            .split('\n')[0] ?? '';
        return Number(line.split(/\s+/)[2]);
      };
      expect(backlog(port)).toBe(Math.min(LISTEN_BACKLOG, somaxconn));
      expect(backlog(a.ports.http)).toBe(Math.min(LISTEN_BACKLOG, somaxconn));
    },
  );

  it('closes a TCP connection to the HTTPS port that never completes a handshake', async () => {
    const { a, port } = await startTls({ httpHeadTimeoutMs: 1000 });
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    const t0 = Date.now();
    await new Promise<void>((resolve) => s.once('close', () => resolve()));
    expect(Date.now() - t0).toBeLessThan(10_000);
    await until('the guard counts it out', 5_000, () => (a.snapshot().http.pending === 0 ? true : undefined));
  });

  it('redirects every plain-HTTP path but the ACME challenge with httpRedirect=all', async () => {
    const { a, port } = await startTls({ httpRedirect: 'all' });
    const r = await fetch(`http://127.0.0.1:${a.ports.http}/listen/live.mp3`, { redirect: 'manual', headers: { host: 'localhost' } });
    expect(r.status).toBe(308);
    expect(r.headers.get('location')).toBe(`https://localhost:${port}/listen/live.mp3`);
    // A Host the certificate does not name is never echoed into the redirect.
    const evil = await fetch(`http://127.0.0.1:${a.ports.http}/api/status`, { redirect: 'manual', headers: { host: 'evil.example' } });
    expect(evil.headers.get('location')).toBe(`https://localhost:${port}/api/status`);
  });

  it('swaps in a replaced certificate file for new handshakes; the open h2 listener keeps playing', async () => {
    const { a, port, files } = await startTls();
    const serial = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: [tlsFixture('a'), tlsFixture('b')] }, () => {
          resolve(s.getPeerCertificate().serialNumber);
          s.destroy();
        });
        s.on('error', reject);
      });
    const before = await serial();
    const renewed: unknown[] = [];
    a.events.on('certificate-renewed', (p) => renewed.push(p));
    const session = connect(port);
    try {
      const req = session.request({ ':path': '/listen/live-64.aac' });
      let bytes = 0;
      req.on('data', (c: Buffer) => (bytes += c.length));
      await until('playing', 10_000, () => (bytes > 10_000 ? true : undefined));
      copyFileSync(join(FIXTURES, 'key-b.pem'), files.key);
      copyFileSync(join(FIXTURES, 'cert-b.pem'), files.cert);
      await until('the new certificate is served', 20_000, async () => ((await serial()) !== before ? true : undefined));
      expect(renewed).toHaveLength(1);
      const b = bytes;
      await until('the listener keeps playing', 10_000, () => (bytes > b + 8_000 ? true : undefined));
      req.close();
    } finally {
      session.close();
    }
  });

  it('gives https listen URLs on the HTTPS port to a request over HTTPS, http URLs to one over plain HTTP', async () => {
    const { a, port } = await startTls({ httpRedirect: 'none' });
    const session = connect(port);
    try {
      const overTls = await listenUrls(async (path, headers = {}) => {
        const r = await h2get(session, path, headers);
        return { status: r.status, text: r.text };
      });
      expect(new Set(overTls)).toEqual(new Set([`https://localhost:${port}/listen/live.mp3`]));
      const plain = await listenUrls(async (path, headers = {}) => {
        const r = await fetch(`http://127.0.0.1:${a.ports.http}${path}`, { headers });
        return { status: r.status, text: await r.text() };
      });
      expect(new Set(plain)).toEqual(new Set([`http://localhost:${a.ports.http}/listen/live.mp3`]));
      // Prometheus labels name a mount whatever the scrape's transport: the plain URL on both.
      const metrics = await h2get(session, '/metrics', { authorization: ADMIN });
      expect(metrics.text).toContain(`listenurl="http://localhost:${a.ports.http}/listen/live.mp3"`);
    } finally {
      session.close();
    }
  });

  it('sends HSTS on HTTPS responses only when the public ports are 443 and 80; the redirect and URLs use the public ports', async () => {
    // Bound on free ports, public on 80/443 (a router or firewall forwarding them), so HSTS applies.
    const { a, port } = await startTls({ publicHttpPort: 80, publicHttpsPort: 443, publicHostname: 'localhost' });
    const session = connect(port);
    try {
      for (const path of ['/api/config', '/status-json.xsl', '/listen/live.mp3.m3u', '/hls/master.m3u8']) {
        const r = await h2get(session, path);
        expect([path, r.status, r.headers['strict-transport-security']]).toEqual([path, 200, 'max-age=31536000']);
      }
      expect((await h2get(session, '/listen/live.mp3.m3u')).text.trim()).toBe('https://localhost/listen/live.mp3');
      const plain = await fetch(`http://127.0.0.1:${a.ports.http}/listen/live.mp3.m3u`);
      expect(plain.headers.get('strict-transport-security')).toBeNull();
      expect((await plain.text()).trim()).toBe('http://localhost/listen/live.mp3');
      const redirect = await fetch(`http://127.0.0.1:${a.ports.http}/api/status`, { redirect: 'manual', headers: { host: 'localhost' } });
      expect([redirect.status, redirect.headers.get('location'), redirect.headers.get('strict-transport-security')]).toEqual([
        308,
        'https://localhost/api/status',
        null,
      ]);
    } finally {
      session.close();
    }
  });

  it('sends no HSTS when HTTPS is on another port (a browser would upgrade http://host:P to https://host:P); max-age 0 clears it', async () => {
    const { port } = await startTls();
    const session = connect(port);
    try {
      expect((await h2get(session, '/api/config')).headers['strict-transport-security']).toBeUndefined();
    } finally {
      session.close();
    }
    await fx.t.stop();
    const again = await startTls({ publicHttpPort: 80, publicHttpsPort: 443, hstsMaxAge: 0 });
    const s2 = connect(again.port);
    try {
      expect((await h2get(s2, '/api/config')).headers['strict-transport-security']).toBe('max-age=0');
    } finally {
      s2.close();
    }
  });
});

describe('descriptor budget of the HTTP front', () => {
  it('the plain and the HTTPS port share one pool: sockets held on one leave no room on the other', async () => {
    const config = loadConfig({ env: {}, overrides: { httpPort: 0, httpsPort: 0, host: '127.0.0.1', tlsCertFile: 'x', tlsKeyFile: 'y' } });
    const app = buildHttpServer({ config, log: pino({ level: 'silent' }), budget: { maxConnections: 3, maxPending: 100 } });
    const sockets: net.Socket[] = [];
    try {
      const httpPort = await listenHttp(app, config);
      const httpsPort = await app.https.serve({ certPem: tlsFixture('a'), keyPem: readFileSync(join(FIXTURES, 'key-a.pem'), 'utf8') });
      const handshake = (): Promise<boolean> =>
        new Promise((resolve) => {
          const s = tls.connect({ host: '127.0.0.1', port: httpsPort, servername: 'localhost', ca: tlsFixture('a') }, () => resolve(true));
          sockets.push(s);
          s.on('error', () => resolve(false));
          s.on('close', () => resolve(false));
        });
      expect(await handshake()).toBe(true);
      for (let i = 0; i < 2; i++) {
        const s = net.connect(httpPort, '127.0.0.1');
        sockets.push(s);
        await new Promise((r) => s.once('connect', r));
      }
      await until('three held', 5_000, () => (app.connectionPool.open === 3 ? true : undefined));
      // Each port holds less than the budget, but together they hold all of it.
      expect(await handshake()).toBe(false);
      expect(app.connectionPool.refused).toBe(1);
      sockets[1]?.destroy();
      await until('a place freed', 5_000, () => (app.connectionPool.open === 2 ? true : undefined));
      expect(await handshake()).toBe(true);
    } finally {
      for (const s of sockets) s.destroy();
      await app.close();
    }
  });
});

describe('h2 streams the peer resets', () => {
  it('closes a finished response whose body waits on flow control when the peer resets it (Node 20 kept it and its body)', async () => {
    const config = loadConfig({ env: {}, overrides: { httpPort: 0, httpsPort: 0, host: '127.0.0.1', tlsCertFile: 'x', tlsKeyFile: 'y' } });
    const app = buildHttpServer({ config, log: pino({ level: 'silent' }), budget: { maxConnections: 100, maxPending: 100 } });
    let closed = 0;
    app.get('/big', (_req, reply) => {
      reply.raw.once('close', () => closed++);
      return reply.header('content-type', 'application/octet-stream').send(Buffer.alloc(256 * 1024));
    });
    let session: http2.ClientHttp2Session | undefined;
    try {
      await listenHttp(app, config);
      const port = await app.https.serve({ certPem: tlsFixture('a'), keyPem: readFileSync(join(FIXTURES, 'key-a.pem'), 'utf8') });
      session = connect(port, { initialWindowSize: 4096 });
      const req = session.request({ ':path': '/big' });
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        bytes += c.length;
        req.pause(); // the rest of the body waits on the 4 KB window
      });
      await until('the first bytes', 5_000, () => (bytes > 0 ? true : undefined));
      await new Promise((r) => setTimeout(r, 300));
      expect(closed).toBe(0);
      req.close();
      await until('the response closed', 5_000, () => (closed === 1 ? true : undefined));
    } finally {
      session?.close();
      await app.close();
    }
  });
});
