// Who encodes MP3 and Vorbis (ANTENNA_MP3_VORBIS_ENCODER): LAME and libvorbis inside Node, or the
// ffmpeg child. Decided once at start, by loading each library and proving it encodes.
//
// `auto` moves them only when AAC is in the server too (libfdk-aac), so that no encoder process is left:
// what the move saves is the process (its wake-ups, pipes and muxers), not the codecs' work, which only
// changes thread. With ffmpeg still running for AAC, the 2026-12-03 bench read the tree ~1 point of a
// core higher with MP3 and Vorbis in Node than in the child, on music and on speech (README, *Always-on
// cost*), and the work would sit on the thread that also writes to every listener.
import { AntennaError } from '../errors.js';
import { loadLame, type LameLibrary } from './lame.js';
import type { NativeCodecs } from './native-run.js';
import { loadVorbis, type VorbisLibrary } from './vorbis.js';

export type Mp3VorbisEncoderSetting = 'auto' | 'in-process' | 'ffmpeg';

export interface NativeCodecsChoice {
  /** The libraries that run in-process; undefined when ffmpeg encodes both. */
  readonly codecs?: NativeCodecs;
  readonly mp3: 'in-process' | 'ffmpeg';
  readonly vorbis: 'in-process' | 'ffmpeg';
  readonly why: string;
}

export interface NativeLoaders {
  readonly lame: () => Promise<LameLibrary>;
  readonly vorbis: () => Promise<VorbisLibrary>;
}

/**
 * `ffmpeg` as told; `in-process` both libraries or fatal; `auto`, when AAC is encoded in the server too
 * (`aacInProcess`), each library that loads and passes its probe, ffmpeg for the other; else ffmpeg.
 * Each says why.
 */
export async function selectNativeCodecs(
  setting: Mp3VorbisEncoderSetting,
  aacInProcess: boolean,
  loaders: NativeLoaders = { lame: () => loadLame(), vorbis: () => loadVorbis() },
): Promise<NativeCodecsChoice> {
  if (setting === 'ffmpeg') return { mp3: 'ffmpeg', vorbis: 'ffmpeg', why: 'set by ANTENNA_MP3_VORBIS_ENCODER' };
  if (setting === 'auto' && !aacInProcess)
    return {
      mp3: 'ffmpeg',
      vorbis: 'ffmpeg',
      why: 'ffmpeg encodes AAC here (no libfdk-aac), so it runs anyway: MP3 and Vorbis stay in it, where they cost no more',
    };
  const [lame, vorbis] = await Promise.allSettled([loaders.lame(), loaders.vorbis()]);
  const failed = [lame, vorbis].flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
  if (setting === 'in-process' && failed.length > 0)
    throw new AntennaError('MP3_VORBIS_ENCODER_UNAVAILABLE', `ANTENNA_MP3_VORBIS_ENCODER=in-process: ${failed.join('; ')}`, {
      fatal: true,
    });
  const codecs: NativeCodecs = {
    ...(lame.status === 'fulfilled' ? { lame: lame.value } : {}),
    ...(vorbis.status === 'fulfilled' ? { vorbis: vorbis.value } : {}),
  };
  const loaded = [codecs.lame?.name, codecs.vorbis?.name].filter((n): n is string => n !== undefined);
  const why = [
    setting === 'in-process' ? 'set by ANTENNA_MP3_VORBIS_ENCODER' : '',
    loaded.length > 0 && setting === 'auto' ? `${loaded.join(', ')} loaded: with AAC in the server too, no encoder process is left` : '',
    failed.length > 0 ? `ffmpeg for the rest: ${failed.join('; ')}` : '',
  ]
    .filter((s) => s !== '')
    .join('; ');
  return {
    ...(loaded.length > 0 ? { codecs } : {}),
    mp3: codecs.lame ? 'in-process' : 'ffmpeg',
    vorbis: codecs.vorbis ? 'in-process' : 'ffmpeg',
    why,
  };
}
