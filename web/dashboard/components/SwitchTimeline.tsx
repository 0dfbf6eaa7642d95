// The last 24 hours as a coloured band: which tier was on air when, built from the switches in the
// timeline (the server keeps it in memory, so before its last start the band says "no record").
// Below it, each switch with its reason, newest first.
import { clock, TIER_LABEL } from '../../shared/format.js';
import type { TimelineItem, Tier } from '../../shared/types.js';
import { memo } from '../../shared/memo.js';

const DAY = 24 * 3600_000;

interface Span {
  from: number;
  to: number;
  tier: Tier | null;
}

export function spans(events: readonly TimelineItem[], current: Tier | undefined, now: number): Span[] {
  const start = now - DAY;
  const switches = events.filter((e) => e.type === 'switch' && e.at >= start).sort((a, b) => a.at - b.at);
  const started = [...events].reverse().find((e) => e.type === 'server-started');
  const out: Span[] = [];
  // Before the server's start there is no record; from the start until the first switch the first switch's "from" was on air.
  let t = Math.max(start, started?.at ?? start);
  if (t > start) out.push({ from: start, to: t, tier: null });
  let tier = (switches[0]?.detail.from as Tier | undefined) ?? current ?? null;
  for (const s of switches) {
    if (s.at < t) continue;
    out.push({ from: t, to: s.at, tier });
    t = s.at;
    tier = s.detail.to as Tier;
  }
  out.push({ from: t, to: now, tier: current ?? tier });
  return out.filter((s) => s.to > s.from);
}

function SwitchTimelineView({ events, current, now }: { events: readonly TimelineItem[]; current: Tier | undefined; now: number }) {
  const list = spans(events, current, now);
  const switches = events.filter((e) => e.type === 'switch' && e.at >= now - DAY).reverse();
  const ticks = [0, 6, 12, 18, 24].map((h) => now - DAY + h * 3600_000);
  return (
    <section class="card" aria-labelledby="switch-label">
      <h2 id="switch-label">On air, last 24 hours</h2>
      <div
        class="band"
        role="img"
        aria-label={`On-air tiers over the last 24 hours: ${switches.length} switches`}
        data-testid="switch-band"
      >
        {list.map((s) => (
          <div
            key={s.from}
            class={`seg ${s.tier ? `tier-${s.tier}` : 'none'}`}
            // A span of seconds at the right end stays a visible sliver inside the band.
            style={{ left: `min(${((s.from - (now - DAY)) / DAY) * 100}%, calc(100% - 3px))`, width: `${((s.to - s.from) / DAY) * 100}%` }}
            title={`${s.tier ? TIER_LABEL[s.tier] : 'no record (server not running)'}: ${clock(s.from)} – ${clock(s.to)}`}
          />
        ))}
      </div>
      <div class="band-axis" aria-hidden="true">
        {ticks.map((t, i) => (
          <span key={t}>{i === 4 ? 'now' : new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}</span>
        ))}
      </div>
      <ul class="legend" aria-hidden="true">
        <li>
          <i class="tier-primary" /> primary
        </li>
        <li>
          <i class="tier-fallback" /> fallback
        </li>
        <li>
          <i class="tier-emergency" /> emergency
        </li>
        <li>
          <i class="none" /> no record
        </li>
      </ul>
      {switches.length > 0 ? (
        <ol class="switch-list">
          {switches.slice(0, 8).map((s) => (
            <li key={`${s.seq}-${s.at}`}>
              <time>{clock(s.at)}</time> {String(s.detail.from)} → <b>{String(s.detail.to)}</b>{' '}
              <span class="muted">{String(s.detail.reason ?? '')}</span>
            </li>
          ))}
        </ol>
      ) : (
        <p class="muted">No switch since the server started.</p>
      )}
    </section>
  );
}

export const SwitchTimeline = memo(SwitchTimelineView);
