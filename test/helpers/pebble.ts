// Debian's pebble (a real ACME server, `apt-get install pebble`) for the TLS tests: a listener
// certificate generated here (the package ships none), validation of HTTP-01 on the port we name,
// and its issuing root (new on every start) fetched from the management port.
import { execFileSync } from 'node:child_process';
import https from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, start, tempDir, until, type Running } from './interop-programs.js';

export interface Pebble {
  /** The ACME directory URL. */
  readonly directory: string;
  /** PEM file of pebble's listener certificate: what ANTENNA_ACME_CA_FILE points at. */
  readonly caFile: string;
  /** Its private key (a test proxy in front of pebble may serve the same certificate). */
  readonly keyFile: string;
  readonly proc: Running;
  /** The root that signs the certificates pebble issues (PEM). */
  root(): Promise<string>;
  stop(): Promise<void>;
}

function get(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, timeout: 5000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** Starts pebble validating HTTP-01 against 127.0.0.1:`httpPort` (Antenna's plain port). */
export async function startPebble(httpPort: number): Promise<Pebble> {
  const dir = tempDir('pebble');
  const cert = join(dir.path, 'cert.pem');
  const key = join(dir.path, 'key.pem');
  execFileSync(
    'openssl',
    // prettier-ignore
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
      '-subj', '/CN=pebble', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    { stdio: 'pipe' },
  );
  const [port, mgmt] = [await freePort(), await freePort()];
  const config = join(dir.path, 'pebble.json');
  writeFileSync(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${port}`,
        managementListenAddress: `127.0.0.1:${mgmt}`,
        certificate: cert,
        privateKey: key,
        httpPort,
        tlsPort: await freePort(),
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  );
  const proc = start('pebble', ['-config', config], {
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' },
  });
  const ca = readFileSync(cert, 'utf8');
  const directory = `https://127.0.0.1:${port}/dir`;
  await until('pebble directory', 20_000, async () => ((await get(directory, ca)).status === 200 ? true : undefined));
  return {
    directory,
    caFile: cert,
    keyFile: key,
    proc,
    async root() {
      return (await get(`https://127.0.0.1:${mgmt}/roots/0`, ca)).body;
    },
    async stop() {
      await proc.stop();
      dir.remove();
    },
  };
}
