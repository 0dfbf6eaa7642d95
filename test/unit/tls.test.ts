// The certificate manager's pure parts: renewal schedule (lifetime rule and ARI window), retry backoff,
// expiry, certificate parsing (names, RFC 9773 certID), failure reasons, the TLS settings and the
// plain-HTTP redirect policy, public URLs and HSTS.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { hstsApplies, publicFront, publicOrigin } from '../../src/http/public-front.js';
import { redirects } from '../../src/http/server.js';
import { classifyFailure } from '../../src/tls/acme.js';
import { authorityKeyIdentifier, coversDomains, keyMatches, readCertificate, serialDer } from '../../src/tls/certificate.js';
import { RECHECK_MS, isExpiring, keptIsUsable, nextWake, renewalTime, retryDelay } from '../../src/tls/schedule.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

describe('renewal schedule', () => {
  it('renews a 90-day certificate with a third of its lifetime left (day 60)', () => {
    expect(renewalTime({ notBefore: T0, notAfter: T0 + 90 * DAY, now: T0 + DAY, random: 0.3 })).toBe(T0 + 60 * DAY);
  });

  it('renews a 6-day short-lived certificate on day 4', () => {
    expect(renewalTime({ notBefore: T0, notAfter: T0 + 6 * DAY, now: T0, random: 0.9 })).toBe(T0 + 4 * DAY);
  });

  it('renews at once when the renewal time has passed', () => {
    expect(renewalTime({ notBefore: T0, notAfter: T0 + 90 * DAY, now: T0 + 75 * DAY, random: 0 })).toBe(T0 + 75 * DAY);
  });

  it("picks a point in the CA's ARI window by the random number, ignoring the lifetime rule", () => {
    const window = { start: T0 + 30 * DAY, end: T0 + 32 * DAY };
    const base = { notBefore: T0, notAfter: T0 + 90 * DAY, now: T0 + DAY, window };
    expect(renewalTime({ ...base, random: 0 })).toBe(window.start);
    expect(renewalTime({ ...base, random: 0.5 })).toBe(T0 + 31 * DAY);
  });

  it('renews now when the ARI window is over (a CA asking for early renewal after a revocation)', () => {
    const now = T0 + 10 * DAY;
    expect(
      renewalTime({ notBefore: T0, notAfter: T0 + 90 * DAY, now, window: { start: T0 + 2 * DAY, end: T0 + 3 * DAY }, random: 0.5 }),
    ).toBe(now);
  });

  it('starts inside a window that has begun, never in the past', () => {
    const now = T0 + 31 * DAY;
    const t = renewalTime({ notBefore: T0, notAfter: T0 + 90 * DAY, now, window: { start: T0 + 30 * DAY, end: T0 + 32 * DAY }, random: 0 });
    expect(t).toBe(now);
  });

  it('falls back to the lifetime rule on a nonsense window (end before start)', () => {
    const t = renewalTime({
      notBefore: T0,
      notAfter: T0 + 90 * DAY,
      now: T0,
      window: { start: T0 + 40 * DAY, end: T0 + 39 * DAY },
      random: 0.5,
    });
    expect(t).toBe(T0 + 60 * DAY);
  });

  it('wakes at most every six hours to look again (ARI windows move; timers are capped)', () => {
    expect(nextWake(T0 + 60 * DAY, T0)).toBe(T0 + RECHECK_MS);
    expect(nextWake(T0 + 1000, T0)).toBe(T0 + 1000);
  });
});

describe('retry backoff', () => {
  it('doubles from a minute to six hours with ±10 % jitter', () => {
    const d = (attempt: number, random = 0.5): number => retryDelay({ attempt, now: T0, random });
    expect(d(1)).toBe(60_000);
    expect(d(2)).toBe(120_000);
    expect(d(5)).toBe(16 * 60_000);
    expect(d(30)).toBe(6 * 3600_000);
    expect(d(1, 0)).toBe(54_000);
    expect(d(1, 1)).toBe(66_000);
  });

  it('retries often enough to beat the expiry of the certificate in use', () => {
    // 2 days left: at most 6 h between attempts (an eighth of what is left), never under a minute.
    expect(retryDelay({ attempt: 20, now: T0, notAfter: T0 + 2 * DAY, random: 0.5 })).toBe(6 * 3600_000);
    expect(retryDelay({ attempt: 20, now: T0, notAfter: T0 + 8 * 3600_000, random: 0.5 })).toBe(3600_000);
    expect(retryDelay({ attempt: 20, now: T0, notAfter: T0 + 1000, random: 0.5 })).toBe(60_000);
  });
});

