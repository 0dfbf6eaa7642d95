// The decoders beside the encoders: each studio input's decoder (one per source connection, so failures
// are counted per input rather than restarts) and the emergency file's one-off decode. Failed rows are
// red and sorted to the top; an input with past failures has its count in the warning colour.
import { dateTime, duration, TIER_LABEL } from '../../shared/format.js';
import type { EmergencyDecoder, SourceDecoder } from '../../shared/types.js';

/** The same column widths in the encoder and decoder tables, so the two read as one list. */
export function ComponentColumns() {
  return (
    <colgroup>
      <col class="c-name" />
      <col class="c-state" />
      <col class="c-uptime" />
      <col class="c-count" />
      <col class="c-error" />
    </colgroup>
  );
}

/** The pill's look per state: green while decoding, red when it failed, grey when there is nothing to decode. */
const LOOK: Record<SourceDecoder['state'] | EmergencyDecoder['state'], 'ok' | 'bad' | 'idle'> = {
  running: 'ok',
  draining: 'idle',
  idle: 'idle',
  stopped: 'idle',
  failed: 'bad',
  loaded: 'ok',
  reloading: 'idle',
};
const STATE_TEXT: Record<SourceDecoder['state'], string> = {
  running: 'running',
  draining: 'draining',
  idle: 'no source yet',
  stopped: 'stopped',
  failed: 'failed',
};

interface Row {
  readonly key: string;
  readonly name: string;
  readonly detail: string;
  readonly state: keyof typeof LOOK;
  readonly stateText: string;
  readonly uptime: string;
  /** The uptime cell holds an uptime (not "exited …" or "decoded …"): the phone layout labels it so. */
  readonly isUptime: boolean;
  readonly failures: number;
  readonly error: string;
}

/** "12 s ago", against the server's own clock (the status's `at`), so a skewed browser clock does not matter. */
const ago = (at: number, serverNow: number): string => `${duration(serverNow - at)} ago`;

function sourceRow(d: SourceDecoder, serverNow: number): Row {
  const where = d.engine === 'mpg123' ? 'in-process (mpg123)' : d.pid !== null && d.running ? `pid ${d.pid}` : '';
  const what = [d.format ? `${d.format} decoder` : 'decoder', where].filter(Boolean);
  let uptime = '—';
  if (d.running) uptime = duration(d.uptimeMs);
  else if (d.exitedAt !== null) uptime = `exited ${ago(d.exitedAt, serverNow)}`;
  return {
    key: d.input,
    name: TIER_LABEL[d.input] ?? d.input,
    detail: what.join(' · '),
    state: d.state,
    stateText: STATE_TEXT[d.state],
    uptime,
    isUptime: d.running,
    failures: d.failures,
    error: d.lastError ? `${dateTime(d.lastError.at)}: ${d.lastError.message}` : '',
  };
}

function emergencyRow(e: EmergencyDecoder, serverNow: number): Row {
  const name = e.file.split('/').pop() ?? e.file;
  const loaded = e.durationMs > 0 ? `${duration(e.durationMs)} in memory` : 'nothing in memory';
  return {
    key: 'emergency',
    name: 'Emergency file',
    detail: `${name} · ${loaded}${e.pid !== null ? ` · pid ${e.pid}` : ''}`,
    // Silence on the emergency tier is as bad as a failed file, whatever the last decode said.
    state: e.durationMs === 0 ? 'failed' : e.state,
    stateText: e.state,
    uptime: e.decodedAt !== null ? `decoded ${ago(e.decodedAt, serverNow)}${e.decodeMs !== null ? ` in ${e.decodeMs} ms` : ''}` : '—',
    isUptime: false,
    failures: e.failures,
    error: e.problem ?? (e.lastProblem ? `${dateTime(e.lastProblem.at)}: ${e.lastProblem.message}` : ''),
  };
}

export function DecodersTable({ decoders, emergency, at }: { decoders: SourceDecoder[]; emergency: EmergencyDecoder; at: number }) {
  const rows = [...decoders.map((d) => sourceRow(d, at)), emergencyRow(emergency, at)].sort(
    (a, b) => Number(LOOK[a.state] !== 'bad') - Number(LOOK[b.state] !== 'bad'),
  );
  return (
    <div class="table-wrap">
      <table class="components" data-testid="decoders">
        <ComponentColumns />
        <thead>
          <tr>
            <th scope="col">Decoder</th>
            <th scope="col">State</th>
            <th scope="col">Uptime</th>
            <th scope="col">Failures</th>
            <th scope="col">Last error</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const look = LOOK[r.state];
            return (
              <tr
                key={r.key}
                data-testid={`decoder-${r.key}`}
                data-state={r.state}
                class={look === 'bad' ? 'bad' : r.failures > 0 ? 'warn' : ''}
              >
                <th scope="row">
                  {r.name} <span class="muted sub">{r.detail}</span>
                </th>
                <td>
                  <span class={`pill ${look}`}>{r.stateText}</span>
                </td>
                <td data-label={r.isUptime ? 'Uptime' : undefined}>{r.uptime}</td>
                <td data-label="Failures">{r.failures}</td>
                <td class="err">{r.error}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
