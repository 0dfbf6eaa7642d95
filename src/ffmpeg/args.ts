// Pure builders for every ffmpeg command line Antenna runs: one function per job, unit-tested.
// Only options that exist in ffmpeg 4.1 (the embedded build) are used.
import { CHANNELS, FFMPEG_PCM_FORMAT, SAMPLE_RATE } from '../types/pcm.js';
import type { AudioFormat, Codec } from '../types/contracts.js';

// `level+`: every stderr line carries its level, so src/ffmpeg/stderr.ts can log it at the right one.
const COMMON = ['-hide_banner', '-nostdin', '-loglevel', 'level+warning'] as const;

/** ffmpeg demuxer names for the formats the ingest sniffer recognises. */
const DEMUXER: Record<Exclude<AudioFormat, 'unknown'>, string> = { mp3: 'mp3', aac: 'aac', ogg: 'ogg', flac: 'flac' };

const PCM_OUT = ['-vn', '-ac', String(CHANNELS), '-ar', String(SAMPLE_RATE), '-f', FFMPEG_PCM_FORMAT, '-flush_packets', '1', 'pipe:1'];

/**
 * A live decoder: compressed audio on stdin → PCM on stdout. The demuxer is forced from the sniffed
 * format and probing is cut to the minimum, so the first PCM leaves ffmpeg with the first frame.
 * No `-fflags +nobuffer`: it makes ffmpeg discard the packets it read while probing, i.e. the first
 * frame of every source connection (1,152 samples of MP3), and with the probe this small it saves no
 * latency (first PCM out after 61-64 ms either way, ffmpeg 4.1 and 5.1).
 */
export function decoderArgs(format: Exclude<AudioFormat, 'unknown'>): string[] {
  // Each option stays on one line with its value.
  // prettier-ignore
  return [
    ...COMMON,
    '-probesize', '32',
    '-analyzeduration', '0',
    '-f', DEMUXER[format],
    '-i', 'pipe:0',
    ...PCM_OUT,
  ];
}

/** A whole file decoded to PCM (the emergency file), at most `maxSeconds` of it. */
export function fileDecoderArgs(path: string, maxSeconds: number): string[] {
  return [...COMMON, '-i', path, '-t', String(maxSeconds), ...PCM_OUT];
}

export interface EncoderArgsSpec {
  readonly codec: Codec;
  readonly bitrate?: number;
  readonly quality?: number;
  /** Ogg page duration in microseconds (bounds Ogg latency). */
  readonly oggPageDurationUs?: number;
  /**
   * AAC only: ffmpeg's native AAC coder, pinned so the sound does not change with the binary (4.1
   * defaults to `fast`, 5.1 to `twoloop`). Unset: the build's default.
   */
  readonly aacCoder?: 'twoloop' | 'fast' | 'anmr';
}

/** The AAC coder setting: one coder for every AAC encode, or `auto` (by bitrate, see aacCoderFor). */
export type AacCoderSetting = 'auto' | 'twoloop' | 'fast';

/**
 * Lowest bitrate `auto` encodes with `fast`. On music `fast` costs about a third of `twoloop`'s CPU (60 s
 * at 192k: 0.61 s against 2.03 s), and ffmpeg documents it as "worse with low bitrates (less than
 * 64kbps), but is better and much faster at higher bitrates". PEAQ says where that holds
 * (bench/aac-quality.ts, the README's "AAC coder" table): at 192k, fast − twoloop is 0.00 ODG on average
 * over 14 music excerpts and within 0.13 on each; at 128k it loses up to 0.55 on dense music, and at 64k
 * 0.2–0.8 everywhere. So only 192k and up. The price is a steady tone, which cannot fill 192 kb/s: the
 * rate control then re-encodes every frame five times (4.5 s against twoloop's 2.0 s a minute, 5.1), and
 * without libfdk-aac the idle cost with a tone on air exceeds the old stack's (README, Always-on cost).
 */
export const AUTO_FAST_MIN_BITRATE = 192_000;

