// The certificate alert on the real server: a brought certificate file that turns unusable raises
// "renewal failed" (src/tls's certificate-failed), and a good file swapped in closes it (certificate-renewed).
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { antennaFixture } from '../helpers/antenna.js';
import { startPushoverServer, type LocalServer } from '../helpers/notify-servers.js';
import { waitFor } from '../helpers/programme.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const fx = antennaFixture();
const cleanup: LocalServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((s) => s.close()));
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

describe('certificate alerts', () => {
  it('a certificate that can no longer be loaded raises one alert; a good one swapped in ends it', async () => {
    const pushover = await startPushoverServer([{ status: 200 }]);
    cleanup.push(pushover);
    const d = mkdtempSync(join(tmpdir(), 'antenna-cert-alert-'));
    dirs.push(d);
    const cert = join(d, 'cert.pem');
    const key = join(d, 'key.pem');
    copyFileSync(join(FIXTURES, 'cert-a.pem'), cert);
    copyFileSync(join(FIXTURES, 'key-a.pem'), key);
    const t = await fx.start(
      {
        tlsCertFile: cert,
        tlsKeyFile: key,
        httpsPort: 0,
        pushoverToken: 'A'.repeat(30),
        pushoverUser: 'B'.repeat(30),
        pushoverApi: pushover.url,
        stationName: 'Radio Test',
      },
      { record: false },
    );
    const failed: string[] = [];
    t.antenna.events.on('certificate-failed', (p) => failed.push(p.reason));
    const titles = (): string[] => pushover.requests.map((r) => r.form.title ?? '');

    writeFileSync(cert, 'not a certificate\n');
    await waitFor(() => titles().some((x) => x.includes('Certificate renewal failed')), 'the failure alert', 20_000);
    expect(failed[0]).toBe('file');
    // HTTPS keeps the certificate it had; the status says why the new one was refused.
    expect(t.antenna.snapshot().tls?.lastError?.reason).toBe('file');

    copyFileSync(join(FIXTURES, 'cert-b.pem'), cert);
    copyFileSync(join(FIXTURES, 'key-b.pem'), key);
    await waitFor(() => titles().length >= 2, 'the recovery alert', 20_000);
    expect(titles()).toHaveLength(2);
    expect(titles()[0]).toMatch(/^Radio Test: Certificate renewal failed for localhost/);
    expect(titles()[1]).toMatch(/^Radio Test: Certificate localhost renewed/);
  });
});
