// Which AAC coder each encode gets: the setting, and `auto`'s choice by bitrate, down to ffmpeg's arguments.
import { describe, expect, it } from 'vitest';
import { AUTO_FAST_MIN_BITRATE, aacCoderFor, multiEncoderArgs } from '../../src/ffmpeg/args.js';

/** The value after `-aac_coder` in each output of an encoder command. */
const coders = (args: string[]): string[] => args.flatMap((a, i) => (a === '-aac_coder' ? [args[i + 1]!] : []));

describe('AAC coder', () => {
  it('gives every encode the coder the setting names', () => {
    for (const b of [32_000, 64_000, 128_000, 320_000]) {
      expect(aacCoderFor('twoloop', b)).toBe('twoloop');
      expect(aacCoderFor('fast', b)).toBe('fast');
    }
  });

  it('auto: fast from the threshold up, twoloop below it and when no bitrate is known', () => {
    expect(AUTO_FAST_MIN_BITRATE).toBe(192_000);
    expect(aacCoderFor('auto', 64_000)).toBe('twoloop');
    expect(aacCoderFor('auto', 128_000)).toBe('twoloop');
    expect(aacCoderFor('auto', AUTO_FAST_MIN_BITRATE - 1)).toBe('twoloop');
    expect(aacCoderFor('auto', AUTO_FAST_MIN_BITRATE)).toBe('fast');
    expect(aacCoderFor('auto', 192_000)).toBe('fast');
    expect(aacCoderFor('auto', undefined)).toBe('twoloop');
  });

  it('reaches ffmpeg per output, and only for AAC', () => {
    const specs = [
      { codec: 'mp3', bitrate: 128_000 },
      { codec: 'aac', bitrate: 64_000 },
      { codec: 'aac', bitrate: 128_000 },
      { codec: 'vorbis', quality: 6 },
      { codec: 'aac', bitrate: 192_000 },
    ] as const;
    const args = multiEncoderArgs(specs.map((s) => (s.codec === 'aac' ? { ...s, aacCoder: aacCoderFor('auto', s.bitrate) } : s)));
    expect(coders(args)).toEqual(['twoloop', 'twoloop', 'fast']);
  });
});
