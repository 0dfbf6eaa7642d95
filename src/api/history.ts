// Listener history: listeners per mount (and HLS sessions) at one-minute resolution, kept in the data
// dir as one append-only JSON-lines file per UTC day, pruned to `days`. Each minute keeps the peak of
// the per-second samples. One line is appended per minute; a line torn by a crash is skipped on read.
import { mkdir, appendFile, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';

export interface HistoryPoint {
  /** Start of the minute (ms since the epoch, UTC). */
  readonly t: number;
  readonly total: number;
  readonly mounts: Readonly<Record<string, number>>;
}

export interface HistoryOptions {
  readonly dir: string;
  readonly days: number;
  readonly log: Logger;
}

const MINUTE = 60_000;
const DAY = 86_400_000;
const FILE = /^listeners-(\d{4}-\d{2}-\d{2})\.jsonl$/;
/** Mount names kept per point: a bound on line size whatever the configuration. */
const MAX_MOUNTS = 64;

const dayOf = (t: number): string => new Date(t).toISOString().slice(0, 10);

export class ListenerHistory {
  readonly #o: HistoryOptions;
  #minute = -1;
  #peaks: Record<string, number> = {};
  #writes: Promise<void> = Promise.resolve();
  #lastPrunedDay = '';
  #closed = false;

  private constructor(o: HistoryOptions) {
    this.#o = o;
  }

  static async open(o: HistoryOptions): Promise<ListenerHistory> {
    await mkdir(o.dir, { recursive: true });
    const h = new ListenerHistory(o);
    await h.#prune(Date.now());
    return h;
  }

  /** A per-second sample of listener counts by mount; writes the previous minute once a new one starts. */
  sample(counts: Readonly<Record<string, number>>, now = Date.now()): void {
    if (this.#closed) return;
    const minute = Math.floor(now / MINUTE) * MINUTE;
    if (minute !== this.#minute) {
      this.#flush();
      this.#minute = minute;
      this.#peaks = {};
    }
    for (const [mount, n] of Object.entries(counts).slice(0, MAX_MOUNTS)) this.#peaks[mount] = Math.max(this.#peaks[mount] ?? 0, n);
  }

  /** Points of the last `minutes` minutes, oldest first, the minute in progress included. */
  async query(minutes: number, now = Date.now()): Promise<HistoryPoint[]> {
    await this.#writes;
    const from = Math.floor(now / MINUTE) * MINUTE - (minutes - 1) * MINUTE;
    const points = new Map<number, HistoryPoint>();
    for (let day = Math.floor(from / DAY) * DAY; day <= now; day += DAY) {
      let text: string;
      try {
        text = await readFile(join(this.#o.dir, `listeners-${dayOf(day)}.jsonl`), 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n')) {
        const p = parseLine(line);
        if (p && p.t >= from && p.t <= now) points.set(p.t, p);
      }
    }
    if (this.#minute >= from) points.set(this.#minute, point(this.#minute, this.#peaks));
    return [...points.values()].sort((a, b) => a.t - b.t);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    await this.#writes;
  }

  #flush(): void {
    if (this.#minute < 0) return;
    const p = point(this.#minute, this.#peaks);
    const line = JSON.stringify({ t: p.t, m: p.mounts }) + '\n';
    const file = join(this.#o.dir, `listeners-${dayOf(p.t)}.jsonl`);
    const t = p.t;
    this.#writes = this.#writes
      .then(() => appendFile(file, line))
      .then(() => this.#prune(t))
      .catch((err: unknown) => this.#o.log.error({ err }, 'listener history not written'));
  }

  async #prune(now: number): Promise<void> {
    const today = dayOf(now);
    if (today === this.#lastPrunedDay) return;
    this.#lastPrunedDay = today;
    const oldest = dayOf(now - this.#o.days * DAY);
    for (const f of await readdir(this.#o.dir)) {
      const m = FILE.exec(f);
      if (m?.[1] && m[1] < oldest) await rm(join(this.#o.dir, f), { force: true });
    }
  }
}

function point(t: number, mounts: Record<string, number>): HistoryPoint {
  const copy = { ...mounts };
  return { t, total: Object.values(copy).reduce((a, b) => a + b, 0), mounts: copy };
}

function parseLine(line: string): HistoryPoint | undefined {
  if (!line) return undefined;
  try {
    const raw = JSON.parse(line) as { t?: unknown; m?: unknown };
    if (typeof raw.t !== 'number' || typeof raw.m !== 'object' || raw.m === null) return undefined;
    const mounts: Record<string, number> = {};
    for (const [k, v] of Object.entries(raw.m as Record<string, unknown>)) if (typeof v === 'number') mounts[k] = v;
    return point(raw.t, mounts);
  } catch {
    return undefined; // a line torn by a crash
  }
}
