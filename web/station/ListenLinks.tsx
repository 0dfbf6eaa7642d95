// Listen links per mount for people with their own player (VLC, Winamp, a hardware radio): the
// playlist files the server already answers (.m3u, .xspf) and the direct stream URL.
import type { NowPlaying } from '../shared/types.js';
import { qualityLabel } from './Player.js';

export function ListenLinks({ np }: { np: NowPlaying }) {
  const origin = location.origin;
  return (
    <section class="card links" aria-labelledby="links-label">
      <h2 id="links-label">Listen in your own player</h2>
      <p class="muted">Open a playlist in VLC, Winamp or foobar2000, or give a hardware radio the direct address.</p>
      <ul>
        {np.station.mounts.map((m) => (
          <li key={m.path}>
            <span class="q">{qualityLabel(m)}</span>
            <span class="l">
              <a href={`${m.path}.m3u`} aria-label={`${qualityLabel(m)} playlist, M3U`}>
                .m3u
              </a>
              <a href={`${m.path}.xspf`} aria-label={`${qualityLabel(m)} playlist, XSPF`}>
                .xspf
              </a>
              <a href={m.path} aria-label={`${qualityLabel(m)} direct stream`}>
                direct
              </a>
            </span>
            <code class="url">{origin + m.path}</code>
          </li>
        ))}
        {np.station.hls_enabled && (
          <li>
            <span class="q">HLS (adaptive AAC)</span>
            <span class="l">
              <a href="/hls/master.m3u8" aria-label="HLS playlist">
                .m3u8
              </a>
            </span>
            <code class="url">{origin}/hls/master.m3u8</code>
          </li>
        )}
      </ul>
    </section>
  );
}
