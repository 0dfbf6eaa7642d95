// The play button and the quality choice. "Automatic" is HLS: hls.js where the browser has Media
// Source Extensions (loaded only when someone presses play), the browser's own HLS on Safari/iOS
// without MSE, and the MP3 mount where neither exists. Each mount can also be chosen directly.
import { useEffect, useRef, useState } from 'preact/hooks';
import type Hls from 'hls.js/light';
import type { NowPlaying } from '../shared/types.js';
import { AUTO, choosePlayback, fallbackMount } from './playback.js';

type PlayState = 'stopped' | 'loading' | 'playing' | 'error';

function hasMse(): boolean {
  const w = window as unknown as { MediaSource?: typeof MediaSource; ManagedMediaSource?: typeof MediaSource };
  const M = w.MediaSource ?? w.ManagedMediaSource;
  return Boolean(M && M.isTypeSupported('audio/mp4; codecs="mp4a.40.2"'));
}

function nativeHls(audio: HTMLAudioElement): boolean {
  return audio.canPlayType('application/vnd.apple.mpegurl') !== '';
}

export function qualityLabel(m: NowPlaying['station']['mounts'][number]): string {
  const codec = m.format.toUpperCase().replace('VORBIS', 'Ogg Vorbis');
  return m.bitrate ? `${codec} ${m.bitrate} kbit/s` : codec;
}

export function Player({ np }: { np: NowPlaying }) {
  const audio = useRef<HTMLAudioElement>(null);
  const hls = useRef<Hls | null>(null);
  const [state, setState] = useState<PlayState>('stopped');
  const [how, setHow] = useState('');
  const [error, setError] = useState('');
  const [volume, setVolume] = useState(1);
  const mounts = np.station.mounts;
  const mp3 = fallbackMount(mounts);
  const [quality, setQuality] = useState(np.station.hls_enabled ? AUTO : (mp3?.path ?? ''));

  const stop = (): void => {
    hls.current?.destroy();
    hls.current = null;
    const a = audio.current;
    if (a) {
      a.pause();
      a.removeAttribute('src');
      a.load();
    }
    setState('stopped');
  };

  useEffect(() => stop, []);

  const play = async (choice = quality): Promise<void> => {
    const a = audio.current;
    if (!a) return;
    stop();
    setError('');
    setState('loading');
    try {
      const way = choosePlayback(choice, { mse: hasMse(), nativeHls: nativeHls(a) }, mounts);
      if (way.kind === 'hls.js') {
        const { default: HlsJs } = await import('hls.js/light');
        const h = new HlsJs({ lowLatencyMode: true });
        hls.current = h;
        h.on(HlsJs.Events.ERROR, (_e, data) => {
          if (!data.fatal) return;
          if (data.type === HlsJs.ErrorTypes.NETWORK_ERROR) h.startLoad();
          else if (data.type === HlsJs.ErrorTypes.MEDIA_ERROR) h.recoverMediaError();
          else {
            setError(`Playback failed (${data.details})`);
            stop();
          }
        });
        h.loadSource(way.url);
        h.attachMedia(a);
        setHow('HLS (adaptive)');
      } else if (way.kind === 'native-hls') {
        a.src = way.url;
        setHow('HLS (adaptive, native)');
      } else if (way.kind === 'mount') {
        const m = mounts.find((x) => x.path === way.path);
        a.src = way.path;
        setHow(m ? qualityLabel(m) : way.path);
      } else {
        throw new Error('no stream to play');
      }
      await a.play();
      setState('playing');
    } catch (err) {
      setState('error');
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  const toggle = (): void => {
    if (state === 'playing' || state === 'loading') stop();
    else void play();
  };

  const choose = (value: string): void => {
    setQuality(value);
    if (state === 'playing' || state === 'loading') void play(value);
  };

  useEffect(() => {
    if (audio.current) audio.current.volume = volume;
  }, [volume]);

  const playing = state === 'playing' || state === 'loading';
  return (
    <div class="player">
      <button
        type="button"
        class={`play ${playing ? 'on' : ''}`}
        onClick={toggle}
        aria-label={playing ? 'Stop' : 'Play'}
        data-testid="play"
      >
        <span aria-hidden="true">{playing ? '■' : '▶'}</span>
      </button>
      <div class="player-controls">
        <label>
          <span class="label">Quality</span>
          <select value={quality} onChange={(e) => choose(e.currentTarget.value)} data-testid="quality">
            {np.station.hls_enabled && <option value={AUTO}>Automatic</option>}
            {mounts.map((m) => (
              <option key={m.path} value={m.path}>
                {qualityLabel(m)}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span class="label">Volume</span>
          <input type="range" min="0" max="1" step="0.05" value={volume} onInput={(e) => setVolume(Number(e.currentTarget.value))} />
        </label>
        <p class="muted play-state" aria-live="polite">
          {state === 'loading'
            ? 'Connecting…'
            : state === 'playing'
              ? `Playing · ${how}`
              : state === 'error'
                ? error
                : 'Press play to listen'}
        </p>
      </div>
      <audio ref={audio} preload="none" onWaiting={() => playing && setState('loading')} onPlaying={() => setState('playing')} />
    </div>
  );
}
