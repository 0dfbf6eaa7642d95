// Memory after a listener peak (`npm run bench -- memory`): does the process give back what thousands of
// HTTPS listeners took once they leave? Run under glibc's malloc and under jemalloc (Debian's libjemalloc2,
// preloaded as deploy/antenna.service does; skipped with the reason when it is not installed). Each run:
// one source on air, the tree's PSS and Node's RSS idle, then N HTTPS listeners on /listen/live-128.mp3
// (ANTENNA_BENCH_MEMORY_LISTENERS, default 3,000, 500 a second), then the same figures 2, 30 and 60 s after
// they left.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveFfmpegPath } from '../src/ffmpeg/path.js';
import { startPcmSource, type PcmSource } from '../test/helpers/pcm-source.js';
import { runLoad, withNofile } from './lib/load-run.js';
import { measureTree } from './lib/proctree.js';
import { startServer, type BenchServer } from './lib/server.js';
import { selfSignedCert, tlsServerEnv } from './lib/tls-server.js';

const JEMALLOC = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';
const AFTER_S = [2, 30, 60] as const;

interface Figures {
  readonly treePssMb: number;
  readonly nodeRssMb: number;
}

export interface MemoryRun {
  readonly allocator: 'glibc' | 'jemalloc';
  readonly listeners: number;
  readonly fullRateShare: number;
  readonly idle: Figures;
  readonly peak: Figures;
  /** Seconds after the listeners left → figures. */
  readonly after: Record<string, Figures>;
}

export interface MemoryResults {
  readonly runs: MemoryRun[];
  readonly skipped?: string;
}

function nodeRssMb(pid: number): number {
  const kb = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return Math.round(kb / 102.4) / 10;
}

async function figures(pid: number): Promise<Figures> {
  const t = await measureTree(pid, 1000);
  return { treePssMb: t.pssMb, nodeRssMb: nodeRssMb(pid) };
}

async function one(
  allocator: MemoryRun['allocator'],
  n: number,
  tls: { cert: string; key: string },
  log: (s: string) => void,
): Promise<MemoryRun> {
  const ffmpeg = resolveFfmpegPath(process.env.FFMPEG_PATH);
  let server: BenchServer | undefined;
  let source: PcmSource | undefined;
  try {
    server = await startServer(
      {
        // Empty, not unset: the bench's own environment may carry a preload.
        LD_PRELOAD: allocator === 'jemalloc' ? 'libjemalloc.so.2' : '',
        ...tlsServerEnv(tls),
      },
      withNofile,
    );
    const srv = server;
    const said = srv.logs.find((l) => l.msg === 'memory allocator');
    if (said?.allocator !== allocator) throw new Error(`asked for ${allocator}, the server says ${String(said?.allocator)}`);
    const https = (srv.ports as { https?: number }).https;
    if (!https) throw new Error('the server reported no HTTPS port');
    source = startPcmSource(ffmpeg, `icecast://source:${srv.sourcePassword}@127.0.0.1:${srv.ports.primary}/live`, 440);
    await new Promise((r) => setTimeout(r, 8000));
    const idle = await figures(srv.pid);
    const { result, during } = await runLoad(
      {
        host: '127.0.0.1',
        port: https,
        path: '/listen/live-128.mp3',
        n,
        rate: 500,
        settleMs: 3000,
        windowMs: 8000,
        bytesPerSecond: 16_000,
        protocol: 'https',
      },
      () => figures(srv.pid),
    );
    const after: Record<string, Figures> = {};
    let waited = 0;
    for (const s of AFTER_S) {
      await new Promise((r) => setTimeout(r, (s - waited) * 1000));
      waited = s;
      after[s] = await figures(srv.pid);
    }
    const row = (f: Figures): string => `tree PSS ${f.treePssMb} MB, Node RSS ${f.nodeRssMb} MB`;
    log(
      `memory ${allocator}: idle ${row(idle)}; ${n} HTTPS listeners (${Math.round(result.fullRateShare * 1000) / 10} % at full rate) ${row(during)}`,
    );
    for (const s of AFTER_S) log(`memory ${allocator}:   ${s} s after they left: ${row(after[s] as Figures)}`);
    return { allocator, listeners: n, fullRateShare: result.fullRateShare, idle, peak: during, after };
  } finally {
    await source?.kill();
    await server?.stop();
  }
}

export async function runMemory(log: (s: string) => void): Promise<MemoryResults> {
  const n = Number(process.env.ANTENNA_BENCH_MEMORY_LISTENERS) || 3000;
  const tmp = mkdtempSync(join(tmpdir(), 'antenna-bench-memory-'));
  try {
    const tls = selfSignedCert(tmp);
    const runs = [await one('glibc', n, tls, log)];
    if (!existsSync(JEMALLOC)) {
      log(`memory: jemalloc skipped: ${JEMALLOC} is missing (apt-get install libjemalloc2)`);
      return { runs, skipped: 'libjemalloc2 is not installed' };
    }
    runs.push(await one('jemalloc', n, tls, log));
    return { runs };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
