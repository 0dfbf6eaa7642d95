// Passwords a station did not configure are generated once, kept in the data dir (0600) and reused,
// so encoders stay configured across restarts. Returned to the caller to print once at start-up.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './load.js';

export interface Secrets {
  readonly sourcePassword: string;
  readonly adminPassword: string;
  readonly relayPassword: string;
}

export interface ResolvedSecrets {
  readonly secrets: Secrets;
  /** Names of passwords generated or read from the data dir, i.e. the ones the operator did not set. */
  readonly generated: readonly (keyof Secrets)[];
}

function strongPassword(): string {
  return randomBytes(18).toString('base64url');
}

export function resolveSecrets(config: Config): ResolvedSecrets {
  const file = join(config.dataDir, 'secrets.json');
  let stored: Partial<Secrets> = {};
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<Secrets>;
  } catch {
    stored = {};
  }
  const generated: (keyof Secrets)[] = [];
  const pick = (name: 'sourcePassword' | 'adminPassword'): string => {
    const configured = config[name];
    if (configured) return configured;
    generated.push(name);
    return stored[name] ?? strongPassword();
  };
  const sourcePassword = pick('sourcePassword');
  const adminPassword = pick('adminPassword');
  const relayPassword = config.relayPassword ?? adminPassword;
  if (generated.length > 0) {
    mkdirSync(config.dataDir, { recursive: true });
    const toStore: Record<string, string> = {};
    for (const name of generated) toStore[name] = name === 'sourcePassword' ? sourcePassword : adminPassword;
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, JSON.stringify(toStore, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, file);
  }
  return { secrets: Object.freeze({ sourcePassword, adminPassword, relayPassword }), generated };
}
