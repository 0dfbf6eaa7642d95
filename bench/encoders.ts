// Encoder-cost benchmark (issue 12): what the seven always-on encodes (MP3 320k/128k, AAC 128k/64k/192k,
// Vorbis q6/q2) cost in CPU and PSS, fed real-time PCM in 20 ms writes exactly as the mixer feeds them,
// for each candidate ffmpeg binary (the embedded 4.1 build, the system's) and each process layout
// (ANTENNA_ENCODER_LAYOUT: `isolated`, one ffmpeg per encode; `shared`, one ffmpeg for all seven, each
// encode on its own output pipe) and AAC coder (ANTENNA_AAC_CODER), fed music (bench/lib/programme.ts).
// This is the measurement behind the choice of binary (src/ffmpeg/select.ts), the default layout and
// coder; nothing here is a mock: the same argument builders and process plan as the server, the same
// stdin cadence.
// Where libfdk-aac loads, one more row: the three AAC encodes in this process through the server's own FDK
// wrapper (src/encoders/fdk-aac.ts) beside one ffmpeg for the four others, as the server runs them; the FDK
// share is the CPU this process spent inside the encode calls. Where LAME and libvorbis load too, a last row
// with all seven encodes in this process (src/encoders/lame.ts, vorbis.ts) and no ffmpeg: the server's
// default on such a machine.
// ANTENNA_BENCH_ENCODERS_WINDOW_S (default 20) sets each window.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { aacCoderFor, multiEncoderArgs, type AacCoderSetting } from '../src/ffmpeg/args.js';
import { planProcesses, type EncoderLayout } from '../src/encoders/index.js';
import { loadFdkAac, type FdkAacLibrary } from '../src/encoders/fdk-aac.js';
import { encodesNatively, type NativeCodecs } from '../src/encoders/native-run.js';
import { selectNativeCodecs } from '../src/encoders/native-select.js';
import { probeFfmpeg } from '../src/ffmpeg/select.js';
import { resolveFfmpegPath } from '../src/ffmpeg/path.js';
import type { EncoderSpec } from '../src/types/contracts.js';
import { measureTree } from './lib/proctree.js';
import { programmePcm } from './lib/programme.js';
import { machineCpu } from './lib/load-run.js';

const SPECS: EncoderSpec[] = [
  { codec: 'mp3', bitrate: 320_000 },
  { codec: 'mp3', bitrate: 128_000 },
  { codec: 'aac', bitrate: 128_000 },
  { codec: 'aac', bitrate: 64_000 },
  { codec: 'aac', bitrate: 192_000 },
  { codec: 'vorbis', quality: 6 },
  { codec: 'vorbis', quality: 2 },
];
const FRAME_BYTES = 882 * 4; // 20 ms of 44.1 kHz s16 stereo, the mixer's frame
const WINDOW_MS = (Number(process.env.ANTENNA_BENCH_ENCODERS_WINDOW_S) || 20) * 1000;

export interface EncoderCostRow {
  readonly binary: string;
  readonly version: string;
  readonly layout: EncoderLayout;
  /** ffmpeg's AAC coder, or `fdk-aac` where the AAC encodes ran in-process through libfdk-aac. */
  readonly aacCoder: string;
  readonly processes: number;
  /** The fdk-aac row: CPU inside the in-process AAC encode calls, included in cpuPercent. */
  readonly inProcessCpuPercent?: number;
  readonly cpuPercent: number;
  readonly pssMb: number;
  readonly otherCpuPercent: number;
}

async function measureLayout(
  ffmpeg: string,
  pcm: Buffer,
  layout: EncoderLayout,
  aacCoder: 'default' | AacCoderSetting | FdkAacLibrary,
  native?: NativeCodecs,
): Promise<{ cpuPercent: number; pssMb: number; processes: number; otherCpuPercent: number; inProcessCpuPercent?: number }> {
  const fdk = typeof aacCoder === 'object' ? aacCoder : undefined;
  const coder = (s: EncoderSpec): object =>
    typeof aacCoder !== 'string' || aacCoder === 'default' || s.codec !== 'aac' ? {} : { aacCoder: aacCoderFor(aacCoder, s.bitrate) };
  const here = (s: EncoderSpec): boolean => (fdk !== undefined && s.codec === 'aac') || encodesNatively(s, native);
  const inProcess: { encode(pcm: Buffer): Buffer[]; close(): void }[] = SPECS.filter(here).map((s) =>
    s.codec === 'aac'
      ? (fdk as FdkAacLibrary).open(s.bitrate!)
      : s.codec === 'mp3'
        ? native!.lame!.open(s.bitrate!)
        : native!.vorbis!.open(s.quality!, 1764),
  );
  const plan = planProcesses(
    SPECS.filter((s) => !here(s)),
    layout,
  );
  const procs: ChildProcess[] = plan.map((specs) =>
    spawn(ffmpeg, multiEncoderArgs(specs.map((s) => ({ ...s, ...coder(s), oggPageDurationUs: 40_000 }))), {
      stdio: ['pipe', 'pipe', 'pipe', ...Array.from({ length: specs.length - 1 }, () => 'pipe' as const)],
    }),
  );
  for (const p of procs) for (const s of p.stdio.slice(1)) (s as NodeJS.ReadableStream | null)?.on('data', () => undefined);
  let offset = 0;
  let measuring = false;
  let inProcessUs = 0;
  const started = performance.now();
  let written = 0;
  const timer = setInterval(() => {
    // Frames by the clock, as the mixer produces them: a late tick writes every frame that is due.
    const due = Math.floor((performance.now() - started) / 20);
    for (; written < due; written++) {
      if (offset + FRAME_BYTES > pcm.length) offset = 0;
      const frame = pcm.subarray(offset, offset + FRAME_BYTES);
      offset += FRAME_BYTES;
      for (const p of procs) p.stdin!.write(frame);
      if (inProcess.length === 0) continue;
      // Synchronous calls on this thread: the process's CPU across them is theirs.
      const before = process.cpuUsage();
      for (const e of inProcess) e.encode(frame);
      const spent = process.cpuUsage(before);
      if (measuring) inProcessUs += spent.user + spent.system;
    }
  }, 20);
  // A root that is not ours: measure every child by summing their trees (each is its own root).
  await new Promise((r) => setTimeout(r, 3000)); // start-up excluded
  const machine = machineCpu();
  measuring = true;
  const t0 = performance.now();
  const usage = await Promise.all(procs.map((p) => measureTree(p.pid!, WINDOW_MS)));
  if (procs.length === 0) await new Promise((r) => setTimeout(r, WINDOW_MS));
  const inProcessCpuPercent = (inProcessUs / 1000 / (performance.now() - t0)) * 100;
  const machinePercent = machine();
  clearInterval(timer);
  for (const p of procs) p.kill('SIGKILL');
  for (const e of inProcess) e.close();
  const cpuPercent = Math.round((usage.reduce((a, u) => a + u.cpuPercent, 0) + inProcessCpuPercent) * 10) / 10;
  return {
    cpuPercent,
    pssMb: Math.round(usage.reduce((a, u) => a + u.pssMb, 0) * 10) / 10,
    processes: procs.length,
    // The benchmark process itself writes the PCM: about a core's percent; the rest is other users.
    otherCpuPercent: Math.max(0, Math.round((machinePercent - cpuPercent) * 10) / 10),
    ...(inProcess.length > 0 ? { inProcessCpuPercent: Math.round(inProcessCpuPercent * 10) / 10 } : {}),
  };
}

