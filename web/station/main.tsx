// The public station page: name and description, what is on air (polled from /api/nowplaying, the
// public route), a player (hls.js where the browser has MSE, native HLS on Safari/iOS, the MP3 mount
// otherwise), a choice of quality, listen links per mount for other players, and the listener count.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import '../shared/base.css';
import './station.css';
import type { NowPlaying, PublicConfig } from '../shared/types.js';
import { ListenLinks } from './ListenLinks.js';
import { Player } from './Player.js';

const POLL_MS = 5000;

function StationPage({ config }: { config: PublicConfig }) {
  const [np, setNp] = useState<NowPlaying | null>(null);
  const [offline, setOffline] = useState(false);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async (): Promise<void> => {
      try {
        const res = await fetch('/api/nowplaying', { cache: 'no-store' });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const body = (await res.json()) as NowPlaying;
        if (!stopped) {
          setNp(body);
          setOffline(false);
        }
      } catch {
        if (!stopped) setOffline(true);
      }
      if (!stopped) timer = setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, []);

  const title = np?.now_playing.song.text ?? '';
  return (
    <>
      <header class="station-head">
        <h1>{config.station.name}</h1>
        {config.station.description && <p class="description">{config.station.description}</p>}
      </header>
      <section class="card now" aria-labelledby="now-label">
        <h2 id="now-label" class="eyebrow">
          On air now
        </h2>
        <p class="title" data-testid="title" aria-live="polite">
          {np ? title || 'Untitled' : 'Loading…'}
        </p>
        {np && (
          <p class="meta muted">
            {np.is_online ? (np.live.is_live ? 'Live from the studio' : 'Automated programme') : 'Off air'}
            {' · '}
            <span data-testid="listeners">
              {np.listeners.current} {np.listeners.current === 1 ? 'listener' : 'listeners'}
            </span>
          </p>
        )}
        {offline && (
          <p class="offline" role="status">
            The station does not answer right now; retrying…
          </p>
        )}
        {np && <Player np={np} />}
      </section>
      {np && <ListenLinks np={np} />}
      <footer class="muted">
        Powered by Antenna · <a href="/dashboard/">Operator dashboard</a>
      </footer>
    </>
  );
}

async function main(): Promise<void> {
  const root = document.getElementById('app');
  if (!root) return;
  const config = (await (await fetch('/api/config')).json()) as PublicConfig;
  root.textContent = '';
  render(<StationPage config={config} />, root);
}

void main();