describe('expiry', () => {
  it('is expiring with a sixth of the lifetime left', () => {
    expect(isExpiring({ notBefore: T0, notAfter: T0 + 90 * DAY, now: T0 + 74 * DAY })).toBe(false);
    expect(isExpiring({ notBefore: T0, notAfter: T0 + 90 * DAY, now: T0 + 75 * DAY })).toBe(true);
  });

  it('reuses a kept certificate only while it is valid and names every domain', () => {
    expect(keptIsUsable({ notAfter: T0 + DAY, now: T0, covers: true })).toBe(true);
    expect(keptIsUsable({ notAfter: T0 + DAY, now: T0, covers: false })).toBe(false);
    expect(keptIsUsable({ notAfter: T0 + 30_000, now: T0, covers: true })).toBe(false);
  });
});

describe('certificates', () => {
  const dir = mkdtempSync(join(tmpdir(), 'antenna-tls-unit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe' });
  // A CA and a leaf it signs (the leaf carries an authority key identifier, as every CA's do).
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    join(dir, 'ca.key'),
    '-out',
    join(dir, 'ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=Test CA',
  );
  openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    join(dir, 'leaf.key'),
    '-out',
    join(dir, 'leaf.csr'),
    '-subj',
    '/CN=radio.example',
  );
  const ext = join(dir, 'ext.cnf');
  execFileSync('sh', ['-c', `printf 'subjectAltName=DNS:radio.example,DNS:*.cdn.example\\nauthorityKeyIdentifier=keyid\\n' > ${ext}`]);
  openssl(
    'x509',
    '-req',
    '-in',
    join(dir, 'leaf.csr'),
    '-CA',
    join(dir, 'ca.pem'),
    '-CAkey',
    join(dir, 'ca.key'),
    '-set_serial',
    '0x87654321',
    '-days',
    '1',
    '-extfile',
    ext,
    '-out',
    join(dir, 'leaf.pem'),
  );
  const leaf = readFileSync(join(dir, 'leaf.pem'), 'utf8');

  it('reads names, validity and the ARI certificate id (AKI keyIdentifier . serial)', () => {
    const info = readCertificate(leaf);
    expect(info.altNames).toEqual(['radio.example', '*.cdn.example']);
    expect(info.notAfter - info.notBefore).toBe(DAY);
    const text = execFileSync('openssl', ['x509', '-in', join(dir, 'leaf.pem'), '-noout', '-ext', 'authorityKeyIdentifier'], {
      encoding: 'utf8',
    });
    const hex = (/([0-9A-F]{2}(:[0-9A-F]{2})+)/.exec(text)?.[1] ?? '').replace(/:/g, '');
    expect(hex.length).toBeGreaterThan(0);
    // Serial 0x87654321 has its top bit set: DER content 00 87 65 43 21.
    expect(info.ariCertId).toBe(
      `${Buffer.from(hex, 'hex').toString('base64url')}.${Buffer.from('0087654321', 'hex').toString('base64url')}`,
    );
  });

  it('pairs a key with its certificate and no other', () => {
    expect(keyMatches(leaf, readFileSync(join(dir, 'leaf.key'), 'utf8'))).toBe(true);
    expect(keyMatches(leaf, readFileSync(join(dir, 'ca.key'), 'utf8'))).toBe(false);
  });

  it('covers names exactly or by a one-label wildcard', () => {
    const info = readCertificate(leaf);
    expect(coversDomains(info, ['radio.example'])).toBe(true);
    expect(coversDomains(info, ['a.cdn.example'])).toBe(true);
    expect(coversDomains(info, ['a.b.cdn.example'])).toBe(false);
    expect(coversDomains(info, ['radio.example', 'other.example'])).toBe(false);
  });

  it('encodes serials as DER INTEGER content', () => {
    expect(serialDer('7F').toString('hex')).toBe('7f');
    expect(serialDer('80').toString('hex')).toBe('0080');
    expect(serialDer('0001').toString('hex')).toBe('01');
    expect(authorityKeyIdentifier(Buffer.from([1, 2, 3]))).toBeUndefined();
  });
});

describe('failure reasons', () => {
  it('tells DNS, port 80 unreachable, rate limits and an unreachable CA apart', () => {
    expect(classifyFailure(new Error('DNS problem: NXDOMAIN looking up A for radio.example'))).toBe('dns');
    expect(classifyFailure(new Error('127.0.0.1: Fetching http://radio.example/.well-known/acme-challenge/x: Connection refused'))).toBe(
      'connection',
    );
    expect(classifyFailure(new Error('Error creating new order :: too many certificates already issued for "example.org"'))).toBe(
      'rate-limit',
    );
    expect(classifyFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:14000'), { code: 'ECONNREFUSED' }))).toBe(
      'ca-unreachable',
    );
    expect(classifyFailure(new Error('something else'))).toBe('other');
  });
});

