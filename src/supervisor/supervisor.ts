// The one place that decides restarts (style point 6): units report `started` and `died`; the
// supervisor restarts a dead unit after a capped exponential backoff and keeps the record the status API shows.
import type { Logger } from 'pino';
import type { PipelineFault } from '../errors.js';
import type { SupervisedEngine, SupervisedKind, SupervisorEvents } from '../types/events.js';
import type { SupervisedSnapshot } from '../types/snapshots.js';
import { Backoff } from '../util/backoff.js';
import { TypedEmitter } from '../util/typed-emitter.js';

export interface DeathReport {
  readonly fault: PipelineFault;
  readonly pid: number | undefined;
  readonly stderrTail: readonly string[];
}

/** What a unit must offer to be supervised. */
export interface Supervisable {
  readonly name: string;
  readonly kind: SupervisedKind;
  readonly engine: SupervisedEngine;
  /** Subscribes the supervisor to the unit's reports; returns the unsubscribers. */
  subscribe(handlers: { started(pid: number | undefined): void; died(report: DeathReport): void }): (() => void)[];
  /** Starts a replacement; resolves once it runs, rejects if it cannot start. A no-op if one already runs. */
  restart(): Promise<void>;
}

export interface SupervisorOptions {
  readonly log: Logger;
  /** Backoff per unit: first delay, cap, and how long a unit must run before the delay resets. */
  readonly baseMs?: number;
  readonly maxMs?: number;
  readonly stableMs?: number;
}

interface Record {
  readonly unit: Supervisable;
  readonly backoff: Backoff;
  readonly unsubscribe: (() => void)[];
  state: SupervisedSnapshot['state'];
  pid: number | undefined;
  startedAt: number | undefined;
  restarts: number;
  diedAt: number | undefined;
  lastError: { code: string; message: string; at: number; stderrTail: readonly string[] } | undefined;
  timer: NodeJS.Timeout | undefined;
}

export class Supervisor {
  readonly events: TypedEmitter<SupervisorEvents>;
  readonly #log: Logger;
  readonly #opts: SupervisorOptions;
  readonly #records = new Map<string, Record>();
  #closed = false;

  constructor(opts: SupervisorOptions) {
    this.#opts = opts;
    this.#log = opts.log;
    this.events = new TypedEmitter<SupervisorEvents>(opts.log);
  }

  /** Watches a running unit from now on; returns a function that stops watching it. */
  watch(unit: Supervisable, pid?: number): () => void {
    const rec: Record = {
      unit,
      backoff: new Backoff(this.#opts.baseMs, this.#opts.maxMs, this.#opts.stableMs),
      unsubscribe: [],
      state: 'running',
      pid,
      startedAt: Date.now(),
      restarts: 0,
      diedAt: undefined,
      lastError: undefined,
      timer: undefined,
    };
    rec.backoff.started();
    rec.unsubscribe.push(...unit.subscribe({ started: (p) => this.#started(rec, p), died: (r) => this.#died(rec, r) }));
    this.#records.set(unit.name, rec);
    return () => this.#forget(rec);
  }

  snapshot(): SupervisedSnapshot[] {
    const now = Date.now();
    return [...this.#records.values()].map((r) => ({
      name: r.unit.name,
      kind: r.unit.kind,
      engine: r.unit.engine,
      state: r.state,
      pid: r.pid,
      startedAt: r.startedAt,
      uptimeMs: r.state === 'running' && r.startedAt !== undefined ? now - r.startedAt : 0,
      restarts: r.restarts,
      lastError: r.lastError,
    }));
  }

  /** Cancels pending restarts and stops watching; idempotent. The units themselves are closed by their owners. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const r of [...this.#records.values()]) this.#forget(r);
    this.events.removeAllListeners();
  }

  #forget(r: Record): void {
    if (r.timer) clearTimeout(r.timer);
    r.timer = undefined;
    for (const off of r.unsubscribe.splice(0)) off();
    this.#records.delete(r.unit.name);
  }

  #started(r: Record, pid: number | undefined): void {
    r.backoff.started();
    r.state = 'running';
    r.pid = pid;
    r.startedAt = Date.now();
  }

  #died(r: Record, report: DeathReport): void {
    r.lastError = { code: report.fault.code, message: report.fault.message, at: Date.now(), stderrTail: report.stderrTail };
    if (r.state === 'restarting') return; // a restart is already on its way
    r.state = 'restarting';
    r.pid = undefined;
    r.diedAt = performance.now();
    this.#schedule(r);
  }

  #schedule(r: Record): void {
    if (this.#closed || r.timer) return;
    const inMs = r.backoff.next();
    const { name, kind } = r.unit;
    this.#log.warn({ unit: name, kind, inMs, attempt: r.backoff.attempts }, 'restart scheduled');
    this.events.emit('restart-scheduled', { name, kind, inMs, attempt: r.backoff.attempts });
    r.timer = setTimeout(() => {
      r.timer = undefined;
      if (this.#closed) return;
      r.unit.restart().then(
        () => {
          if (this.#closed || !this.#records.has(name)) return;
          r.restarts++;
          r.state = 'running';
          const downMs = Math.round(performance.now() - (r.diedAt ?? performance.now()));
          this.#log.info({ unit: name, kind, restarts: r.restarts, downMs }, 'restarted');
          this.events.emit('restarted', { name, kind, restarts: r.restarts, downMs });
        },
        (err: unknown) => {
          if (this.#closed || !this.#records.has(name)) return;
          const message = err instanceof Error ? err.message : String(err);
          r.lastError = { code: 'FFMPEG_START_FAILED', message, at: Date.now(), stderrTail: [] };
          this.#log.error({ unit: name, kind, err }, 'restart failed');
          this.events.emit('restart-failed', { name, kind, message });
          this.#schedule(r);
        },
      );
    }, inMs);
  }
}
