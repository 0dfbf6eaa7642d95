// The one normalisation of an EncoderSpec: what a mount or HLS tier asks for, reduced to what the
// encoder is built from, so equal requests share one encoder. A pure contract helper over types/contracts.ts.
import type { EncoderSpec } from './contracts.js';

/** Vorbis quality used when a spec gives neither a bitrate nor a quality. */
export const DEFAULT_VORBIS_QUALITY = 3;

/**
 * `{ codec, bitrate }` when a bitrate is given (it wins over a quality), otherwise `{ codec, quality }`
 * with the default quality. Anything else on `m` (a MountConfig's mount, burst, …) is left out.
 */
export function encoderSpecOf(m: EncoderSpec): EncoderSpec {
  return m.bitrate !== undefined
    ? { codec: m.codec, bitrate: m.bitrate }
    : { codec: m.codec, quality: m.quality ?? DEFAULT_VORBIS_QUALITY };
}

/** The name an encoder is known by (logs, status, supervisor): `mp3-320k`, or `vorbis-q6` without a bitrate. */
export function encoderKey(spec: EncoderSpec): string {
  if (spec.bitrate !== undefined) return `${spec.codec}-${Math.round(spec.bitrate / 1000)}k`;
  return `${spec.codec}-q${spec.quality ?? DEFAULT_VORBIS_QUALITY}`;
}