describe('TLS settings', () => {
  it('is off by default: plain HTTP on 8000, as today', () => {
    const c = loadConfig({ env: {} });
    expect(c).toMatchObject({ tls: 'off', domains: [], httpPort: 8000, httpsPort: 443, httpRedirect: 'admin' });
    expect(c.acmeDirectory).toBe('https://acme-v02.api.letsencrypt.org/directory');
  });

  it('moves to 80/443 with domains, and reads the words for the directory', () => {
    const c = loadConfig({ env: { ANTENNA_DOMAINS: 'Radio.example, www.radio.example', ANTENNA_ACME_DIRECTORY: 'letsencrypt-staging' } });
    expect(c).toMatchObject({ tls: 'acme', domains: ['radio.example', 'www.radio.example'], httpPort: 80, httpsPort: 443 });
    expect(c.acmeDirectory).toBe('https://acme-staging-v02.api.letsencrypt.org/directory');
    expect(loadConfig({ env: { ANTENNA_DOMAINS: 'radio.example', ANTENNA_HTTP_PORT: '8080', ANTENNA_HTTPS_PORT: '8443' } })).toMatchObject({
      httpPort: 8080,
      httpsPort: 8443,
    });
  });

  it('takes any directory URL, and brought certificate files over ACME', () => {
    expect(loadConfig({ env: { ANTENNA_DOMAINS: 'localhost', ANTENNA_ACME_DIRECTORY: 'https://127.0.0.1:14000/dir' } }).acmeDirectory).toBe(
      'https://127.0.0.1:14000/dir',
    );
    const c = loadConfig({
      env: { ANTENNA_DOMAINS: 'radio.example', ANTENNA_TLS_CERT_FILE: '/x/cert.pem', ANTENNA_TLS_KEY_FILE: '/x/key.pem' },
    });
    expect(c.tls).toBe('files');
  });

  it('rejects a certificate without its key, equal ports, bad names and bad words', () => {
    expect(() => loadConfig({ env: { ANTENNA_TLS_CERT_FILE: '/x/cert.pem' } })).toThrow(/tlsCertFile and tlsKeyFile go together/);
    expect(() => loadConfig({ env: { ANTENNA_DOMAINS: 'radio.example', ANTENNA_HTTP_PORT: '8443', ANTENNA_HTTPS_PORT: '8443' } })).toThrow(
      /must differ/,
    );
    expect(() => loadConfig({ env: { ANTENNA_DOMAINS: 'radio example' } })).toThrow(/domains/);
    expect(() => loadConfig({ env: { ANTENNA_ACME_DIRECTORY: 'letsencrypt-prod' } })).toThrow(/acmeDirectory/);
    expect(() => loadConfig({ env: { ANTENNA_HTTP_REDIRECT: 'some' } })).toThrow(/httpRedirect/);
    expect(() => loadConfig({ env: { ANTENNA_ACME_EMAIL: 'not-an-address' } })).toThrow(/acmeEmail/);
  });
});

describe('plain-HTTP redirect policy', () => {
  it('admin (default): API, admin and pages move; listeners, HLS, status-json and relay edges stay', () => {
    for (const u of ['/api/status', '/metrics', '/', '/dashboard/', '/icecast-admin/stats']) expect(redirects('admin', u)).toBe(true);
    for (const u of ['/listen/live.mp3', '/hls/master.m3u8', '/status-json.xsl', '/status-json.xsl?mount=/x', '/admin/streamlist.txt'])
      expect(redirects('admin', u)).toBe(false);
  });

  it('all moves everything, none nothing; the ACME challenge never moves', () => {
    expect(redirects('all', '/listen/live.mp3')).toBe(true);
    expect(redirects('none', '/api/status')).toBe(false);
    for (const p of ['all', 'admin', 'none'] as const) expect(redirects(p, '/.well-known/acme-challenge/abc')).toBe(false);
  });
});

