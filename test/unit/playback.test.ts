// The station page's choice of how to play (web/station/playback.ts): hls.js with MSE, the browser's own
// HLS without it (iOS Safari), the MP3 mount where neither exists, and a mount chosen by hand.
import { describe, expect, it } from 'vitest';
import { AUTO, choosePlayback, fallbackMount, HLS_URL } from '../../web/station/playback.js';

const MOUNTS = [
  { path: '/live.aac', format: 'aac', is_default: false },
  { path: '/live-64.mp3', format: 'mp3', is_default: false },
  { path: '/live.mp3', format: 'mp3', is_default: true },
];

describe('choosePlayback', () => {
  it('Automatic with MSE: hls.js, whether or not the browser also plays HLS itself', () => {
    expect(choosePlayback(AUTO, { mse: true, nativeHls: false }, MOUNTS)).toEqual({ kind: 'hls.js', url: HLS_URL });
    expect(choosePlayback(AUTO, { mse: true, nativeHls: true }, MOUNTS)).toEqual({ kind: 'hls.js', url: HLS_URL });
  });

  it('Automatic without MSE but with native HLS (iOS Safari): the browser plays the playlist', () => {
    expect(choosePlayback(AUTO, { mse: false, nativeHls: true }, MOUNTS)).toEqual({ kind: 'native-hls', url: HLS_URL });
  });

  it('Automatic with neither: the default MP3 mount', () => {
    expect(choosePlayback(AUTO, { mse: false, nativeHls: false }, MOUNTS)).toEqual({ kind: 'mount', path: '/live.mp3' });
  });

  it('a mount chosen by hand is played as it is, even where HLS would work', () => {
    expect(choosePlayback('/live.aac', { mse: true, nativeHls: true }, MOUNTS)).toEqual({ kind: 'mount', path: '/live.aac' });
  });

  it('an unknown choice falls back to the MP3 mount; no mounts at all: nothing to play', () => {
    expect(choosePlayback('/gone.ogg', { mse: true, nativeHls: false }, MOUNTS)).toEqual({ kind: 'mount', path: '/live.mp3' });
    expect(choosePlayback(AUTO, { mse: false, nativeHls: false }, [])).toEqual({ kind: 'nothing' });
  });

  it('the fallback mount: the default MP3, else any MP3, else the first mount', () => {
    expect(fallbackMount(MOUNTS)?.path).toBe('/live.mp3');
    expect(fallbackMount(MOUNTS.slice(0, 2))?.path).toBe('/live-64.mp3');
    expect(fallbackMount(MOUNTS.slice(0, 1))?.path).toBe('/live.aac');
  });
});
