// Fan-out benchmark (issue 4): N raw-socket listeners on /listen/live-128.mp3 from a separate load
// generator, against the built server and against a stock Icecast 2.4.4 fed the same 128 kbit/s MP3
// source. Per N: CPU % / PSS of the server's process tree, the share of listeners at full rate over the
// window, first-byte p50/p99 while connections open at 500/s, event-loop delay, slow-listener drops.
// Also source → listener latency on all six mounts. Environment knobs for development runs:
// ANTENNA_BENCH_FANOUT_LEVELS (e.g. "100,500"), ANTENNA_BENCH_FANOUT_WINDOW_S (default 20),
// ANTENNA_BENCH_FANOUT_MOUNT (default /listen/live-128.mp3; e.g. /listen/live-96.ogg) with
// ANTENNA_BENCH_FANOUT_BYTES_PER_S (the mount's byte rate, for the full-rate share; default 16000),
// ANTENNA_BENCH_FANOUT_ICECAST=0 (skip the Icecast comparisons), ANTENNA_BENCH_FANOUT_NGINX=0 (skip Icecast
// behind Nginx, the old stack's listener path).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveFfmpegPath } from '../src/ffmpeg/path.js';
import { getText } from '../test/helpers/interop-http.js';
import { freePort, until, which } from '../test/helpers/interop-programs.js';
import { startPcmSource, type PcmSource } from '../test/helpers/pcm-source.js';
import { listen, longestSilence } from '../test/helpers/timed-listener.js';
import { icecastInstalled, startBenchIcecast, type BenchIcecast } from './lib/load-icecast.js';
import { startNginx } from './lib/old-stack.js';
import { mountLatencies, waitHeard, type MountLatency } from './lib/load-latency.js';
import type { LoadGenResult } from './lib/load-gen.js';
import { loopProbe, machineCpu, nofileLimit, runLoad, withNofile, type LoopProbe } from './lib/load-run.js';
import { measureTree, measureTrees } from './lib/proctree.js';
import { startServer, type BenchServer } from './lib/server.js';

const MOUNT = process.env.ANTENNA_BENCH_FANOUT_MOUNT ?? '/listen/live-128.mp3';
const MOUNT_FORMAT = MOUNT.endsWith('.ogg') ? 'ogg' : MOUNT.endsWith('.aac') ? 'aac' : 'mp3';
const BYTES_PER_S = Number(process.env.ANTENNA_BENCH_FANOUT_BYTES_PER_S ?? 16_000) || 16_000; // 128 kbit/s
const RATE = 500; // connections opened per second
const SETTLE_MS = 3000; // every listener's 2 s burst is in before the window opens
const TONES: [number, number] = [440, 1000];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface FanoutLevel extends Omit<LoadGenResult, 'n'> {
  readonly n: number;
  readonly cpuPercent: number;
  readonly pssMb: number;
  readonly processes: { comm: string; cpuPercent: number; pssMb: number }[];
  readonly loopDelayMs: { p50: number; p99: number; max: number } | null;
  readonly slowListenerDrops: number;
  /** One extra listener decoding with ffmpeg during the window: seconds of MP3 decoded, share of 40 ms windows with the tone, longest silence. */
  readonly decoded: { seconds: number; connectedS: number; toneShare: number; longestSilenceMs: number };
  /** Server log lines at warn or above during the level (Antenna only). */
  readonly serverWarnings: number | null;
  /** Machine-wide CPU during the window minus everything this benchmark started (other users of the machine). */
  readonly otherCpuPercent: number;
}

export interface ServerFanout {
  readonly idle: { cpuPercent: number; pssMb: number };
  readonly levels: FanoutLevel[];
}

export interface FanoutResults {
  readonly antenna: ServerFanout & { latencyMs: Record<string, MountLatency> };
  readonly icecast: (ServerFanout & { version: string }) | { skipped: string };
  /** The old stack as listeners reached it: Nginx proxying /listen/ to the same Icecast; CPU and PSS of both. */
  readonly icecastNginx: (ServerFanout & { version: string }) | { skipped: string };
  readonly quoted: { stack: string; listeners: number; icecastCpuPercent: number; nginxCpuPercent: number; ttfbP99Ms: number };
  readonly settings: { levels: number[]; windowS: number; ratePerS: number; nofile: number; burstSeconds: number; queueBytes: number };
}

