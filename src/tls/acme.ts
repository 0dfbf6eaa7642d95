// Talking to the ACME CA (RFC 8555 through acme-client; RFC 9773 renewal information by hand, since
// acme-client has none). HTTP-01 only: the challenge tokens are answered by Antenna's own plain port.
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import * as acme from 'acme-client';
import type { Logger } from 'pino';
import type { CertificateFailureReason } from '../types/events.js';
import type { RenewalWindow } from './schedule.js';

/** Bounded by construction: one entry per pending challenge of the one order in flight. */
export class ChallengeStore {
  readonly #tokens = new Map<string, string>();

  set(token: string, keyAuthorization: string): void {
    this.#tokens.set(token, keyAuthorization);
  }

  delete(token: string): void {
    this.#tokens.delete(token);
  }

  get(token: string): string | undefined {
    return this.#tokens.get(token);
  }

  get size(): number {
    return this.#tokens.size;
  }
}

export interface AcmeOptions {
  readonly directoryUrl: string;
  /** Extra trusted CA certificates (PEM) for the directory's TLS. */
  readonly ca: string | undefined;
  readonly email: string | undefined;
  readonly log: Logger;
}

export interface Issued {
  readonly certPem: string;
  readonly keyPem: string;
}

let configuredCa: string | undefined | null = null;

/**
 * acme-client talks through one module-wide axios instance, so the trusted CAs and its log sink are
 * set there: the last configuration wins. One Antenna process has one ACME directory, so that is fine.
 */
function configureLibrary(o: AcmeOptions): void {
  if (configuredCa !== o.ca) {
    acme.axios.defaults.httpsAgent = new https.Agent({ ca: o.ca ? [...rootCertificates, o.ca] : [...rootCertificates], keepAlive: false });
    configuredCa = o.ca;
  }
  // acme-client retries network errors, 5xx and 429 itself, by default 5 times over 75 s (or for as long
  // as a Retry-After says). Two quick retries absorb a blip; anything longer is the manager's backoff, which
  // reports the failure and its reason first instead of hanging in a retry loop nobody sees.
  // (acmeSettings is acme-client's own addition to its axios defaults; its types do not declare it.)
  const settings = (acme.axios.defaults as unknown as { acmeSettings: { retryMaxAttempts: number; retryDefaultDelay: number } })
    .acmeSettings;
  settings.retryMaxAttempts = 2;
  settings.retryDefaultDelay = 2;
  const log = o.log;
  acme.setLogger((msg) => log.debug({ acme: msg }, 'acme-client'));
}

