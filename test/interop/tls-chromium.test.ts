// Debian's Chromium (playwright-core, headless) loads a page over HTTPS and plays a listener mount
// through <audio>: the page and the audio go over one HTTP/2 connection (ALPN h2), the mount streams on
// an h2 stream, and the listener is counted. The certificate is brought as files (ANTENNA_TLS_CERT_FILE),
// which also covers that mode; the ACME path is in tls-pebble.test.ts.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAntenna, type TestAntenna } from '../helpers/antenna.js';
import { CHROMIUM } from '../helpers/hls-browser.js';
import { tempDir, until } from '../helpers/interop-programs.js';

const skip = existsSync(CHROMIUM) ? undefined : 'not installed: chromium (.ci/run installs it with apt-get)';

describe.skipIf(skip)(`Chromium plays a mount over HTTPS/h2${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const dir = tempDir('tls-chromium');
  let server: TestAntenna;
  let browser: BrowserContext;

  beforeAll(async () => {
    const cert = join(dir.path, 'cert.pem');
    const key = join(dir.path, 'key.pem');
    // prettier-ignore
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
      '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'pipe' });
    server = await startAntenna({ tlsCertFile: cert, tlsKeyFile: key, httpsPort: 0 }, { emergencyTone: 440, record: false });
    browser = await chromium.launchPersistentContext(join(dir.path, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      // The certificate is self-signed for this test: accepted here, verified in the pebble test.
      ignoreHTTPSErrors: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--autoplay-policy=no-user-gesture-required',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    dir.remove();
  });

  it('loads the page over h2 and plays /listen/live.mp3 through <audio> on the same connection', async () => {
    const a = server.antenna;
    expect(a.snapshot().tls).toMatchObject({ source: 'file', state: 'valid', domains: ['localhost'] });
    const port = a.ports.https as number;
    const page = await browser.newPage();
    const cdp = await browser.newCDPSession(page);
    const protocols = new Map<string, string>();
    cdp.on('Network.responseReceived', (e: { response: { url: string; protocol?: string } }) =>
      protocols.set(new URL(e.response.url).pathname, e.response.protocol ?? ''),
    );
    await cdp.send('Network.enable');
    // Any page of the server will do until the pages branch lands: the audio is same-origin with it.
    await page.goto(`https://localhost:${port}/status-json.xsl`);
    expect(protocols.get('/status-json.xsl')).toBe('h2');
    // Runs in the page (the tsconfig has no DOM lib): an <audio> element playing the mount.
    await page.evaluate(() => {
      const doc = (
        globalThis as unknown as {
          document: { createElement(t: string): Record<string, unknown>; body: { appendChild(e: unknown): void } };
        }
      ).document;
      const audio = doc.createElement('audio');
      audio.id = 'player';
      audio.src = '/listen/live.mp3';
      doc.body.appendChild(audio);
      (globalThis as unknown as { player: unknown }).player = audio;
      void (audio.play as () => Promise<void>)();
    });
    const playedTo = await until('the <audio> element plays past 3 s', 30_000, async () => {
      const t = await page.evaluate(() => {
        const p = (globalThis as unknown as { player: { currentTime: number; paused: boolean; error: unknown } }).player;
        return { t: p.currentTime, paused: p.paused, error: p.error !== null };
      });
      if (t.error) throw new Error('the audio element reported an error');
      return t.t > 3 && !t.paused ? t.t : undefined;
    });
    expect(playedTo).toBeGreaterThan(3);
    expect(protocols.get('/listen/live.mp3')).toBe('h2');
    const mount = a.snapshot().mounts.mounts.find((m) => m.mount === '/listen/live.mp3');
    expect(mount?.listeners).toBe(1);
    await page.close();
    await until('the listener is counted out when the page closes', 10_000, () => (a.snapshot().mounts.listeners === 0 ? true : undefined));
  });
});
