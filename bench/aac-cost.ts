// AAC cost by encoder (issue 12): CPU seconds to encode 60 s of 44.1 kHz stereo at the three AAC bitrates the
// server runs (64k and 128k mounts, HLS's 192k tier), for libfdk-aac in-process (the server's own wrapper, fed
// 20 ms frames as the mixer feeds it) and for ffmpeg's `aac` with each coder (reading the PCM from a pipe at full
// speed; its own `-benchmark` user + system time). Music, speech and a steady tone: what an AAC encoder costs
// depends on what it encodes. Offline figures, so they are lower than the same encodes fed in real time
// (README, *Always-on cost*); `npm run bench -- encoders` measures that. `npm run bench -- aac` runs it.
import { spawnSync } from 'node:child_process';
import { loadFdkAac, type FdkAacLibrary } from '../src/encoders/fdk-aac.js';
import { selectFfmpeg } from '../src/ffmpeg/select.js';
import { BYTES_PER_FRAME, SAMPLE_RATE } from '../src/types/pcm.js';
import { programmePcm, speechPcm } from './lib/programme.js';

const BITRATES = [64_000, 128_000, 192_000] as const;
const CODERS = ['twoloop', 'fast'] as const;
/** Best of this many runs per cell: the least disturbed by the rest of the machine. */
const REPEATS = 3;

export interface AacCostRow {
  readonly programme: string;
  readonly bitrate: number;
  /** CPU seconds per 60 s of audio; null where the encoder is not there. */
  readonly fdk: number | null;
  readonly twoloop: number;
  readonly fast: number;
}

const perMinute = (cpuS: number, pcm: Buffer): number =>
  Math.round(((cpuS * 60) / (pcm.length / BYTES_PER_FRAME / SAMPLE_RATE)) * 100) / 100;

function fdkSeconds(lib: FdkAacLibrary, pcm: Buffer, bitrate: number): number {
  const frame = (SAMPLE_RATE / 50) * BYTES_PER_FRAME; // 20 ms, the mixer's frame
  const runs: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const enc = lib.open(bitrate);
    const before = process.cpuUsage();
    for (let o = 0; o + frame <= pcm.length; o += frame) enc.encode(pcm.subarray(o, o + frame));
    const used = process.cpuUsage(before);
    enc.close();
    runs.push((used.user + used.system) / 1e6);
  }
  return Math.min(...runs);
}

function ffmpegSeconds(ffmpeg: string, pcm: Buffer, bitrate: number, coder: string): number {
  const runs: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const args = ['-hide_banner', '-benchmark', '-f', 's16le', '-ar', String(SAMPLE_RATE), '-ac', '2', '-i', 'pipe:0'];
    args.push('-c:a', 'aac', '-aac_coder', coder, '-b:a', String(bitrate), '-f', 'adts', '-y', '/dev/null');
    const out = spawnSync(ffmpeg, args, { input: pcm, maxBuffer: 16 * 2 ** 20 }).stderr.toString();
    // "bench: utime=1.234s stime=0.012s rtime=1.300s"
    const m = /utime=([\d.]+)s stime=([\d.]+)s/.exec(out);
    if (!m) throw new Error(`ffmpeg -benchmark printed no times: ${out.slice(-300)}`);
    runs.push(Number(m[1]) + Number(m[2]));
  }
  return Math.min(...runs);
}

export async function runAacCost(log: (s: string) => void): Promise<{ rows: AacCostRow[]; fdk: string | null; ffmpeg: string }> {
  // The binary the server would choose (the system's 5.1 over the embedded 4.1 where both work).
  const chosen = selectFfmpeg(undefined);
  const ffmpeg = chosen.path;
  log(`aac: ffmpeg ${chosen.version} (${ffmpeg})`);
  const lib = await loadFdkAac().catch((e: unknown) => {
    log(`aac: no libfdk-aac (${(e as Error).message}): ffmpeg's coders only`);
    return null;
  });
  const tone = spawnSync(
    ffmpeg,
    ['-v', 'error', '-f', 'lavfi', '-i', `sine=440:d=60:sample_rate=${SAMPLE_RATE}`, '-ac', '2', '-f', 's16le', 'pipe:1'],
    {
      maxBuffer: 64 * 2 ** 20,
    },
  ).stdout;
  const speech = speechPcm(ffmpeg, 60);
  if (!speech) log('aac: no speech (apt-get install ktuberling-data)');
  const programmes = [
    ['music', programmePcm(ffmpeg, 60).pcm],
    ...(speech ? [['speech', speech.pcm] as const] : []),
    ['a steady 440 Hz tone', tone],
  ] as const;
  const rows: AacCostRow[] = [];
  for (const [programme, pcm] of programmes) {
    for (const bitrate of BITRATES) {
      const [twoloop, fast] = CODERS.map((c) => perMinute(ffmpegSeconds(ffmpeg, pcm, bitrate, c), pcm));
      const row: AacCostRow = {
        programme,
        bitrate,
        fdk: lib ? perMinute(fdkSeconds(lib, pcm, bitrate), pcm) : null,
        twoloop: twoloop!,
        fast: fast!,
      };
      rows.push(row);
      log(`aac: ${programme}, ${bitrate / 1000}k: fdk ${row.fdk ?? '-'} s, twoloop ${row.twoloop} s, fast ${row.fast} s of CPU per minute`);
    }
    // What the server runs for the three: FDK, or ffmpeg's `auto` (twoloop below 192k, fast at 192k).
    const mine = rows.filter((r) => r.programme === programme);
    const sum = (f: (r: AacCostRow) => number): number => Math.round(mine.reduce((a, r) => a + f(r), 0) * 100) / 100;
    log(
      `aac: ${programme}, the three: fdk ${lib ? sum((r) => r.fdk ?? 0) : '-'} s, ffmpeg auto ${sum((r) => (r.bitrate >= 192_000 ? r.fast : r.twoloop))} s per minute`,
    );
  }
  return { rows, fdk: lib?.name ?? null, ffmpeg: `${chosen.version} (${ffmpeg})` };
}
