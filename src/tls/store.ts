// The TLS state kept in the data dir (`<dataDir>/tls/`, files mode 0600, directory 0700): the ACME
// account key, the certificate chain and its key, and which directory and names it was ordered for.
// Writes are atomic (temporary file + rename), so a crash never leaves half a key.
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface KeptCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  readonly directory: string;
  readonly domains: readonly string[];
}

export class TlsStore {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'tls');
  }

  async #ensureDir(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
  }

  async #write(name: string, data: string): Promise<void> {
    await this.#ensureDir();
    const path = join(this.dir, name);
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, data, { mode: 0o600 });
    await rename(tmp, path);
  }

  async #read(name: string): Promise<string | undefined> {
    try {
      return await readFile(join(this.dir, name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** The ACME account key, created by `create` on first use and kept for every later order. */
  async accountKey(create: () => Promise<string>): Promise<string> {
    const kept = await this.#read('account-key.pem');
    if (kept) return kept;
    const key = await create();
    await this.#write('account-key.pem', key);
    return key;
  }

  async loadCertificate(): Promise<KeptCertificate | undefined> {
    const [certPem, keyPem, meta] = await Promise.all([this.#read('cert.pem'), this.#read('key.pem'), this.#read('cert.json')]);
    if (!certPem || !keyPem || !meta) return undefined;
    try {
      const m = JSON.parse(meta) as { directory?: unknown; domains?: unknown };
      if (typeof m.directory !== 'string' || !Array.isArray(m.domains)) return undefined;
      return { certPem, keyPem, directory: m.directory, domains: m.domains.map(String) };
    } catch {
      return undefined;
    }
  }

  /** Key first, then chain, then the record: a crash in between leaves a pair that fails keyMatches, never a wrong one in use. */
  async saveCertificate(c: KeptCertificate): Promise<void> {
    await this.#write('key.pem', c.keyPem);
    await this.#write('cert.pem', c.certPem);
    await this.#write(
      'cert.json',
      JSON.stringify({ directory: c.directory, domains: c.domains, savedAt: new Date().toISOString() }) + '\n',
    );
  }
}