export interface Target {
  readonly pid: number;
  /** Further process trees measured with `pid`'s (a front proxy: Nginx in front of Icecast). */
  readonly alsoPids?: readonly number[];
  readonly port: number;
  /** How the load generator's listeners connect (default plain HTTP). */
  readonly protocol?: 'http' | 'https' | 'h2';
  /** Plain-HTTP port for the decoding sanity listener (default `port`). */
  readonly plainPort?: number;
  readonly probe?: LoopProbe;
  slowListeners(): Promise<number>;
  /** Log lines at warn or above so far, when the server's log is readable. */
  warnings?(): number;
}

export async function slowFromStats(port: number, pass: string): Promise<number> {
  const r = await getText(`http://127.0.0.1:${port}/admin/stats`, { user: 'admin', pass }, 10_000).catch(() => undefined);
  return [...(r?.body ?? '').matchAll(/<slow_listeners>(\d+)<\/slow_listeners>/g)].reduce((a, m) => a + Number(m[1]), 0);
}

export async function runLevels(
  t: Target,
  ffmpeg: string,
  levels: readonly number[],
  windowMs: number,
  log: (s: string) => void,
): Promise<ServerFanout> {
  const roots = [t.pid, ...(t.alsoPids ?? [])];
  const idle = await measureTrees(roots, 10_000);
  log(`idle: ${idle.cpuPercent} % of a core, PSS ${idle.pssMb} MB`);
  const out: FanoutLevel[] = [];
  for (const n of levels) {
    const slowBefore = await t.slowListeners();
    const warnBefore = t.warnings?.() ?? 0;
    const { result, during } = await runLoad(
      {
        host: '127.0.0.1',
        port: t.port,
        path: MOUNT,
        n,
        rate: RATE,
        settleMs: SETTLE_MS,
        windowMs,
        bytesPerSecond: BYTES_PER_S,
        ...(t.protocol ? { protocol: t.protocol } : {}),
      },
      async () => {
        const machine = machineCpu();
        const ours = measureTree(process.pid, windowMs - 1000);
        if (t.probe) t.probe.reset(t.pid);
        const joined = performance.now();
        const sanity = await listen(ffmpeg, `http://127.0.0.1:${t.plainPort ?? t.port}${MOUNT}`, MOUNT_FORMAT, TONES);
        const usage = await measureTrees(roots, windowMs - 1500);
        const loop = t.probe ? ((await t.probe.read(t.pid)) ?? null) : null;
        const otherCpuPercent = Math.max(0, Math.round((machine() - (await ours).cpuPercent) * 10) / 10);
        const connectedS = (performance.now() - joined) / 1000;
        const toneShare = sanity.windows.filter((w) => w.tone === TONES[0]).length / Math.max(1, sanity.windows.length);
        // The decoder's first second is its start-up; after it, any silence is a gap in the stream.
        const longestSilenceMs = longestSilence(sanity.windows, joined + 1000, performance.now());
        const decoded = {
          seconds: Math.round(sanity.windows.length * 0.04 * 10) / 10,
          connectedS: Math.round(connectedS * 10) / 10,
          toneShare: Math.round(toneShare * 1000) / 1000,
          longestSilenceMs,
        };
        await sanity.close();
        return { usage, loop, decoded, otherCpuPercent };
      },
    );
    const slow = (await t.slowListeners()) - slowBefore;
    const { usage } = during;
    const level: FanoutLevel = {
      ...result,
      cpuPercent: usage.cpuPercent,
      pssMb: usage.pssMb,
      processes: usage.processes.map(({ comm, cpuPercent, pssMb }) => ({ comm, cpuPercent, pssMb })),
      loopDelayMs: during.loop,
      slowListenerDrops: slow,
      serverWarnings: t.warnings ? t.warnings() - warnBefore : null,
      decoded: during.decoded,
      otherCpuPercent: during.otherCpuPercent,
    };
    out.push(level);
    log(
      `N=${n}: ${level.cpuPercent} % of a core, PSS ${level.pssMb} MB, full rate ${(level.fullRateShare * 100).toFixed(2)} % ` +
        `(rate p1 ${level.rateRatio.p1}, window bytes p1 ${level.receivedRatio.p1}, gaps over 1 s ${level.gapped}), ` +
        `first byte p50 ${level.ttfbMs.p50} / p99 ${level.ttfbMs.p99} ms` +
        (level.handshakeMs ? ` (TLS handshake p50 ${level.handshakeMs.p50} / p99 ${level.handshakeMs.p99} ms)` : '') +
        `, loop p99 ${level.loopDelayMs?.p99 ?? '-'} ms, ` +
        `slow drops ${slow}, closed ${level.dropped}, longest gap ${level.decoded.longestSilenceMs} ms, warnings ${level.serverWarnings ?? '-'}, ` +
        `client ${level.client.cpuPercent} %, others ${level.otherCpuPercent} %`,
    );
    await sleep(3000); // the previous level's sockets are gone before the next opens
  }
  return { idle: { cpuPercent: idle.cpuPercent, pssMb: idle.pssMb }, levels: out };
}