describe('certificate manager (files mode, injected clock)', () => {
  it('raises certificate-expiring for a brought certificate near its end, and reports an unusable replacement', async () => {
    const { createTls } = await import('../../src/tls/index.js');
    const { createRootLogger } = await import('../../src/log.js');
    const fixtures = new URL('../fixtures/tls/', import.meta.url).pathname;
    const dir = mkdtempSync(join(tmpdir(), 'antenna-tls-mgr-'));
    try {
      const cert = readFileSync(join(fixtures, 'cert-a.pem'), 'utf8');
      const info = readCertificate(cert);
      const t = await createTls({
        config: {
          tls: 'files',
          domains: [],
          acmeDirectory: 'https://unused.example/dir',
          acmeCaFile: undefined,
          acmeEmail: undefined,
          tlsCertFile: join(fixtures, 'cert-a.pem'),
          tlsKeyFile: join(fixtures, 'key-b.pem'),
          dataDir: dir,
        },
        log: createRootLogger('silent'),
      }).catch((err: unknown) => err as Error);
      // A key that is not the certificate's stops start-up: a typo in a path is a configuration error.
      expect(t).toBeInstanceOf(Error);
      expect((t as Error).message).toMatch(/is not the key of/);

      const expiring: unknown[] = [];
      const m = await createTls({
        config: {
          tls: 'files',
          domains: [],
          acmeDirectory: 'https://unused.example/dir',
          acmeCaFile: undefined,
          acmeEmail: undefined,
          tlsCertFile: join(fixtures, 'cert-a.pem'),
          tlsKeyFile: join(fixtures, 'key-a.pem'),
          dataDir: dir,
        },
        log: createRootLogger('silent'),
        now: () => info.notAfter - DAY,
      });
      m.events.on('certificate-expiring', (p) => expiring.push(p));
      await new Promise((r) => setTimeout(r, 50));
      expect(expiring).toEqual([{ domains: ['localhost'], notAfter: info.notAfter, hoursLeft: 24 }]);
      expect(m.snapshot()).toMatchObject({ source: 'file', state: 'valid', renewAt: null });
      await m.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('public URLs and HSTS', () => {
  const config = { publicHostname: 'radio.example', publicHttpPort: undefined, publicHttpsPort: undefined };

  it('follows the transport: https on the HTTPS port over HTTPS, http on the plain port over HTTP; default ports left out', () => {
    const f = publicFront(config, { http: 80, https: 443 }, ['radio.example']);
    expect(publicOrigin(f, 'https')).toBe('https://radio.example');
    expect(publicOrigin(f, 'http')).toBe('http://radio.example');
    const odd = publicFront(config, { http: 8000, https: 8443 }, ['radio.example']);
    expect([publicOrigin(odd, 'https'), publicOrigin(odd, 'http')]).toEqual(['https://radio.example:8443', 'http://radio.example:8000']);
  });

  it('gives http URLs over HTTPS while no certificate serves (there is no HTTPS port to point at)', () => {
    expect(publicOrigin(publicFront(config, { http: 8000 }), 'https')).toBe('http://radio.example:8000');
  });

  it('puts a name the certificate covers in https URLs, and follows forwarded public ports', () => {
    expect(
      publicOrigin(publicFront({ ...config, publicHostname: '203.0.113.7' }, { http: 80, https: 443 }, ['radio.example']), 'https'),
    ).toBe('https://radio.example');
    expect(
      publicOrigin(
        publicFront({ ...config, publicHostname: 'live.radio.example' }, { http: 80, https: 443 }, ['*.radio.example']),
        'https',
      ),
    ).toBe('https://live.radio.example');
    expect(publicOrigin(publicFront({ ...config, publicHostname: '::1' }, { http: 8000 }), 'http')).toBe('http://[::1]:8000');
    const fwd = publicFront({ ...config, publicHttpPort: 80, publicHttpsPort: 443 }, { http: 8080, https: 8443 }, ['radio.example']);
    expect([publicOrigin(fwd, 'https'), publicOrigin(fwd, 'http')]).toEqual(['https://radio.example', 'http://radio.example']);
  });

  it('sends HSTS only when plain HTTP is public on 80 and HTTPS on 443', () => {
    expect(hstsApplies(publicFront(config, { http: 80, https: 443 }))).toBe(true);
    expect(hstsApplies(publicFront(config, { http: 8000, https: 443 }))).toBe(false); // http://host:8000 → https://host:8000
    expect(hstsApplies(publicFront(config, { http: 80, https: 8443 }))).toBe(false); // http://host → https://host:443
    expect(hstsApplies(publicFront(config, { http: 80 }))).toBe(false); // no HTTPS yet
    expect(hstsApplies(publicFront({ ...config, publicHttpPort: 80, publicHttpsPort: 443 }, { http: 8080, https: 8443 }))).toBe(true);
  });

  it('takes the public host name from the first domain unless set', () => {
    expect(loadConfig({ env: {} }).publicHostname).toBe('localhost');
    expect(loadConfig({ env: { ANTENNA_DOMAINS: 'Radio.example,www.radio.example' } }).publicHostname).toBe('radio.example');
    expect(loadConfig({ env: { ANTENNA_DOMAINS: 'radio.example', ANTENNA_PUBLIC_HOSTNAME: 'stream.example' } }).publicHostname).toBe(
      'stream.example',
    );
    expect(() => loadConfig({ env: { ANTENNA_PUBLIC_HTTPS_PORT: '0' } })).toThrow(/publicHttpsPort/);
  });
});
