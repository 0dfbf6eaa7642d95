// The operator's programme controls (write role only): set the on-air title, hold the programme on
// a lower tier for maintenance and release it. Each asks for confirmation first.
import { useState } from 'preact/hooks';
import { ApiFailure, type Api } from '../../shared/api.js';
import { TIER_LABEL } from '../../shared/format.js';
import type { HoldTier, Tier } from '../../shared/types.js';
import type { ConfirmRequest } from './ConfirmDialog.js';

export function ControlsPanel({
  api,
  hold,
  onAir,
  confirm,
  done,
}: {
  api: Api;
  hold: HoldTier | null;
  onAir: Tier | undefined;
  confirm: (r: ConfirmRequest) => void;
  done: () => void;
}) {
  const [title, setTitle] = useState('');
  const [message, setMessage] = useState<{ text: string; bad: boolean } | null>(null);
  const run = async (what: () => Promise<unknown>, ok: string): Promise<void> => {
    try {
      await what();
      setMessage({ text: ok, bad: false });
    } catch (err) {
      setMessage({ text: err instanceof ApiFailure ? err.message : String(err), bad: true });
    }
    done();
  };
  const holdOn = (tier: HoldTier | null): void =>
    confirm({
      title: tier ? `Hold on the ${TIER_LABEL[tier]?.toLowerCase()}?` : 'Release the hold?',
      body: tier ? (
        <p>
          The programme stays on the {TIER_LABEL[tier]?.toLowerCase()}
          {tier === 'emergency' ? ' even while the studios are fine' : ' even while the primary studio is fine'}, until you release it.
          Listeners hear the switch.
        </p>
      ) : (
        <p>The programme goes back to the best available studio at once.</p>
      ),
      confirm: tier ? 'Hold' : 'Release',
      danger: tier !== null,
      run: () => run(() => api.post('/api/mixer/hold', { tier }), tier ? `Held on ${tier}.` : 'Hold released.'),
    });
  return (
    <section class="card" aria-labelledby="controls-label" data-testid="controls">
      <h2 id="controls-label">Programme controls</h2>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          const t = title.trim();
          if (!t) return;
          confirm({
            title: 'Set the on-air title?',
            body: <p>Listeners see “{t}” now (until the studio's encoder sends its next title).</p>,
            confirm: 'Set title',
            run: () => run(() => api.post('/api/title', { title: t }), `Title set to “${t}”.`),
          });
        }}
      >
        <label class="grow">
          <span class="visually-hidden">New title</span>
          <input type="text" value={title} maxLength={1024} placeholder="Artist - Title" onInput={(e) => setTitle(e.currentTarget.value)} />
        </label>
        <button
          type="submit"
          disabled={!title.trim() || onAir === 'emergency'}
          title={onAir === 'emergency' ? 'No title while the emergency audio plays' : ''}
        >
          Set title
        </button>
      </form>
      <div class="row wrap" role="group" aria-label="Hold the programme">
        <span class="muted">Hold:</span>
        <button
          type="button"
          aria-pressed={hold === 'fallback'}
          disabled={hold === 'fallback'}
          onClick={() => holdOn('fallback')}
          data-testid="hold-fallback"
        >
          Fallback studio
        </button>
        <button
          type="button"
          aria-pressed={hold === 'emergency'}
          disabled={hold === 'emergency'}
          onClick={() => holdOn('emergency')}
          data-testid="hold-emergency"
        >
          Emergency audio
        </button>
        <button type="button" disabled={hold === null} onClick={() => holdOn(null)} data-testid="hold-release">
          Release
        </button>
      </div>
      {message && (
        <p class={message.bad ? 'bad-text' : 'ok-text'} role={message.bad ? 'alert' : 'status'}>
          {message.text}
        </p>
      )}
    </section>
  );
}
