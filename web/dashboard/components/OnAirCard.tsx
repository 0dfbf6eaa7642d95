// What is on air, big: the tier, the title, since when and why, a crossfade in progress, and a hold
// if an operator keeps the programme on a lower tier.
import { duration, TIER_LABEL, clock } from '../../shared/format.js';
import type { LiveLevels, Status } from '../../shared/types.js';

export function OnAirCard({
  status,
  levels,
  title,
  now,
}: {
  status: Status | null;
  levels: LiveLevels | null;
  title: string | null;
  now: number;
}) {
  const tier = levels?.onAir ?? status?.onAir.tier;
  const hold = levels ? levels.hold : (status?.onAir.hold ?? null);
  // The live feed knows a switch 0.1 s after it happens; the status's "since" catches up on its next read.
  const since = status && status.onAir.tier === tier ? status.onAir.since : null;
  const shownTitle = (status && status.onAir.tier === tier ? status.onAir.title : null) ?? title ?? '';
  return (
    <section class={`card onair tier-${tier ?? 'unknown'}`} aria-labelledby="onair-label" data-testid="onair" data-tier={tier}>
      <h2 id="onair-label" class="eyebrow">
        On air
      </h2>
      <p class="onair-tier" aria-live="polite">
        <span class="dot" aria-hidden="true" />
        {tier ? TIER_LABEL[tier] : '…'}
      </p>
      <p class="onair-title">{shownTitle || <span class="muted">No title</span>}</p>
      <p class="muted">
        {since ? (
          <>
            since {clock(since)} ({duration(now - since)}){status?.onAir.reason ? ` · ${status.onAir.reason}` : ''}
          </>
        ) : (
          ' '
        )}
        {levels?.fading && ` · crossfading ${levels.fading.from} → ${levels.fading.to}`}
      </p>
      {hold && (
        <p class="held" data-testid="held">
          Held on {TIER_LABEL[hold]?.toLowerCase()} by an operator: higher tiers stay off air until released.
        </p>
      )}
    </section>
  );
}
