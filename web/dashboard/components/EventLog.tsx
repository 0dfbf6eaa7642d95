// The timeline of events, newest first, filterable by kind and by text (a DJ's address, a title, an
// operator's e-mail).
import { useState } from 'preact/hooks';
import { dateTime } from '../../shared/format.js';
import type { TimelineItem } from '../../shared/types.js';
import { memo } from '../../shared/memo.js';

const KINDS: Record<string, (t: string) => boolean> = {
  all: () => true,
  switches: (t) => t === 'switch' || t.startsWith('hold'),
  sources: (t) => t.startsWith('source-') || t === 'metadata' || t === 'decoder-error',
  silence: (t) => t === 'silence' || t === 'sound',
  alerts: (t) => t === 'alert' || t.startsWith('encoder-') || t === 'hls-discontinuity' || t === 'decoder-error',
  operators: () => false,
  server: (t) => t.startsWith('server-'),
};
const SHOWN = 200;

function describe(e: TimelineItem): string {
  return Object.entries(e.detail)
    .filter(([, v]) => v !== null && v !== '')
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(' · ');
}

function severity(e: TimelineItem): string {
  if (e.type === 'alert' && !e.detail.cleared) return 'bad';
  if (e.type === 'encoder-died' || e.type === 'decoder-error' || e.type === 'encoder-restart-failed' || e.type === 'source-rejected')
    return 'bad';
  if (e.type === 'silence' || e.type === 'encoder-stalled' || (e.type === 'switch' && e.detail.to !== 'primary')) return 'warn';
  return '';
}

function EventLogView({ events }: { events: readonly TimelineItem[] }) {
  const [kind, setKind] = useState('all');
  const [text, setText] = useState('');
  const q = text.trim().toLowerCase();
  const shown = [...events]
    .reverse()
    .filter((e) => (kind === 'operators' ? Boolean(e.by) : (KINDS[kind] ?? KINDS.all!)(e.type)))
    .filter((e) => !q || `${e.type} ${describe(e)} ${e.by ?? ''}`.toLowerCase().includes(q));
  return (
    <section class="card" aria-labelledby="events-label">
      <header class="card-head">
        <h2 id="events-label">Events</h2>
        <div class="row">
          <label>
            <span class="visually-hidden">Kind of event</span>
            <select value={kind} onChange={(e) => setKind(e.currentTarget.value)} data-testid="event-kind">
              <option value="all">All events</option>
              <option value="switches">Switches and holds</option>
              <option value="sources">Sources and titles</option>
              <option value="silence">Silence</option>
              <option value="alerts">Alerts and faults</option>
              <option value="operators">Operator actions</option>
              <option value="server">Server</option>
            </select>
          </label>
          <label>
            <span class="visually-hidden">Search events</span>
            <input type="search" placeholder="Search" value={text} onInput={(e) => setText(e.currentTarget.value)} />
          </label>
        </div>
      </header>
      <ol class="events" data-testid="events">
        {shown.slice(0, SHOWN).map((e) => (
          <li key={`${e.seq}-${e.at}`} class={severity(e)}>
            <time dateTime={new Date(e.at).toISOString()}>{dateTime(e.at)}</time>
            <span class="type">{e.type}</span>
            <span class="detail">
              {describe(e)}
              {e.by ? <span class="muted"> — by {e.by}</span> : null}
            </span>
          </li>
        ))}
        {shown.length === 0 && <li class="muted">No events{kind !== 'all' || q ? ' match' : ' yet'}.</li>}
      </ol>
      {shown.length > SHOWN && (
        <p class="muted small">
          The newest {SHOWN} of {shown.length} are shown.
        </p>
      )}
    </section>
  );
}

export const EventLog = memo(EventLogView);
