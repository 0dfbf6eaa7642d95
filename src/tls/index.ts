// The certificate manager (an observer of nothing, a provider for the HTTP front): keeps a certificate
// for the configured names — ordered by ACME or read from the operator's files — renews it unattended,
// and reports through typed events and a snapshot. It never blocks start-up on the CA.
import { readFile } from 'node:fs/promises';
import { unwatchFile, watchFile } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { CertificateFailureReason, TlsEvents } from '../types/events.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { ChallengeStore, classifyFailure, createAccountKey, fetchRenewalWindow, orderCertificate } from './acme.js';
import { coversDomains, keyMatches, readCertificate, type CertificateInfo } from './certificate.js';
import { RECHECK_MS, isExpiring, keptIsUsable, nextWake, renewalTime, retryDelay, type RenewalWindow } from './schedule.js';
import { TlsStore } from './store.js';
import type { CertificateSnapshot } from '../types/snapshots.js';
export type { CertificateSnapshot } from '../types/snapshots.js';

export { ChallengeStore } from './acme.js';

export interface ServingCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  readonly info: CertificateInfo;
}

export type TlsConfig = Pick<
  Config,
  'tls' | 'domains' | 'acmeDirectory' | 'acmeCaFile' | 'acmeEmail' | 'tlsCertFile' | 'tlsKeyFile' | 'dataDir'
>;

export interface TlsOptions {
  readonly config: TlsConfig;
  readonly log: Logger;
  /** Clock and randomness, injectable for tests. */
  readonly now?: () => number;
  readonly random?: () => number;
  /** How often the certificate files are polled for changes (files mode). */
  readonly filePollMs?: number;
  /** The HTTP-01 tokens, already routed on the plain port by the composition root. */
  readonly challenges?: ChallengeStore;
}

export interface Tls {
  readonly events: TypedEmitter<TlsEvents>;
  /** HTTP-01 tokens the plain port answers at /.well-known/acme-challenge/<token>. */
  readonly challenges: ChallengeStore;
  /** The certificate to serve, or undefined until one exists. */
  current(): ServingCertificate | undefined;
  snapshot(): CertificateSnapshot;
  /** Orders a successor (ACME) or rereads the files now; resolves when that attempt has ended. */
  renewNow(): Promise<void>;
  close(): Promise<void>;
}

/** Resolves once a kept (or file) certificate is loaded, if any; ordering one goes on in the background. */
export async function createTls(opts: TlsOptions): Promise<Tls> {
  const m = new TlsManager(opts);
  await m.start();
  return m;
}

class TlsManager implements Tls {
  readonly events: TypedEmitter<TlsEvents>;
  readonly challenges: ChallengeStore;
  readonly #opts: TlsOptions;
  readonly #log: Logger;
  readonly #config: TlsConfig;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #store: TlsStore;
  #ca: string | undefined;
  #cur: ServingCertificate | undefined;
  #renewRandom = 0.5;
  #window: RenewalWindow | undefined;
  #windowAt = 0;
  #renewAt: number | null = null;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #attempt = 0;
  #failures = 0;
  #renewals = 0;
  #lastError: CertificateSnapshot['lastError'] = null;
  #fileWatcher: (() => void) | undefined;
  #nextAttemptAt: number | null = null;
  #expiringWarnedAt = 0;
  #closed = false;
  #watching = false;

  constructor(opts: TlsOptions) {
    this.#opts = opts;
    this.challenges = opts.challenges ?? new ChallengeStore();
    this.#config = opts.config;
    this.#log = opts.log.child({ component: 'tls' });
    this.events = new TypedEmitter<TlsEvents>(this.#log);
    this.#now = opts.now ?? Date.now;
    this.#random = opts.random ?? Math.random;
    this.#store = new TlsStore(opts.config.dataDir);
  }

  get #source(): 'acme' | 'file' {
    return this.#config.tls === 'files' ? 'file' : 'acme';
  }

