// The HTTPS side of the HTTP front with a certificate brought as files (test/fixtures/tls: throwaway
// self-signed pairs for localhost, not secrets): listener mounts over h2 streams (burst, counts, HEAD,
// no ICY, slow-listener drop), HTTPS/1.1 listeners, the connection guard on the TLS port, the redirect
// policy, and a certificate file replaced while running.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Antenna } from '../../src/app.js';
import { antennaFixture } from '../helpers/antenna.js';

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

function connect(port: number): http2.ClientHttp2Session {
  const s = http2.connect(`https://127.0.0.1:${port}`, { ca: [tlsFixture('a'), tlsFixture('b')], servername: 'localhost' });
  s.on('error', () => undefined);
  return s;
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
});
