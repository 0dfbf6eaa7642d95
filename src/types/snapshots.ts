// What observers may read of each component (`Antenna.snapshot()`): plain data, copied on every call.
import type { SupervisedKind } from './events.js';

/** One supervised unit (an encoder's ffmpeg) as the supervisor records it. */
export interface SupervisedSnapshot {
  readonly name: string;
  readonly kind: SupervisedKind;
  readonly state: 'running' | 'restarting';
  readonly pid: number | undefined;
  /** Wall-clock ms of the current (or last) start. */
  readonly startedAt: number | undefined;
  readonly uptimeMs: number;
  /** Restarts decided by the supervisor since the server started. */
  readonly restarts: number;
  readonly lastError:
    { readonly code: string; readonly message: string; readonly at: number; readonly stderrTail: readonly string[] } | undefined;
}