const nginxVersion = (): string => spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr.trim().replace('nginx version: ', '');

function levelsFromEnv(): number[] {
  const v = process.env.ANTENNA_BENCH_FANOUT_LEVELS;
  const l = (v ? v.split(',') : ['100', '1000', '5000', '10000']).map(Number).filter((x) => Number.isInteger(x) && x > 0 && x <= 15_000);
  return l.length > 0 ? l : [100];
}

export async function runFanout(log: (s: string) => void): Promise<FanoutResults> {
  const ffmpeg = resolveFfmpegPath(process.env.FFMPEG_PATH);
  const levels = levelsFromEnv();
  const windowS = Math.min(120, Math.max(5, Number(process.env.ANTENNA_BENCH_FANOUT_WINDOW_S ?? 20) || 20));
  const nofile = nofileLimit();
  log(`fan-out: levels ${levels.join(', ')}, window ${windowS} s, descriptor limit ${nofile}`);
  if (nofile < Math.max(...levels) + 1000) log(`warning: ulimit -n ${nofile} is too low for ${Math.max(...levels)} listeners`);
  const tmp = mkdtempSync(join(tmpdir(), 'antenna-fanout-'));
  const probe = loopProbe(tmp);
  let server: BenchServer | undefined;
  let icecast: BenchIcecast | undefined;
  let nginx: { pid: number; close(): Promise<void> } | undefined;
  let icecastNginx: FanoutResults['icecastNginx'] = { skipped: 'not run (ANTENNA_BENCH_FANOUT_NGINX=0, or no Icecast or Nginx)' };
  const sources: PcmSource[] = [];
  try {
    server = await startServer({ NODE_OPTIONS: probe.nodeOptions }, withNofile);
    const srv = server;
    // Warn+ lines over the whole run (the server keeps only its last 2,000 parsed lines).
    let warnings = 0;
    srv.proc.stdout?.on('data', (d: Buffer) => void (warnings += (d.toString('utf8').match(/"level":[456]0/g) ?? []).length));
    const source = startPcmSource(ffmpeg, `icecast://source:${srv.sourcePassword}@127.0.0.1:${srv.ports.primary}/live`, TONES[0]);
    sources.push(source);
    const check = await listen(ffmpeg, `http://127.0.0.1:${srv.ports.http}${MOUNT}`, MOUNT_FORMAT, TONES);
    const onAir = await waitHeard(check, TONES[0], 0, 30_000);
    await check.close();
    if (onAir === null) throw new Error('the source never went on air');
    log('antenna: source on air; measuring source → listener latency on six mounts');
    const latencyMs = await mountLatencies(ffmpeg, srv.ports.http, source, TONES, 6);
    await source.setTone(TONES[0]);
    for (const [m, l] of Object.entries(latencyMs))
      log(`latency ${m}: median ${l.medianMs} ms, max ${l.maxMs} ms${l.missed ? `, ${l.missed} steps missed` : ''}`);
    const antenna = await runLevels(
      {
        pid: srv.pid,
        port: srv.ports.http,
        probe,
        slowListeners: () => slowFromStats(srv.ports.http, 'bench-admin'),
        warnings: () => warnings,
      },
      ffmpeg,
      levels,
      windowS * 1000,
      (s) => log(`antenna ${s}`),
    );
    await source.kill();
    await srv.stop();
    server = undefined;

    let ice: FanoutResults['icecast'] = { skipped: 'icecast2 is not installed (apt-get install -y icecast2)' };
    if (process.env.ANTENNA_BENCH_FANOUT_ICECAST === '0') ice = { skipped: 'ANTENNA_BENCH_FANOUT_ICECAST=0' };
    else if (!icecastInstalled()) log(ice.skipped);
    else {
      icecast = await startBenchIcecast();
      const ic = icecast;
      const s2 = startPcmSource(ffmpeg, `icecast://source:${ic.sourcePassword}@127.0.0.1:${ic.port}${MOUNT}`, TONES[0]);
      sources.push(s2);
      // Listen only once the mount exists (a refused listen would leave its decoder behind).
      await until('the source mounted on icecast2', 20_000, async () => {
        const st = await getText(`http://127.0.0.1:${ic.port}/status-json.xsl`, undefined, 2000).catch(() => undefined);
        return st?.body.includes(MOUNT) ? true : undefined;
      });
      const c2 = await listen(ffmpeg, `http://127.0.0.1:${ic.port}${MOUNT}`, 'mp3', TONES);
      const heard = await waitHeard(c2, TONES[0], 0, 20_000);
      await c2.close();
      if (heard === null) throw new Error('icecast: the source is not heard');
      log(`${ic.version}: source mounted`);
      const r = await runLevels(
        { pid: ic.pid, port: ic.port, slowListeners: () => slowFromStats(ic.port, ic.adminPassword) },
        ffmpeg,
        levels,
        windowS * 1000,
        (s) => log(`icecast ${s}`),
      );
      ice = { ...r, version: ic.version };
      // The old stack's listeners reached Icecast through Nginx (/listen/ proxied, unbuffered): the same
      // Icecast again with that Nginx in front, both measured (issue 12: CPU at 5,000 against the stack).
      if (process.env.ANTENNA_BENCH_FANOUT_NGINX !== '0' && which('nginx')) {
        const front = join(tmp, 'nginx');
        mkdirSync(join(front, 'nginx-tmp'), { recursive: true });
        chmodSync(tmp, 0o755);
        chmodSync(front, 0o755);
        const nginxPort = await freePort();
        nginx = await startNginx({
          dir: front,
          port: nginxPort,
          hlsDir: front,
          icecastPort: ic.port,
          upstreamPrefix: '/listen/',
          workerConnections: Math.max(...levels) * 2 + 1000,
        });
        const nx = nginx;
        log(`nginx ${nginxVersion()} in front of icecast2 on /listen/`);
        const rn = await runLevels(
          { pid: ic.pid, alsoPids: [nx.pid], port: nginxPort, slowListeners: () => slowFromStats(ic.port, ic.adminPassword) },
          ffmpeg,
          levels,
          windowS * 1000,
          (s) => log(`icecast+nginx ${s}`),
        );
        icecastNginx = { ...rn, version: `${ic.version} + ${nginxVersion()}` };
      }
    }
    return {
      antenna: { ...antenna, latencyMs },
      icecast: ice,
      icecastNginx,
      quoted: {
        stack: 'Icecast 2.4.4 + Nginx (issue 4, measured by its author)',
        listeners: 2000,
        icecastCpuPercent: 11.9,
        nginxCpuPercent: 23.3,
        ttfbP99Ms: 1270,
      },
      settings: { levels, windowS, ratePerS: RATE, nofile, burstSeconds: 2, queueBytes: 524_288 },
    };
  } finally {
    await Promise.all(sources.map((s) => s.kill()));
    await server?.stop();
    await nginx?.close();
    await icecast?.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}
