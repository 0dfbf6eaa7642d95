// How the player plays what the listener chose: pure, so every branch is unit-tested with plain values
// (test/unit/playback.test.ts); what the browser can do comes in as two booleans read by Player.tsx.
import type { NowPlaying } from '../shared/types.js';

type Mount = Pick<NowPlaying['station']['mounts'][number], 'path' | 'format' | 'is_default'>;

/** The "Automatic" choice: HLS in whatever way this browser can play it. */
export const AUTO = 'auto';
export const HLS_URL = '/hls/master.m3u8';

export type Playback =
  | { readonly kind: 'hls.js'; readonly url: string }
  | { readonly kind: 'native-hls'; readonly url: string }
  | { readonly kind: 'mount'; readonly path: string }
  | { readonly kind: 'nothing' };

export interface BrowserCan {
  /** Media Source Extensions (or Safari's ManagedMediaSource) that take AAC in MP4: hls.js works. */
  readonly mse: boolean;
  /** `<audio>.canPlayType('application/vnd.apple.mpegurl')` is not empty: Safari and iOS play HLS themselves. */
  readonly nativeHls: boolean;
}

/** The mount played when HLS cannot be: the default MP3 mount, any MP3 mount, or the first mount. */
export function fallbackMount<M extends Mount>(mounts: readonly M[]): M | undefined {
  return mounts.find((m) => m.format === 'mp3' && m.is_default) ?? mounts.find((m) => m.format === 'mp3') ?? mounts[0];
}

/**
 * Automatic: hls.js where there is MSE (it gives the low-latency, adaptive stream in every such
 * browser), else the browser's own HLS (iOS Safari has no MSE), else the MP3 mount. A mount chosen by
 * hand is played as it is; an unknown choice falls back like Automatic without HLS.
 */
export function choosePlayback(choice: string, can: BrowserCan, mounts: readonly Mount[]): Playback {
  if (choice === AUTO && can.mse) return { kind: 'hls.js', url: HLS_URL };
  if (choice === AUTO && can.nativeHls) return { kind: 'native-hls', url: HLS_URL };
  const m = mounts.find((x) => x.path === choice) ?? fallbackMount(mounts);
  return m ? { kind: 'mount', path: m.path } : { kind: 'nothing' };
}
