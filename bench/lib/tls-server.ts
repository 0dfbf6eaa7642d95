// The HTTPS server the TLS benchmarks run against (bench/tls.ts, bench/memory.ts): a throwaway
// self-signed certificate, and the settings that let one loopback address stand in for thousands of
// listeners.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** A self-signed P-256 certificate for localhost, written into `dir`. */
export function selfSignedCert(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  // prettier-ignore
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'pipe' });
  return { cert, key };
}

/** Server environment: HTTPS on a free port with that certificate, plain HTTP not redirected. */
export function tlsServerEnv(tls: { cert: string; key: string }): Record<string, string> {
  return {
    ANTENNA_TLS_CERT_FILE: tls.cert,
    ANTENNA_TLS_KEY_FILE: tls.key,
    ANTENNA_HTTPS_PORT: '0',
    ANTENNA_HTTP_REDIRECT: 'none',
    // One loopback address stands in for thousands of listeners, and at 500 new connections a second
    // the TLS handshakes in flight from it exceed the per-address cap of connections without a request
    // (32), which sheds them as a flood would be. Listeners in the field come from many addresses.
    ANTENNA_HTTP_MAX_PENDING_PER_ADDRESS: '10000',
    ANTENNA_HTTP_MAX_PENDING: '20000',
  };
}