  get #domains(): readonly string[] {
    return this.#config.tls === 'files' ? (this.#cur?.info.altNames ?? []) : this.#config.domains;
  }

  async start(): Promise<void> {
    if (this.#config.tls === 'files') {
      // The operator's files must be usable at start: a typo in a path is a configuration error.
      await this.#reloadFiles(true);
      this.#watchFiles();
      // No renewal to order, but an operator whose own renewal stopped hears of it (every RECHECK_MS).
      this.#schedule(0);
      return;
    }
    if (this.#config.acmeCaFile) this.#ca = await readFile(this.#config.acmeCaFile, 'utf8');
    const kept = await this.#store.loadCertificate().catch((err: unknown) => {
      this.#log.warn({ err }, 'kept certificate unreadable; ordering a new one');
      return undefined;
    });
    if (kept && kept.directory === this.#config.acmeDirectory && keyMatches(kept.certPem, kept.keyPem)) {
      const info = readCertificate(kept.certPem);
      if (keptIsUsable({ notAfter: info.notAfter, now: this.#now(), covers: coversDomains(info, this.#config.domains) })) {
        this.#install({ certPem: kept.certPem, keyPem: kept.keyPem, info }, true);
      } else {
        this.#log.info(
          { domains: this.#config.domains, notAfter: new Date(info.notAfter).toISOString() },
          'kept certificate expired or for other names',
        );
      }
    }
    // Not awaited: start-up never waits for the CA.
    this.#schedule(0);
  }

  current(): ServingCertificate | undefined {
    return this.#cur;
  }

  snapshot(): CertificateSnapshot {
    const c = this.#cur;
    return {
      source: this.#source,
      domains: [...this.#domains],
      state: !c ? 'none' : c.info.notAfter <= this.#now() ? 'expired' : 'valid',
      renewing: this.#inFlight !== undefined,
      subject: c?.info.subject ?? null,
      issuer: c?.info.issuer ?? null,
      notBefore: c?.info.notBefore ?? null,
      expiresAt: c?.info.notAfter ?? null,
      renewAt: this.#renewAt,
      renewalWindow: this.#window ?? null,
      lastError: this.#lastError,
      nextAttemptAt: this.#nextAttemptAt,
      failures: this.#failures,
      renewals: this.#renewals,
    };
  }

  renewNow(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#config.tls === 'files') return this.#reloadFiles(false);
    return (this.#inFlight ??= this.#order().finally(() => (this.#inFlight = undefined)));
  }

  close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#watching) {
      // Our own listener only: unwatchFile(path) alone would remove every watcher of the path in the process.
      for (const f of [this.#config.tlsCertFile, this.#config.tlsKeyFile]) if (f && this.#fileWatcher) unwatchFile(f, this.#fileWatcher);
      this.#watching = false;
    }
    // An order in flight cannot be cancelled in acme-client; its result is kept on disk and nothing else happens.
    this.events.removeAllListeners();
    return Promise.resolve();
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#cycle(), Math.max(0, Math.min(delayMs, RECHECK_MS)));
    this.#timer.unref();
  }

  /** One decision: order now, or sleep until the renewal time (at most RECHECK_MS, then decide again). */
  async #cycle(): Promise<void> {
    this.#timer = undefined;
    if (this.#closed || this.#inFlight) return;
    if (this.#config.tls === 'files') {
      this.#checkExpiring();
      this.#schedule(RECHECK_MS);
      return;
    }
    const c = this.#cur;
    if (c) {
      await this.#refreshWindow(c);
      const now = this.#now();
      this.#renewAt = renewalTime({
        notBefore: c.info.notBefore,
        notAfter: c.info.notAfter,
        now,
        window: this.#window,
        random: this.#renewRandom,
      });
      if (now < this.#renewAt) {
        this.#checkExpiring();
        this.#schedule(nextWake(this.#renewAt, now) - now);
        return;
      }
    }
    await this.renewNow();
  }

  /** Asks the CA's renewalInfo (where offered) at most every RECHECK_MS; failures leave the lifetime rule. */
  async #refreshWindow(c: ServingCertificate): Promise<void> {
    const now = this.#now();
    if (!c.info.ariCertId || now - this.#windowAt < RECHECK_MS) return;
    this.#windowAt = now;
    try {
      this.#window = await fetchRenewalWindow({ directoryUrl: this.#config.acmeDirectory, ca: this.#ca }, c.info.ariCertId);
    } catch (err) {
      this.#log.debug({ err }, 'renewal information unavailable; renewing by lifetime');
      this.#window = undefined;
    }
  }

  async #order(): Promise<void> {
    const domains = this.#config.domains;
    const log = this.#log;
    log.info({ domains, directory: this.#config.acmeDirectory }, this.#cur ? 'renewing certificate' : 'ordering certificate');
    try {
      const accountKey = await this.#store.accountKey(createAccountKey);
      const issued = await orderCertificate({
        directoryUrl: this.#config.acmeDirectory,
        ca: this.#ca,
        email: this.#config.acmeEmail,
        log,
        accountKey,
        domains,
        challenges: this.challenges,
      });
      const info = readCertificate(issued.certPem);
      if (!keyMatches(issued.certPem, issued.keyPem)) throw new Error('the CA returned a certificate for another key');
      if (!coversDomains(info, domains)) throw new Error(`the CA returned a certificate for ${info.altNames.join(', ')}`);
      await this.#store.saveCertificate({ ...issued, directory: this.#config.acmeDirectory, domains });
      if (this.#closed) return;
      this.#install({ ...issued, info }, false);
      this.#attempt = 0;
      this.#schedule(0);
    } catch (err) {
      if (this.#closed) return;
      this.#fail(err, classifyFailure(err), 'TLS_ISSUANCE_FAILED');
    }
  }

  #fail(err: unknown, reason: CertificateFailureReason, code: 'TLS_ISSUANCE_FAILED' | 'TLS_CERT_FILE_UNUSABLE'): void {
    this.#attempt++;
    this.#failures++;
    const now = this.#now();
    const message = String((err as Error | undefined)?.message ?? err).slice(0, 500);
    const retryAt =
      code === 'TLS_CERT_FILE_UNUSABLE'
        ? null
        : now + retryDelay({ attempt: this.#attempt, notAfter: this.#cur?.info.notAfter, now, random: this.#random() });
    this.#lastError = { code, reason, message, at: now };
    this.#nextAttemptAt = retryAt;
    this.#log.error(
      {
        err,
        reason,
        attempt: this.#attempt,
        retryAt: retryAt === null ? null : new Date(retryAt).toISOString(),
        serving: this.#cur !== undefined,
      },
      code === 'TLS_ISSUANCE_FAILED'
        ? `certificate order failed (${reason})`
        : 'certificate files unusable; the previous certificate stays in use',
    );
    this.events.emit('certificate-failed', { domains: [...this.#domains], reason, code, message, attempt: this.#attempt, retryAt });
    this.#checkExpiring();
    if (retryAt !== null) this.#schedule(retryAt - now);
  }

  #install(next: ServingCertificate, kept: boolean): void {
    const prev = this.#cur;
    this.#cur = next;
    this.#renewRandom = this.#random();
    this.#window = undefined;
    this.#windowAt = 0;
    this.#lastError = null;
    this.#nextAttemptAt = null;
    this.#expiringWarnedAt = 0;
    const payload = { domains: [...this.#domains], source: this.#source, notBefore: next.info.notBefore, notAfter: next.info.notAfter };
    this.#log.info(
      { domains: payload.domains, issuer: next.info.issuer, notAfter: new Date(next.info.notAfter).toISOString(), kept },
      prev ? 'certificate renewed' : kept ? 'kept certificate in use' : 'certificate issued',
    );
    if (prev) {
      this.#renewals++;
      this.events.emit('certificate-renewed', { ...payload, previousNotAfter: prev.info.notAfter });
    } else {
      this.events.emit('certificate-issued', { ...payload, kept });
    }
  }

  #checkExpiring(): void {
    const c = this.#cur;
    const now = this.#now();
    if (!c || !isExpiring({ notBefore: c.info.notBefore, notAfter: c.info.notAfter, now })) return;
    if (now - this.#expiringWarnedAt < 24 * 3600_000) return;
    this.#expiringWarnedAt = now;
    const hoursLeft = Math.max(0, Math.round((c.info.notAfter - now) / 3600_000));
    this.#log.warn({ domains: this.#domains, hoursLeft }, 'certificate expiring without a successor');
    this.events.emit('certificate-expiring', { domains: [...this.#domains], notAfter: c.info.notAfter, hoursLeft });
  }

  async #reloadFiles(atStart: boolean): Promise<void> {
    const certFile = this.#config.tlsCertFile as string;
    const keyFile = this.#config.tlsKeyFile as string;
    try {
      const [certPem, keyPem] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
      const info = readCertificate(certPem);
      if (!keyMatches(certPem, keyPem)) throw new Error(`${keyFile} is not the key of ${certFile}`);
      if (this.#cur?.info.fingerprint256 === info.fingerprint256 && this.#cur.keyPem === keyPem) return;
      this.#install({ certPem, keyPem, info }, atStart);
    } catch (err) {
      if (atStart) throw err;
      this.#fail(err, 'file', 'TLS_CERT_FILE_UNUSABLE');
    }
  }

  #watchFiles(): void {
    const files = [this.#config.tlsCertFile, this.#config.tlsKeyFile].filter((f): f is string => f !== undefined);
    let debounce: NodeJS.Timeout | undefined;
    // Polling stat follows the path, so a certbot-style symlink swap or a rename over the file is seen.
    const changed = (): void => {
      if (debounce) clearTimeout(debounce);
      // Cert and key are usually written one after the other: wait for both.
      debounce = setTimeout(() => void this.#reloadFiles(false), 500);
      debounce.unref();
    };
    for (const f of files) watchFile(f, { interval: this.#opts.filePollMs ?? 5000, persistent: false }, changed);
    this.#fileWatcher = changed;
    this.#watching = true;
  }
}
