// Says so while the dashboard cannot reach the server (it keeps trying by itself).
import type { LiveState } from '../../shared/live.js';
import { clock } from '../../shared/format.js';

export function ConnectionBanner({ state, since }: { state: LiveState; since: number | null }) {
  if (state === 'open' || (state === 'connecting' && since === null)) return null;
  return (
    <div class="banner offline" role="status" data-testid="offline">
      <strong>Offline</strong> — the server does not answer{since ? ` since ${clock(since)}` : ''}. Reconnecting by itself…
    </div>
  );
}
