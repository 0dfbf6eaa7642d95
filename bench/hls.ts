// HLS benchmark (issue 5): the built server as its own process, a Node-timed PCM source on the primary
// input, and two Node HLS clients that tune in the way hls.js does (LL: PART-HOLD-BACK behind the edge,
// blocking reloads and parts; plain: 3 target durations behind the last segment) and decode what they
// fetch with ffmpeg. Glass to glass = tone step written to the source encoder → the moment the client's
// modelled playout reaches the first 40 ms window of the new tone. Also CPU of the whole tree with and
// without HLS clients, and of the 192k tier's encoder (the one HLS tier no listener mount shares).
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveFfmpegPath } from '../src/ffmpeg/path.js';
import { analyseTones } from '../test/helpers/tones.js';
import { startPcmSource, type PcmSource } from '../test/helpers/pcm-source.js';
import { startHlsClient, type HlsClient } from './lib/hls-client.js';
import { measureTree, tree } from './lib/proctree.js';
import { startServer, type BenchServer } from './lib/server.js';

const P = 440;
const STEP = 1000;
const E = 660;
const STEPS = 6;
const STEP_GAP_MS = 3000;
const LOAD_CLIENTS = 50;
/** Clients per mode, tuning in at different phases of the part/segment cycle (hls.js' start depends on it). */
const TUNE_INS = 3;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Latency {
  median: number;
  min: number;
  max: number;
  samples: number[];
  stalledSeconds: number;
  errors: string[];
}

export interface HlsResults {
  llMs: Latency;
  plainMs: Latency;
  cpu: {
    noClientsPercent: number;
    withClientsPercent: number;
    clients: number;
    tier192kEncoderPercent: number | null;
    nodePercentNoClients: number;
    nodePercentWithClients: number;
  };
  settings: Record<string, string>;
}

/** Media positions (s) where each step's tone starts in the client's audio, matched to steps in order. */
function stepPositions(c: HlsClient, tones: readonly number[]): (number | undefined)[] {
  const windows = analyseTones(c.pcm(), [P, STEP, E]);
  const start = c.startPos ?? 0;
  const out: (number | undefined)[] = [];
  let i = 0;
  let prev: number | null = null;
  for (const tone of tones) {
    let found: number | undefined;
    for (; i + 2 < windows.length; i++) {
      const w = windows[i];
      const pos = (w?.startSample ?? 0) / 44_100;
      if (pos < start) continue;
      // Three windows (120 ms) of the new tone after something else: a step, not a glitch.
      if (w?.dominant === tone && windows[i + 1]?.dominant === tone && windows[i + 2]?.dominant === tone && prev !== tone) {
        found = pos;
        prev = tone;
        break;
      }
      prev = w?.dominant ?? prev;
    }
    out.push(found);
  }
  return out;
}

