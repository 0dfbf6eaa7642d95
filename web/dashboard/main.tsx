// The operator's dashboard: signs in (Appwrite or the admin credentials), then shows what is on air,
// each studio input with its live level, the last 24 hours of switches, listeners over time, the
// components, the emergency audio and the event timeline; the write role also gets the controls.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import '../shared/base.css';
import './dashboard.css';
import type { PublicConfig } from '../shared/types.js';
import { ComponentsPanel } from './components/ComponentsPanel.js';
import { ConfirmDialog, type ConfirmRequest } from './components/ConfirmDialog.js';
import { ConnectionBanner } from './components/ConnectionBanner.js';
import { ControlsPanel } from './components/ControlsPanel.js';
import { EmergencyPanel } from './components/EmergencyPanel.js';
import { EventLog } from './components/EventLog.js';
import { InputCard } from './components/InputCard.js';
import { ListenersChart } from './components/ListenersChart.js';
import { OnAirCard } from './components/OnAirCard.js';
import { SignIn } from './components/SignIn.js';
import { SwitchTimeline } from './components/SwitchTimeline.js';
import { ApiFailure } from '../shared/api.js';
import { resumeSession, type Session } from './session.js';
import { useDashboard } from './state.js';

function useNow(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

function Panel({ config, session, signOut }: { config: PublicConfig; session: Session; signOut: (why: string) => void }) {
  const d = useDashboard(session, signOut);
  const now = useNow(1000);
  const [ask, setAsk] = useState<ConfirmRequest | null>(null);
  const [actionError, setActionError] = useState('');
  const canWrite = d.me?.canWrite === true;
  const s = d.status;
  const kick = (id: 'primary' | 'fallback') =>
    canWrite
      ? () =>
          setAsk({
            title: `Kick the ${id} source?`,
            body: <p>The encoder on the {id} input is disconnected now. It may connect again by itself.</p>,
            confirm: 'Kick',
            danger: true,
            run: async () => {
              try {
                await d.api.post(`/api/sources/${id}/kick`);
              } catch (err) {
                setActionError(`Kick failed: ${err instanceof ApiFailure ? err.message : String(err)}`);
              }
              d.refresh();
            },
          })
      : null;
  return (
    <>
      <header class="top">
        <div>
          <h1>{config.station.name}</h1>
          <span class="muted small">Operator dashboard</span>
        </div>
        <div class="who">
          <span class="muted small" data-testid="who">
            {d.me ? `${d.me.name}${d.me.canWrite ? '' : ' · read only'}` : ''}
          </span>
          <a href="/" class="small">
            Station page
          </a>
          <button type="button" onClick={() => signOut('')}>
            Sign out
          </button>
        </div>
      </header>
      {/* A paused feed needs no word of its own when the banner below already says why (Appwrite down). */}
      {!(d.connection === 'unauthorized' && d.error && !d.error.offline) && (
        <ConnectionBanner state={d.connection} since={d.offlineSince} />
      )}
      {d.error && !d.error.offline && (
        <div class="banner warn" role="status">
          {d.error.message}
        </div>
      )}
      {actionError && (
        <div class="banner warn" role="alert">
          {actionError}{' '}
          <button type="button" onClick={() => setActionError('')}>
            Dismiss
          </button>
        </div>
      )}
      <main class="grid">
        <div class="col-wide">
          <OnAirCard status={s} levels={d.levels} title={d.title} now={now} />
        </div>
        {s?.inputs.map((i) => (
          <InputCard
            key={i.id}
            input={i}
            live={d.levels ? d.levels[i.id] : null}
            at={d.levels?.at}
            port={s.components.sourcePorts[i.id]}
            thresholdDb={config.silenceThresholdDb}
            now={now}
            onAir={(d.levels?.onAir ?? s.onAir.tier) === i.id}
            onKick={kick(i.id)}
          />
        ))}
        {canWrite && (
          <div class="col-wide">
            <ControlsPanel
              api={d.api}
              hold={d.levels?.hold ?? s?.onAir.hold ?? null}
              onAir={d.levels?.onAir ?? s?.onAir.tier}
              confirm={setAsk}
              done={d.refresh}
            />
          </div>
        )}
        <div class="col-wide">
          <SwitchTimeline events={d.events} current={d.levels?.onAir ?? s?.onAir.tier} now={now} />
        </div>
        <div class="col-wide">
          <ListenersChart api={d.api} live={d.listeners} />
        </div>
        {s && <ComponentsPanel status={s} now={now} />}
        <EmergencyPanel
          api={d.api}
          canWrite={canWrite}
          activeId={s?.emergency.activeId}
          activeDurationMs={s?.emergency.durationMs}
          confirm={setAsk}
        />
        <div class="col-wide">
          <EventLog events={d.events} />
        </div>
      </main>
      <ConfirmDialog request={ask} onClose={() => setAsk(null)} />
    </>
  );
}

function App({ config }: { config: PublicConfig }) {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [notice, setNotice] = useState('');
  useEffect(() => {
    void resumeSession(config).then(setSession);
  }, [config]);
  if (session === undefined) return <p class="loading">Loading…</p>;
  if (!session) return <SignIn config={config} notice={notice} onSignedIn={setSession} />;
  return (
    <Panel
      config={config}
      session={session}
      signOut={(why) => {
        setNotice(why);
        void session.signOut();
        setSession(null);
      }}
    />
  );
}

async function main(): Promise<void> {
  const root = document.getElementById('app');
  if (!root) return;
  for (;;) {
    try {
      const config = (await (await fetch('/api/config', { cache: 'no-store' })).json()) as PublicConfig;
      root.textContent = '';
      render(<App config={config} />, root);
      return;
    } catch {
      root.innerHTML = '<p class="loading">The server does not answer; retrying…</p>';
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

void main();
