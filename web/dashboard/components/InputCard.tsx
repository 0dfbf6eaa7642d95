// One studio input as the operator sees it: connected or not, who (user agent, address, format,
// bitrate), since when, the live level, the jitter buffer against its target, underruns; and, for the
// write role, a button to kick the source.
import { bytes, clock, duration } from '../../shared/format.js';
import type { LiveInputLevel, StudioInput } from '../../shared/types.js';
import { LevelMeter } from './LevelMeter.js';

const NAME = { primary: 'Primary studio', fallback: 'Fallback studio' } as const;

/** The bitrate the source announced (ice-bitrate), or else the one measured from the bytes received so far. */
function bitrate(input: StudioInput, now: number): string {
  if (input.bitrate) return ` · ${input.bitrate} kbit/s`;
  const s = input.connectedSince ? (now - input.connectedSince) / 1000 : 0;
  return s >= 5 ? ` · ≈${Math.round((input.bytesIn * 8) / s / 1000)} kbit/s measured` : '';
}

export function InputCard({
  input,
  live,
  port,
  thresholdDb,
  now,
  onAir,
  onKick,
  at,
}: {
  input: StudioInput;
  live: LiveInputLevel | null;
  /** The live feed's stamp of `live`. */
  at: number | undefined;
  port: number | undefined;
  thresholdDb: number;
  now: number;
  onAir: boolean;
  onKick: (() => void) | null;
}) {
  const connected = live ? live.connected : input.state !== 'idle';
  const available = live ? live.available : input.available;
  const silent = live ? live.silent : input.silent;
  const depth = live ? live.bufferMs : input.buffer.depthMs;
  const target = input.buffer.targetMs;
  const state = !connected
    ? 'Not connected'
    : !available
      ? `Connected, not usable (${input.unavailableReason ?? 'waiting'})`
      : silent
        ? 'Connected, silent'
        : 'Connected';
  const health = !connected ? 'idle' : !available || silent ? 'warn' : 'ok';
  return (
    <section class={`card input ${health}`} aria-labelledby={`input-${input.id}`} data-testid={`input-${input.id}`}>
      <header class="input-head">
        <h2 id={`input-${input.id}`}>
          {NAME[input.id]}
          {onAir && <span class="badge onair-badge">on air</span>}
        </h2>
        <span class={`state ${health}`} data-testid="input-state">
          {state}
        </span>
      </header>
      {connected ? (
        <dl class="facts">
          <dt>Client</dt>
          <dd title={input.userAgent ?? ''}>{input.userAgent ?? 'unknown'}</dd>
          <dt>Address</dt>
          <dd>{input.clientAddress ?? '—'}</dd>
          <dt>Format</dt>
          <dd>
            {input.format ?? '—'}
            {bitrate(input, now)}
            {input.protocol ? ` · ${input.protocol}` : ''}
          </dd>
          <dt>Since</dt>
          <dd>
            {input.connectedSince
              ? `${clock(input.connectedSince)} (${duration(now - input.connectedSince)}) · ${bytes(input.bytesIn)} in`
              : '—'}
          </dd>
        </dl>
      ) : (
        <p class="muted">Waiting for an encoder on port {port ?? '…'} (Icecast source, any mount).</p>
      )}
      <LevelMeter
        label={NAME[input.id]}
        rmsDb={live?.levelDb ?? input.levelDb}
        peakDb={live?.peakDb ?? input.peakDb}
        thresholdDb={thresholdDb}
        active={connected}
        at={at}
      />
      <div class="buffer">
        <span>
          Buffer <b>{Math.round(depth)} ms</b> of {Math.round(target)} ms target
        </span>
        <progress max={Math.max(target * 2, depth, 1)} value={depth} aria-label={`${NAME[input.id]} buffer depth`} />
        <span class={input.buffer.underruns > 0 ? 'warn-text' : 'muted'}>
          {input.buffer.underruns} underrun{input.buffer.underruns === 1 ? '' : 's'} · jitter {Math.round(input.buffer.jitterMs)} ms
        </span>
      </div>
      {onKick && connected && (
        <button type="button" class="danger" onClick={onKick} data-testid="kick">
          Kick this source
        </button>
      )}
    </section>
  );
}
