// Says so while the live feed is down: the server does not answer (the feed keeps trying by itself), or
// the server refused the sign-in the feed was opened with and a new one is being made.
import type { LiveState } from '../../shared/live.js';
import { clock } from '../../shared/format.js';

export function ConnectionBanner({ state, since }: { state: LiveState; since: number | null }) {
  if (state === 'open' || (state === 'connecting' && since === null)) return null;
  if (state === 'unauthorized') {
    // The server answers; only the sign-in is being renewed (when Appwrite is down, the page's error
    // banner says so instead of this): "offline" would send the operator looking at the wrong thing.
    return (
      <div class="banner warn" role="status" data-testid="live-paused">
        Live updates paused while the sign-in is renewed…
      </div>
    );
  }
  return (
    <div class="banner offline" role="status" data-testid="offline">
      <strong>Offline</strong> — the server does not answer{since ? ` since ${clock(since)}` : ''}. Reconnecting by itself…
    </div>
  );
}
