// The one piece of HLS state that outlives the process: the next media sequence number and the last
// discontinuity sequence, so a restarted server continues both (RFC 8216 §6.2.2: they never go back).
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';

export interface HlsState {
  readonly nextMsn: number;
  readonly lastDisc: number;
}

export const STATE_FILE = 'hls-state.json';

export async function loadState(dataDir: string, log: Logger): Promise<HlsState | undefined> {
  const path = join(dataDir, STATE_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ err, path }, 'cannot read HLS state; media sequence starts at 0');
    return undefined;
  }
  try {
    const v = JSON.parse(text) as Partial<HlsState>;
    if (Number.isSafeInteger(v.nextMsn) && Number.isSafeInteger(v.lastDisc) && (v.nextMsn ?? -1) >= 0 && (v.lastDisc ?? -1) >= 0) {
      return { nextMsn: v.nextMsn as number, lastDisc: v.lastDisc as number };
    }
  } catch {
    // fall through: a corrupt file is reported below
  }
  log.warn({ path }, 'HLS state file is corrupt; media sequence starts at 0');
  return undefined;
}

const RETRIES = 10;
const RETRY_MS = 500;

/** Writes the state atomically (temp file + rename), one write at a time, always the latest value. */
export class StateWriter {
  readonly #dir: string;
  readonly #log: Logger;
  #pending: HlsState | undefined;
  #running: Promise<void> | undefined;

  constructor(dataDir: string, log: Logger) {
    this.#dir = dataDir;
    this.#log = log;
  }

  save(state: HlsState): void {
    this.#pending = state;
    this.#running ??= this.#loop();
  }

  /** Resolves once everything saved so far is on disk. */
  async flush(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #loop(): Promise<void> {
    let failures = 0;
    try {
      while (this.#pending) {
        const state = this.#pending;
        this.#pending = undefined;
        const path = join(this.#dir, STATE_FILE);
        const tmp = `${path}.${process.pid}.tmp`;
        try {
          await mkdir(this.#dir, { recursive: true });
          await writeFile(tmp, JSON.stringify(state) + '\n');
          await rename(tmp, path);
          failures = 0;
        } catch (err) {
          // A transient failure (EMFILE while descriptors run out, ENOSPC) must not lose the state: it is
          // retried until a newer state replaces it, for a few seconds at most, so close() still ends.
          failures++;
          const retry = failures <= RETRIES;
          this.#log.error({ err, path, retry }, 'cannot write HLS state: the media sequence may repeat after a restart');
          if (retry) {
            this.#pending ??= state;
            await new Promise((r) => setTimeout(r, RETRY_MS));
          }
        }
      }
    } finally {
      this.#running = undefined;
    }
  }
}
