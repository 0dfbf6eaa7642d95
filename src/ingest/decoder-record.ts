// What the status panel shows of one input's decoder: the current (or last) one decoding its source,
// and the input's decoder starts and failures since the server started. Fed by its sessions' reports.
import type { AudioFormat } from '../types/contracts.js';
import type { DecoderEngine, SourceDecoderSnapshot } from '../types/snapshots.js';

type Format = Exclude<AudioFormat, 'unknown'>;

/** What a session tells its input about its decoder (wall-clock `at`, ms). */
export type DecoderReport =
  | {
      readonly kind: 'started';
      readonly connectionId: number;
      readonly engine: DecoderEngine;
      readonly pid: number | undefined;
      readonly format: Format;
      readonly at: number;
    }
  | { readonly kind: 'exited'; readonly connectionId: number; readonly at: number }
  | {
      readonly kind: 'failed';
      readonly connectionId: number;
      readonly format: Format | undefined;
      readonly code: string;
      readonly message: string;
      readonly at: number;
    };

interface LastDecoder {
  readonly connectionId: number;
  readonly engine: DecoderEngine | undefined;
  readonly pid: number | undefined;
  readonly format: Format | undefined;
  readonly startedAt: number | undefined;
  exitedAt: number | undefined;
  failed: boolean;
}

export class DecoderRecord {
  #last: LastDecoder | undefined;
  #starts = 0;
  #failures = 0;
  #lastError: SourceDecoderSnapshot['lastError'];

  report(r: DecoderReport): void {
    // Connection ids grow; a replaced source still draining must not overwrite its successor's decoder.
    const newest = this.#last === undefined || r.connectionId >= this.#last.connectionId;
    switch (r.kind) {
      case 'started':
        this.#starts++;
        if (newest)
          this.#last = {
            connectionId: r.connectionId,
            engine: r.engine,
            pid: r.pid,
            format: r.format,
            startedAt: r.at,
            exitedAt: undefined,
            failed: false,
          };
        break;
      case 'exited':
        if (this.#last?.connectionId === r.connectionId) this.#last.exitedAt = r.at;
        break;
      case 'failed':
        this.#failures++;
        this.#lastError = { code: r.code, message: r.message, at: r.at };
        if (this.#last?.connectionId === r.connectionId) this.#last.failed = true;
        else if (newest) {
          // It never started (ffmpeg could not be spawned): no process to show, only the failure.
          this.#last = {
            connectionId: r.connectionId,
            engine: undefined,
            pid: undefined,
            format: r.format,
            startedAt: undefined,
            exitedAt: r.at,
            failed: true,
          };
        }
        break;
    }
  }

  /** `currentConnectionId`: the input's source now, if any (a decoder whose source left is draining). */
  snapshot(now: number, currentConnectionId: number | undefined): SourceDecoderSnapshot {
    const d = this.#last;
    const running = d !== undefined && d.startedAt !== undefined && d.exitedAt === undefined;
    let state: SourceDecoderSnapshot['state'] = 'idle';
    if (d?.failed) state = 'failed';
    else if (running) state = d.connectionId === currentConnectionId ? 'running' : 'draining';
    else if (d) state = 'stopped';
    return {
      state,
      running,
      engine: d?.engine,
      pid: d?.pid,
      format: d?.format,
      startedAt: d?.startedAt,
      exitedAt: d?.exitedAt,
      uptimeMs: running && d.startedAt !== undefined ? Math.max(0, now - d.startedAt) : 0,
      starts: this.#starts,
      failures: this.#failures,
      lastError: this.#lastError,
    };
  }
}
