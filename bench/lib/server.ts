// Starts the built server (`node dist/main.js`) as its own process, configured by environment, and
// waits for its "antenna ready" log line with the bound ports. Measured as a separate process tree.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface BenchServer {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly ports: { primary: number; fallback: number; http: number };
  readonly sourcePassword: string;
  readonly dir: string;
  /** Parsed log lines (the last 2,000). */
  readonly logs: Record<string, unknown>[];
  stop(): Promise<number | null>;
}

/** `wrap` turns the command into another that execs it (e.g. under a raised `ulimit -n`; same pid). */
export async function startServer(
  env: Record<string, string>,
  wrap?: (cmd: string, args: string[]) => [string, string[]],
): Promise<BenchServer> {
  const dir = mkdtempSync(join(tmpdir(), 'antenna-bench-'));
  const sourcePassword = 'bench-source';
  // ANTENNA_BENCH_CPU_PROF=<dir>: the server writes a V8 CPU profile there when it stops (where each
  // listener's microseconds go; open it in Chrome DevTools, or see bench/lib/profile-summary.ts).
  // ANTENNA_BENCH_NODE_FLAGS: more flags for the server's Node (e.g. `--perf-basic-prof` for `perf`).
  const prof = process.env.ANTENNA_BENCH_CPU_PROF;
  const flags = (process.env.ANTENNA_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const node = [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), ...flags, 'dist/main.js'];
  const [cmd, args] = wrap ? wrap(process.execPath, node) : [process.execPath, node];
  const proc = spawn(cmd, args, {
    env: {
      ...process.env,
      ANTENNA_HOST: '127.0.0.1',
      ANTENNA_PUBLIC_HOSTNAME: '127.0.0.1',
      ANTENNA_PRIMARY_PORT: '0',
      ANTENNA_FALLBACK_PORT: '0',
      ANTENNA_PRIMARY_SHOUTCAST_PORT: '0',
      ANTENNA_FALLBACK_SHOUTCAST_PORT: '0',
      ANTENNA_HTTP_PORT: '0',
      ANTENNA_SOURCE_PASSWORD: sourcePassword,
      ANTENNA_ADMIN_PASSWORD: 'bench-admin',
      ANTENNA_DATA_DIR: join(dir, 'data'),
      ANTENNA_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const logs: Record<string, unknown>[] = [];
  const ports = await new Promise<BenchServer['ports']>((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout! });
    const timer = setTimeout(() => reject(new Error('server did not become ready in 30 s')), 30_000);
    rl.on('line', (line) => {
      try {
        const j = JSON.parse(line) as { msg?: string; ports?: BenchServer['ports'] };
        logs.push(j);
        if (logs.length > 2000) logs.shift();
        if (j.msg === 'antenna ready' && j.ports) {
          clearTimeout(timer);
          resolve(j.ports);
        }
      } catch {
        /* not JSON */
      }
    });
    proc.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return {
    logs,
    proc,
    pid: proc.pid!,
    ports,
    sourcePassword,
    dir,
    stop: async () => {
      const code =
        proc.exitCode !== null
          ? proc.exitCode
          : await new Promise<number | null>((r) => {
              proc.once('exit', (c) => r(c));
              proc.kill('SIGTERM');
            });
      // Each start gets its own data dir (secrets, HLS state, history): gone with the server.
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}
