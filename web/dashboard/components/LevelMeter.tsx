// One input's level: RMS as the bar, the held sample peak as a line, the silence threshold marked,
// on a −60…0 dBFS scale. Updated from the live feed ten times a second.
import { db } from '../../shared/format.js';

const FLOOR = -60;
const pct = (v: number): number => Math.max(0, Math.min(100, ((v - FLOOR) / -FLOOR) * 100));

export function LevelMeter({
  label,
  rmsDb,
  peakDb,
  thresholdDb,
  active,
  at,
}: {
  label: string;
  rmsDb: number;
  peakDb: number;
  thresholdDb: number;
  active: boolean;
  /** When the server measured it (the live feed's stamp): tests count the updates by it. */
  at: number | undefined;
}) {
  const zone = rmsDb >= -3 ? 'hot' : rmsDb < thresholdDb ? 'low' : 'ok';
  return (
    <div class="meter-wrap">
      <div
        class={`meter ${active ? '' : 'idle'}`}
        role="meter"
        aria-label={`${label} level`}
        aria-valuemin={FLOOR}
        aria-valuemax={0}
        aria-valuenow={Math.max(FLOOR, rmsDb)}
        aria-valuetext={`RMS ${db(rmsDb)} dBFS, peak ${db(peakDb)} dBFS`}
        data-testid="meter"
        data-rms={rmsDb}
        data-peak={peakDb}
        data-at={at}
      >
        <div class={`meter-rms ${zone}`} style={{ width: `${pct(rmsDb)}%` }} />
        <div class="meter-peak" style={{ left: `${pct(peakDb)}%` }} />
        <div class="meter-threshold" style={{ left: `${pct(thresholdDb)}%` }} title={`silence below ${thresholdDb} dBFS`} />
      </div>
      <div class="meter-scale" aria-hidden="true">
        <span>−60</span>
        <span>−40</span>
        <span>−20</span>
        <span>0 dBFS</span>
      </div>
      <p class="meter-readout">
        RMS <b>{db(rmsDb)}</b> · peak <b>{db(peakDb)}</b> dBFS <span class="muted">· silence below {thresholdDb}</span>
      </p>
    </div>
  );
}