export async function createAccountKey(): Promise<string> {
  return (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
}

/** Orders a certificate for `domains` with a fresh P-256 key, answering HTTP-01 through `challenges`. */
export async function orderCertificate(
  o: AcmeOptions & { accountKey: string; domains: readonly string[]; challenges: ChallengeStore },
): Promise<Issued> {
  configureLibrary(o);
  await checkDirectory(o);
  const client = new acme.Client({
    directoryUrl: o.directoryUrl,
    accountKey: o.accountKey,
    backoffAttempts: 10,
    backoffMin: 1000,
    backoffMax: 10_000,
  });
  if (!o.email) {
    // Without a contact, acme-client's auto() answers "account exists" (HTTP 200 from newAccount: every
    // order after the first) with an account update that carries only termsOfServiceAgreed, which an
    // RFC 8555 CA may refuse as an empty update (pebble: 400 "Use POST-as-GET"), so every renewal failed.
    // Looking the account up first (onlyReturnExisting, then a POST-as-GET) gives auto() its URL and it
    // skips registration. With an e-mail, auto()'s update carries the contact and is kept (a changed
    // address reaches the CA).
    await client.createAccount({ onlyReturnExisting: true }).catch((err: unknown) => {
      // accountDoesNotExist: a new key, which auto() registers. Anything else (network) recurs there too.
      o.log.debug({ err }, 'no ACME account for this key yet');
    });
  }
  const key = await acme.crypto.createPrivateEcdsaKey('P-256');
  const [, csr] = await acme.crypto.createCsr({ commonName: o.domains[0] as string, altNames: [...o.domains] }, key);
  const certPem = await client
    .auto({
      csr,
      ...(o.email ? { email: o.email } : {}),
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      // acme-client's self-check would fetch the token from port 80 of the name as seen from here, which
      // behind NAT often fails when the CA would succeed; the CA's own answer says why when it fails.
      skipChallengeVerification: true,
      challengeCreateFn: (_authz, challenge, keyAuthorization) => {
        o.challenges.set(challenge.token, keyAuthorization);
        return Promise.resolve();
      },
      challengeRemoveFn: (_authz, challenge) => {
        o.challenges.delete(challenge.token);
        return Promise.resolve();
      },
    })
    .catch((err: unknown) => {
      // acme-client 5.4 loses a network error once its retries are spent (its status check then reads
      // `response.config` of no response): say what happened instead of that TypeError.
      if (err instanceof TypeError && /reading 'config'/.test(err.message))
        throw new Error(`the ACME directory ${o.directoryUrl} stopped answering during the order (network error)`, { cause: err });
      throw err;
    });
  return { certPem, keyPem: key.toString() };
}

/** Fetches the directory first, so an unreachable CA (refused, DNS, TLS trust) is reported as such. */
async function checkDirectory(o: Pick<AcmeOptions, 'directoryUrl' | 'ca'>): Promise<void> {
  let status: number;
  try {
    status = (await getJson(o.directoryUrl, o.ca)).status;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw Object.assign(new Error(`cannot reach the ACME directory ${o.directoryUrl}: ${(err as Error).message}`, { cause: err }), {
      code: typeof code === 'string' ? code : 'ECONNREFUSED',
    });
  }
  if (status !== 200) throw new Error(`the ACME directory ${o.directoryUrl} answered HTTP ${status}`);
}

function getJson(
  url: string,
  ca: string | undefined,
  timeoutMs = 10_000,
): Promise<{ status: number; body: unknown; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca: ca ? [...rootCertificates, ca] : undefined, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        // A directory or renewal-info document is a few hundred bytes; anything huge is not one.
        if (size > 256 * 1024) req.destroy(new Error('response too large'));
        else chunks.push(c);
      });
      res.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          body = undefined;
        }
        const ra = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, body, retryAfter: Array.isArray(ra) ? ra[0] : ra });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/**
 * The CA's suggested renewal window for a certificate (RFC 9773: GET <renewalInfo>/<certID>), or
 * undefined when the directory offers none or the answer is unusable (then the lifetime rule applies).
 */
export async function fetchRenewalWindow(o: Pick<AcmeOptions, 'directoryUrl' | 'ca'>, certId: string): Promise<RenewalWindow | undefined> {
  const dir = await getJson(o.directoryUrl, o.ca);
  const base = (dir.body as { renewalInfo?: unknown } | undefined)?.renewalInfo;
  if (typeof base !== 'string') return undefined;
  const ri = await getJson(`${base.replace(/\/$/, '')}/${certId}`, o.ca);
  if (ri.status !== 200) return undefined;
  const w = (ri.body as { suggestedWindow?: { start?: unknown; end?: unknown } } | undefined)?.suggestedWindow;
  const start = typeof w?.start === 'string' ? Date.parse(w.start) : NaN;
  const end = typeof w?.end === 'string' ? Date.parse(w.end) : NaN;
  return Number.isFinite(start) && Number.isFinite(end) && end > start ? { start, end } : undefined;
}

/** Why an order failed, from what the CA or the network said (the CA's problem types arrive as text). */
export function classifyFailure(err: unknown): CertificateFailureReason {
  const e = err as { code?: unknown; message?: unknown; isAxiosError?: unknown } | undefined;
  const msg = String(e?.message ?? err);
  const code = typeof e?.code === 'string' ? e.code : '';
  if (/rate.?limit|too many (certificates|failed|new orders|requests)/i.test(msg)) return 'rate-limit';
  if (
    /directory|nonce/i.test(msg) ||
    /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO|CERT_)/.test(code)
  )
    return 'ca-unreachable';
  if (/\bDNS\b|NXDOMAIN|SERVFAIL|no valid (A|AAAA)|lookup|could not resolve/i.test(msg)) return 'dns';
  if (/connection refused|connect(ion)?\b.*(refused|reset|timeout)|timeout|fetching http|unreachable|could not connect/i.test(msg))
    return 'connection';
  if (/unauthorized|invalid response|403|404|key authorization/i.test(msg)) return 'unauthorized';
  return 'other';
}