function latencies(cs: readonly HlsClient[], tones: readonly number[], at: readonly number[]): Latency {
  const samples = cs
    .flatMap((c) =>
      stepPositions(c, tones)
        .map((q) => (q === undefined ? undefined : c.heardAt(q)) ?? NaN)
        .map((h, k) => Math.round(h - (at[k] ?? 0))),
    )
    .filter((x) => Number.isFinite(x))
    .sort((a, b) => a - b);
  const stalled = cs.reduce((a, c) => a + c.stalledSeconds(), 0);
  return {
    median: samples[Math.floor(samples.length / 2)] ?? -1,
    min: samples[0] ?? -1,
    max: samples.at(-1) ?? -1,
    samples,
    stalledSeconds: Math.round(stalled * 100) / 100,
    errors: cs.flatMap((c) => c.errors).slice(0, 5),
  };
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

export async function runHls(log: (s: string) => void): Promise<HlsResults> {
  const ffmpeg = resolveFfmpegPath(process.env.FFMPEG_PATH);
  // ANTENNA_BENCH_HLS_SEGMENT_SECONDS measures another segment length (e.g. 2, Liquidsoap's measured setup).
  const segment = process.env.ANTENNA_BENCH_HLS_SEGMENT_SECONDS ?? '4';
  const settings = { ANTENNA_RETURN_HOLD_SECONDS: '0', ANTENNA_HLS_SEGMENT_SECONDS: segment, ANTENNA_HLS_PART_SECONDS: '1' };
  const tmp = mkdtempSync(join(tmpdir(), 'antenna-bench-hls-'));
  let server: BenchServer | undefined;
  let source: PcmSource | undefined;
  const clients: HlsClient[] = [];
  try {
    const emergency = join(tmp, 'emergency.mp3');
    spawnSync(ffmpeg, [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=${E}:duration=6`,
      '-ac',
      '2',
      '-c:a',
      'libmp3lame',
      '-y',
      emergency,
    ]);
    server = await startServer({ ...settings, ANTENNA_EMERGENCY_FILE: emergency });
    const base = `http://127.0.0.1:${server.ports.http}`;
    source = startPcmSource(ffmpeg, `icecast://source:${server.sourcePassword}@127.0.0.1:${server.ports.primary}/live`, P);
    await source.startedAt;
    const master = await (await fetch(`${base}/hls/master.m3u8`)).text();
    const tier = (master.split('\n').find((l) => l.endsWith('/index.m3u8')) ?? '').replace('/index.m3u8', '');
    // Let the playlist fill (3 target durations for the plain client) with the source's tone.
    await sleep(16_000);
    log(`source on air; tier ${tier}`);

    const idle = await measureTree(server.pid, 10_000);
    const enc192 = tree(server.pid).find((pid) => /\b192k\b|192000/.test(cmdline(pid)));
    log(`no HLS clients: ${idle.cpuPercent} % of a core`);

    const ll: HlsClient[] = [];
    const plain: HlsClient[] = [];
    for (let i = 0; i < TUNE_INS; i++) {
      ll.push(startHlsClient({ ffmpeg, base, tier, mode: 'll' }));
      plain.push(startHlsClient({ ffmpeg, base, tier, mode: 'plain' }));
      await sleep(1000 / TUNE_INS + 13); // spread the tune-ins over a part's cycle
    }
    clients.push(...ll, ...plain);
    await sleep(3000);
    const tones: number[] = [];
    const at: number[] = [];
    for (let i = 0; i < STEPS; i++) {
      const tone = i % 2 === 0 ? STEP : P;
      tones.push(tone);
      at.push(await source.setTone(tone));
      await sleep(STEP_GAP_MS);
    }
    // Load for the CPU figure while the plain client catches up with the last step (it plays ~15 s late).
    for (let i = 0; i < LOAD_CLIENTS; i++) clients.push(startHlsClient({ ffmpeg, base, tier, mode: 'll', decode: false }));
    await sleep(2000);
    const loaded = await measureTree(server.pid, 10_000);
    log(`${LOAD_CLIENTS + 2 * TUNE_INS} HLS clients: ${loaded.cpuPercent} % of a core`);
    await sleep(6000);

    const llMs = latencies(ll, tones, at);
    const plainMs = latencies(plain, tones, at);
    log(`LL: ${llMs.samples.join(', ')} ms; plain: ${plainMs.samples.join(', ')} ms`);
    const node = (u: typeof idle): number => u.processes.find((p) => p.pid === server?.pid)?.cpuPercent ?? -1;
    return {
      llMs,
      plainMs,
      cpu: {
        noClientsPercent: idle.cpuPercent,
        withClientsPercent: loaded.cpuPercent,
        clients: LOAD_CLIENTS + 2 * TUNE_INS,
        tier192kEncoderPercent: enc192 === undefined ? null : (idle.processes.find((p) => p.pid === enc192)?.cpuPercent ?? null),
        nodePercentNoClients: node(idle),
        nodePercentWithClients: node(loaded),
      },
      settings,
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await source?.kill();
    const code = await server?.stop();
    if (code !== 0 && code !== undefined) log(`server exited with ${code}`);
    rmSync(tmp, { recursive: true, force: true });
  }
}
