// On-air benchmark (issue 3): the built server as its own process, Node-timed ffmpeg sources, and a
// listener decoding /listen/live.mp3. Prints source→listener latency, connect→on air, kill / stall /
// silence → next tier heard, the longest silence and listener disconnects around each switch, and
// CPU % / PSS of the whole process tree with both sources connected.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { resolveFfmpegPath } from '../src/ffmpeg/path.js';
import { listen, longestSilence, type BenchListener } from '../test/helpers/timed-listener.js';
import { waitHeard } from './lib/load-latency.js';
import { startPcmSource, type PcmSource } from '../test/helpers/pcm-source.js';
import { measureTree } from './lib/proctree.js';
import { startServer, type BenchServer } from './lib/server.js';

const P = 440;
const STEP = 1000;
const F = 880;
const E = 660;
const TONES = [P, STEP, F, E];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface OnAirResults {
  latencyMs: { median: number; max: number; samples: number[] };
  connectToAirMs: number | null;
  firstAudioToAirMs: number | null;
  killToNextMs: number | null;
  stallToNextMs: number | null;
  silenceToNextMs: number | null;
  longestSilenceAroundSwitchesMs: number;
  listenerDisconnects: number;
  steady: { cpuPercent: number; pssMb: number; processes: { comm: string; cpuPercent: number; pssMb: number }[] };
  settings: Record<string, string>;
}

export async function runOnAir(log: (s: string) => void): Promise<OnAirResults> {
  const ffmpeg = resolveFfmpegPath(process.env.FFMPEG_PATH);
  const settings = { ANTENNA_SILENCE_SECONDS: '5', ANTENNA_RETURN_HOLD_SECONDS: '3', ANTENNA_STALL_MS: '300', ANTENNA_CROSSFADE_MS: '500' };
  let server: BenchServer | undefined;
  const sources: PcmSource[] = [];
  let listener: BenchListener | undefined;
  try {
    const tmp = spawnSync('mktemp', ['-d']).stdout.toString().trim();
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
    const url = (port: number): string => `icecast://source:${server!.sourcePassword}@127.0.0.1:${port}/live`;
    listener = await listen(ffmpeg, `http://127.0.0.1:${server.ports.http}/listen/live.mp3`, 'mp3', TONES);
    await waitHeard(listener, E, 0);
    log('listener hears the emergency tone');
    sources.push(startPcmSource(ffmpeg, url(server.ports.fallback), F));
    await waitHeard(listener, F, 0);
    log('fallback on air');

    let primary = startPcmSource(ffmpeg, url(server.ports.primary), P);
    sources.push(primary);
    const connectAt = await primary.startedAt;
    const onAir = await waitHeard(listener, P, connectAt);
    const connectToAirMs = onAir === null ? null : Math.round(onAir - connectAt);
    // The measure starts at the source's first audio at the server: the decoder's first PCM.
    const firstPcm = server.logs.filter((l) => l.msg === 'first PCM from decoder').at(-1);
    const firstPcmAt = typeof firstPcm?.time === 'number' ? firstPcm.time - performance.timeOrigin : undefined;
    const firstAudioToAirMs = onAir === null || firstPcmAt === undefined ? null : Math.round(onAir - firstPcmAt);
    log(
      `connect → on air ${connectToAirMs} ms from the source encoder's first sample, ${firstAudioToAirMs} ms from its first audio at the server`,
    );
    await sleep(3000);

    const samples: number[] = [];
    for (let i = 0; i < 6; i++) {
      const tone = i % 2 === 0 ? STEP : P;
      const at = await primary.setTone(tone);
      const h = await waitHeard(listener, tone, at);
      if (h !== null) samples.push(Math.round(h - at));
      await sleep(1500);
    }
    samples.sort((a, b) => a - b);
    log(`latency source → listener: ${samples.join(', ')} ms`);

    const steady = await measureTree(server.pid, 20_000);
    log(`steady state: ${steady.cpuPercent} % of a core, PSS ${steady.pssMb} MB`);

    let silenceAround = 0;
    const killAt = performance.now();
    await primary.kill();
    const k = await waitHeard(listener, F, killAt);
    await sleep(2000);
    silenceAround = Math.max(silenceAround, longestSilence(listener.windows, killAt - 1000, performance.now()));
    log(`kill → fallback ${k === null ? 'never' : Math.round(k - killAt)} ms`);

    primary = startPcmSource(ffmpeg, url(server.ports.primary), P);
    sources.push(primary);
    await waitHeard(listener, P, await primary.startedAt);
    await sleep(2000);
    const stallAt = performance.now();
    primary.pause();
    const s = await waitHeard(listener, F, stallAt);
    await sleep(2000);
    const stallSilence = longestSilence(listener.windows, stallAt - 1000, performance.now());
    log(`stall → fallback ${s === null ? 'never' : Math.round(s - stallAt)} ms (silence during the stall ${stallSilence} ms)`);
    await primary.kill();

    primary = startPcmSource(ffmpeg, url(server.ports.primary), P);
    sources.push(primary);
    await waitHeard(listener, P, await primary.startedAt);
    await sleep(2000);
    const quietAt = await primary.setTone(null);
    const q = await waitHeard(listener, F, quietAt);
    silenceAround = Math.max(silenceAround, 0);
    log(`silent primary → fallback ${q === null ? 'never' : Math.round(q - quietAt)} ms (threshold ${settings.ANTENNA_SILENCE_SECONDS} s)`);

    return {
      latencyMs: { median: samples[Math.floor(samples.length / 2)] ?? -1, max: samples.at(-1) ?? -1, samples },
      connectToAirMs,
      firstAudioToAirMs,
      killToNextMs: k === null ? null : Math.round(k - killAt),
      stallToNextMs: s === null ? null : Math.round(s - stallAt),
      silenceToNextMs: q === null ? null : Math.round(q - quietAt),
      longestSilenceAroundSwitchesMs: silenceAround,
      listenerDisconnects: listener.disconnected() ? 1 : 0,
      steady: {
        cpuPercent: steady.cpuPercent,
        pssMb: steady.pssMb,
        processes: steady.processes.map(({ comm, cpuPercent, pssMb }) => ({ comm, cpuPercent, pssMb })),
      },
      settings,
    };
  } finally {
    await listener?.close();
    await Promise.all(sources.map((x) => x.kill()));
    const code = await server?.stop();
    if (code !== 0 && code !== undefined) log(`server exited with ${code}`);
  }
}
