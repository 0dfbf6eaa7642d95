// The one normalisation of encoder specs (mounts, HLS tiers, acquire()) and the key that names an encoder.
import { describe, expect, it } from 'vitest';
import { DEFAULT_VORBIS_QUALITY, encoderKey, encoderSpecOf } from '../../src/types/encoder-spec.js';

describe('encoder specs', () => {
  it('keeps the bitrate when one is given, even next to a quality', () => {
    expect(encoderSpecOf({ codec: 'mp3', bitrate: 128_000, quality: 5 })).toEqual({ codec: 'mp3', bitrate: 128_000 });
  });

  it('falls back to a quality, 3 by default', () => {
    expect(encoderSpecOf({ codec: 'vorbis', quality: 6 })).toEqual({ codec: 'vorbis', quality: 6 });
    expect(encoderSpecOf({ codec: 'vorbis' })).toEqual({ codec: 'vorbis', quality: DEFAULT_VORBIS_QUALITY });
    expect(DEFAULT_VORBIS_QUALITY).toBe(3);
  });

  it('drops everything else a mount config carries', () => {
    const mount = { mount: '/live.ogg', codec: 'vorbis', quality: 4, burstSeconds: 2, name: 'x' } as const;
    expect(encoderSpecOf(mount)).toEqual({ codec: 'vorbis', quality: 4 });
  });

  it('names an encoder by codec and bitrate, or codec and quality; equal specs share a key', () => {
    expect(encoderKey({ codec: 'aac', bitrate: 64_000 })).toBe('aac-64k');
    expect(encoderKey({ codec: 'vorbis', quality: 2 })).toBe('vorbis-q2');
    expect(encoderKey(encoderSpecOf({ codec: 'vorbis' }))).toBe(encoderKey({ codec: 'vorbis' }));
    expect(encoderKey(encoderSpecOf({ codec: 'mp3', bitrate: 128_000, quality: 1 }))).toBe('mp3-128k');
  });
});