/** The coder an AAC encode at `bitrate` gets under `setting`. */
export function aacCoderFor(setting: AacCoderSetting, bitrate: number | undefined): 'twoloop' | 'fast' {
  if (setting !== 'auto') return setting;
  return (bitrate ?? 0) >= AUTO_FAST_MIN_BITRATE ? 'fast' : 'twoloop';
}

const CONTAINER: Record<Codec, string> = { mp3: 'mp3', aac: 'adts', vorbis: 'ogg' };
const ENCODER: Record<Codec, string> = { mp3: 'libmp3lame', aac: 'aac', vorbis: 'libvorbis' };

// Each option stays on one line with its value.
// prettier-ignore
const PCM_IN = [
  ...COMMON,
  // Without the probe limits ffmpeg reads ~1.2 s of PCM before its first output (measured with 4.1).
  // Without +nobuffer (see decoderArgs): it dropped the first 1,024 samples of every encoder run, and
  // the first encoded byte left 20 ms later with it (63 against 43 ms, 4.1).
  '-probesize', '32', '-analyzeduration', '0',
  '-f', FFMPEG_PCM_FORMAT, '-ar', String(SAMPLE_RATE), '-ac', String(CHANNELS), '-channel_layout', 'stereo',
  '-i', 'pipe:0',
] as const;

/** The output half of an encoder command: codec, rate, container, every packet flushed at once, to `target`. */
function encoderOutput(spec: EncoderArgsSpec, target: string): string[] {
  const rate: string[] = [];
  if (spec.bitrate !== undefined) rate.push('-b:a', String(spec.bitrate));
  else if (spec.quality !== undefined) rate.push('-q:a', String(spec.quality));
  if (spec.codec === 'aac' && spec.aacCoder) rate.push('-aac_coder', spec.aacCoder);
  const container: string[] = [];
  if (spec.codec === 'mp3') container.push('-id3v2_version', '0', '-write_xing', '0');
  if (spec.codec === 'vorbis') container.push('-page_duration', String(spec.oggPageDurationUs ?? 250_000));
  return ['-c:a', ENCODER[spec.codec], ...rate, '-flush_packets', '1', ...container, '-f', CONTAINER[spec.codec], target];
}

/** A live encoder: PCM on stdin → MP3 / ADTS / Ogg on stdout, every packet flushed at once. */
export function encoderArgs(spec: EncoderArgsSpec): string[] {
  return multiEncoderArgs([spec]);
}

/** File descriptors of `count` outputs: stdout first, then the pipes after stderr (FfmpegChild's `extraOutputs`). */
export function outputFds(count: number): number[] {
  return Array.from({ length: count }, (_, i) => (i === 0 ? 1 : i + 2));
}

/**
 * One ffmpeg encoding the same PCM one or more ways, each output on its own pipe (see outputFds). No
 * title is ever given to ffmpeg: Ogg titles are chained in Node (src/codec/vorbis-chain.ts), and MP3/AAC
 * carry none in the stream.
 */
export function multiEncoderArgs(specs: readonly EncoderArgsSpec[]): string[] {
  const fds = outputFds(specs.length);
  const map = specs.length > 1 ? ['-map', '0:a'] : [];
  return [...PCM_IN, ...specs.flatMap((s, i) => [...map, ...encoderOutput(s, `pipe:${fds[i] as number}`)])];
}

/** Demuxers an uploaded emergency file may be read with (forced: an upload is never probed as a playlist or concat list). */
export type UploadDemuxer = 'mp3' | 'aac' | 'mov' | 'ogg' | 'flac' | 'wav';

/**
 * An uploaded file decoded in full to PCM on stdout, to check it before it is accepted: the demuxer
 * is forced from the sniffed format, only the file protocol is allowed, and any decoding error ends
 * ffmpeg with a failure (-xerror) so a damaged file is rejected rather than half played.
 */
export function uploadCheckArgs(path: string, demuxer: UploadDemuxer): string[] {
  // prettier-ignore
  return [
    ...COMMON,
    '-xerror',
    '-protocol_whitelist', 'file',
    '-f', demuxer,
    '-i', `file:${path}`,
    '-vn', '-ac', String(CHANNELS), '-ar', String(SAMPLE_RATE), '-f', FFMPEG_PCM_FORMAT, 'pipe:1',
  ];
}
