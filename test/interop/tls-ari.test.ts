// ACME Renewal Information (RFC 9773) against a real CA: Debian's pebble 2.4 offers no `renewalInfo`, so
// a small HTTPS proxy in front of it adds one to the directory and answers `GET <renewalInfo>/<certID>`
// with a suggested window (the rest of the ACME conversation goes to pebble itself, at the URLs its
// directory names). Checked: the certID Antenna asks for is RFC 9773's for the certificate it serves
// (computed here by openssl, not by our own DER parser), a window already over renews at once with the
// certificate swapped live under a playing listener, and the successor is scheduled inside its window.
// Run without acmeEmail on purpose: an account with no contact once made every order after the first fail
// (acme-client's empty account update, refused by pebble), which this renewal would catch again.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAntenna, type TestAntenna } from '../helpers/antenna.js';
import { freePort, missing, until } from '../helpers/interop-programs.js';
import { startPebble, type Pebble } from '../helpers/pebble.js';

const skip = missing('pebble', 'openssl');

/** The certificate served on `port` for localhost (PEM) and whether it chains to `root`. */
function served(port: number, root: string): Promise<{ pem: string; serial: string; authorized: boolean }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: root, ALPNProtocols: ['http/1.1'] }, () => {
      const c = s.getPeerCertificate();
      const b64 = c.raw.toString('base64').replace(/(.{64})/g, '$1\n');
      resolve({
        pem: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`,
        serial: c.serialNumber,
        authorized: s.authorized,
      });
      s.destroy();
    });
    s.on('error', reject);
  });
}

/**
 * RFC 9773 §4.1: base64url(keyIdentifier of the AKI) "." base64url(DER content octets of the serial),
 * from openssl's reading of the certificate. The serial's DER content is its two's-complement big-endian
 * bytes: a positive serial whose top bit is set gets a leading zero octet.
 */
function expectedCertId(pem: string, dir: string): string {
  const file = join(dir, 'leaf.pem');
  writeFileSync(file, pem);
  const out = execFileSync('openssl', ['x509', '-in', file, '-noout', '-ext', 'authorityKeyIdentifier', '-serial'], { encoding: 'utf8' });
  const aki = /Authority Key Identifier:\s*\n\s*(?:keyid:)?([0-9A-F:]+)/i.exec(out)?.[1];
  const serialHex = /serial=([0-9A-F]+)/i.exec(out)?.[1];
  if (!aki || !serialHex) throw new Error(`openssl gave no AKI or serial:\n${out}`);
  let serial = Buffer.from(serialHex.length % 2 ? `0${serialHex}` : serialHex, 'hex');
  if (((serial[0] as number) & 0x80) !== 0) serial = Buffer.concat([Buffer.from([0]), serial]);
  return `${Buffer.from(aki.replace(/:/g, ''), 'hex').toString('base64url')}.${serial.toString('base64url')}`;
}

interface Window {
  readonly start: number;
  readonly end: number;
}

interface RenewalInfoProxy {
  readonly directory: string;
  /** certIDs asked for, in order. */
  readonly asked: string[];
  /** The first GET <renewalInfo>/<certID>, held until the test answers it with a window. */
  readonly held: { certId: string; answer(window: Window): void }[];
  /** What every later request is answered with at once (ten days ahead). */
  readonly later: Window;
  close(): Promise<void>;
}

/** An HTTPS server (pebble's own listener certificate, so the same CA file trusts it) adding renewalInfo. */
async function renewalInfoProxy(pebble: Pebble): Promise<RenewalInfoProxy> {
  const ca = readFileSync(pebble.caFile, 'utf8');
  const asked: string[] = [];
  const held: RenewalInfoProxy['held'] = [];
  const laterStart = Date.now() + 10 * 86_400_000;
  const later: Window = { start: laterStart, end: laterStart + 86_400_000 };
  const server = https.createServer({ cert: ca, key: readFileSync(pebble.keyFile, 'utf8') }, (req, res) => {
    const url = req.url ?? '';
    if (req.method === 'GET' && url === '/dir') {
      https
        .get(pebble.directory, { ca }, (up) => {
          let body = '';
          up.setEncoding('utf8');
          up.on('data', (c: string) => (body += c));
          up.on('end', () => {
            const dir = JSON.parse(body) as Record<string, unknown>;
            dir.renewalInfo = `https://127.0.0.1:${(server.address() as AddressInfo).port}/renewal-info/`;
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(dir));
          });
        })
        .on('error', () => res.writeHead(502).end());
      return;
    }
    const m = /^\/renewal-info\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(url);
    if (req.method === 'GET' && m?.[1]) {
      asked.push(m[1]);
      if (held.length === 0) held.push({ certId: m[1], answer: (w) => answerWindow(res, w) });
      else answerWindow(res, later);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    directory: `https://127.0.0.1:${port}/dir`,
    asked,
    held,
    later,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function answerWindow(res: ServerResponse, w: Window): void {
  const body = { suggestedWindow: { start: new Date(w.start).toISOString(), end: new Date(w.end).toISOString() } };
  res.writeHead(200, { 'content-type': 'application/json', 'retry-after': '21600' }).end(JSON.stringify(body));
}

describe.skipIf(skip)(`ACME Renewal Information (RFC 9773) through a proxy in front of pebble${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let pebble: Pebble;
  let proxy: RenewalInfoProxy;
  let root: string;
  let work: string;
  let server: TestAntenna | undefined;

  beforeAll(async () => {
    const httpPort = await freePort();
    pebble = await startPebble(httpPort);
    proxy = await renewalInfoProxy(pebble);
    root = await pebble.root();
    work = mkdtempSync(join(tmpdir(), 'antenna-ari-'));
    server = await startAntenna(
      {
        domains: 'localhost',
        acmeDirectory: proxy.directory,
        acmeCaFile: pebble.caFile,
        httpPort,
        httpsPort: 0,
        dataDir: join(work, 'data'),
      },
      { emergencyTone: 440, record: false },
    );
  });
  afterAll(async () => {
    await server?.stop();
    await proxy?.close();
    await pebble?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('asks for the right certID, renews live when the window is over, schedules the successor inside its window', async () => {
    const a = (server as TestAntenna).antenna;
    const renewed: unknown[] = [];
    a.events.on('certificate-renewed', (p) => renewed.push(p));

    // The first certificate is issued, then its renewal information is asked for (the answer is held).
    const first = await until('the first renewalInfo request', 60_000, () => proxy.held[0]);
    const port = await until('HTTPS serving', 10_000, () => a.ports.https);
    const cert1 = await served(port, root);
    expect(cert1.authorized).toBe(true);
    expect(first.certId).toBe(expectedCertId(cert1.pem, work));

    // A listener plays over h2 while the CA says the window is already over (as after a mass revocation).
    const session = http2.connect(`https://127.0.0.1:${port}`, { ca: root, servername: 'localhost' });
    session.on('error', () => undefined);
    try {
      const req = session.request({ ':path': '/listen/live-64.aac' });
      let bytes = 0;
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.on('error', () => undefined);
      await until('the listener plays', 20_000, () => (bytes > 10_000 ? true : undefined));
      const now = Date.now();
      first.answer({ start: now - 2 * 3600_000, end: now - 3600_000 });

      // Renewed at once, and swapped in for new handshakes.
      const cert2 = await until('a new certificate served', 60_000, async () => {
        const c = await served(port, root);
        return c.serial !== cert1.serial ? c : undefined;
      });
      expect(cert2.authorized).toBe(true);
      expect(renewed).toHaveLength(1);
      const b = bytes;
      await until('the listener keeps playing across the swap', 20_000, () => (bytes > b + 8_000 ? true : undefined));
      req.close();
    } finally {
      session.close();
    }

    // The successor's renewal information is asked for under its own certID (answered with a window ten
    // days ahead): followed, no further order.
    const cert2 = await served(port, root);
    const second = await until('the successor renewalInfo request', 30_000, () => proxy.asked[1]);
    expect(second).toBe(expectedCertId(cert2.pem, work));
    expect(second).not.toBe(first.certId);
    const window = proxy.later;
    const snap = await until('the window in the status snapshot', 10_000, () => {
      const t = a.snapshot().tls;
      return t?.renewalWindow?.start === window.start ? t : undefined;
    });
    expect(snap).toMatchObject({ renewals: 1, failures: 0, state: 'valid', renewalWindow: window });
    expect(snap.renewAt).toBeGreaterThanOrEqual(window.start);
    expect(snap.renewAt).toBeLessThanOrEqual(window.end);
    expect(proxy.asked).toHaveLength(2); // no third order, no renewal loop
  });
});
