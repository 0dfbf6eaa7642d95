// An operator's hold survives a restart: a maintenance hold that silently vanished when the process
// restarted would put a studio on air that the operator had taken off. Kept in <dataDir>/hold.json,
// written atomically; re-applied at start-up with a timeline line that says so.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-file.js';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { HoldTier } from '../types/contracts.js';

export class HoldStore {
  readonly #file: string;
  readonly #log: Logger;
  #writes: Promise<void> = Promise.resolve();

  constructor(dataDir: string, log: Logger) {
    this.#file = join(dataDir, 'hold.json');
    this.#log = log;
  }

  async load(): Promise<{ tier: HoldTier; by: string; at: number } | null> {
    try {
      const raw = JSON.parse(await readFile(this.#file, 'utf8')) as { tier?: unknown; by?: unknown; at?: unknown };
      if (raw.tier !== 'fallback' && raw.tier !== 'emergency') return null;
      return { tier: raw.tier, by: typeof raw.by === 'string' ? raw.by : 'unknown', at: typeof raw.at === 'number' ? raw.at : 0 };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.#log.error({ err }, 'stored hold unreadable: no hold');
      return null;
    }
  }

  save(tier: HoldTier | null, by: string): Promise<void> {
    const body = JSON.stringify({ tier, by, at: Date.now() }) + '\n';
    const next = this.#writes.then(() => writeFileAtomic(this.#file, body));
    this.#writes = next.catch((err: unknown) => this.#log.error({ err }, 'hold not stored'));
    return next;
  }
}