export async function runEncoderCost(log: (s: string) => void): Promise<{ rows: EncoderCostRow[]; windowS: number }> {
  const embedded = resolveFfmpegPath(undefined);
  const candidates = [embedded];
  const system = spawnSync('bash', ['-c', 'command -v ffmpeg'], { encoding: 'utf8' }).stdout.trim();
  if (system) candidates.push(system);
  const programme = programmePcm(embedded, 60);
  const pcm = programme.pcm;
  log(`encoders: fed ${programme.name}`);
  const rows: EncoderCostRow[] = [];
  // What ran until issue 12 first (the embedded build, one process per encode, its default AAC coder),
  // then each binary in both layouts with the AAC coders the server may pin (ANTENNA_AAC_CODER).
  const variants: (readonly [string, EncoderLayout, 'default' | AacCoderSetting])[] = [
    [embedded, 'isolated', 'default'] as const,
    ...candidates.flatMap((b) => [
      [b, 'isolated', 'twoloop'] as const,
      [b, 'shared', 'twoloop'] as const,
      [b, 'shared', 'auto'] as const,
      [b, 'shared', 'fast'] as const,
    ]),
  ];
  const probes = new Map(candidates.map((b) => [b, probeFfmpeg(b)]));
  for (const [binary, layout, aacCoder] of variants) {
    const probe = probes.get(binary);
    if (!probe?.ok) {
      log(`${binary}: not usable (${probe?.ok === false ? probe.why : '?'})`);
      continue;
    }
    const m = await measureLayout(binary, pcm, layout, aacCoder);
    const row: EncoderCostRow = { binary, version: probe.version, layout, aacCoder, ...m };
    rows.push(row);
    log(
      `encoders: ffmpeg ${probe.version} (${binary === embedded ? 'embedded' : binary}), ${layout}, aac coder ${aacCoder}: ` +
        `${m.cpuPercent} % of a core, PSS ${m.pssMb} MB, ${m.processes} processes (others ${m.otherCpuPercent} %)`,
    );
  }
  // The server's default where the library loads: the AAC encodes in-process, the rest in the selected
  // binary (the system's when it is usable, as src/ffmpeg/select.ts prefers it).
  const fdk = await loadFdkAac().catch((e: unknown) => e as Error);
  const binary = [...candidates].reverse().find((b) => probes.get(b)?.ok);
  const probe = binary === undefined ? undefined : probes.get(binary);
  if (fdk instanceof Error) log(`encoders: no fdk-aac row (${fdk.message})`);
  else if (binary && probe?.ok) {
    const m = await measureLayout(binary, pcm, 'shared', fdk);
    rows.push({ binary, version: probe.version, layout: 'shared', aacCoder: 'fdk-aac', ...m });
    log(
      `encoders: ffmpeg ${probe.version} (${binary === embedded ? 'embedded' : binary}), shared, AAC by ${fdk.name} in-process ` +
        `(${m.inProcessCpuPercent} % of it): ${m.cpuPercent} % of a core, PSS ${m.pssMb} MB of ffmpeg, ${m.processes} process ` +
        `(others ${m.otherCpuPercent} %)`,
    );
    const native = await selectNativeCodecs('auto', true);
    if (!native.codecs?.lame || !native.codecs.vorbis) log(`encoders: no all-in-process row (${native.why})`);
    else {
      const all = await measureLayout(binary, pcm, 'shared', fdk, native.codecs);
      rows.push({ binary: 'none', version: '-', layout: 'shared', aacCoder: 'fdk-aac, LAME and libvorbis in-process', ...all });
      log(
        `encoders: all seven in this process (FDK, LAME, libvorbis), no ffmpeg: ${all.cpuPercent} % of a core (others ${all.otherCpuPercent} %)`,
      );
    }
  }
  return { rows, windowS: WINDOW_MS / 1000 };
}
