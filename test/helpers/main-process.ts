// The real entry point as a child process (`node --import tsx src/main.ts`), configured by environment,
// optionally under a lower file-descriptor limit (prlimit) or through `npm start`'s launcher, with its
// JSON log lines collected.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface MainOptions {
  /** Runs the server with this RLIMIT_NOFILE (soft and hard), through prlimit. */
  readonly nofile?: number;
  /** Reuse a data dir (a second start of the same station). */
  readonly dir?: string;
  /** Runs Node through scripts/start.sh, as `npm start` does (jemalloc when installed). */
  readonly launcher?: boolean;
}

export function runMain(env: Record<string, string>, opts: MainOptions = {}) {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'antenna-main-'));
  const entry = ['--import', 'tsx', 'src/main.ts'];
  const node = opts.launcher ? ['sh', 'scripts/start.sh', ...entry] : [process.execPath, ...entry];
  const [cmd, ...args] = opts.nofile === undefined ? node : ['prlimit', `--nofile=${opts.nofile}:${opts.nofile}`, ...node];
  const proc = spawn(cmd as string, args, {
    env: {
      ...process.env,
      ANTENNA_HOST: '127.0.0.1',
      ANTENNA_PRIMARY_PORT: '0',
      ANTENNA_FALLBACK_PORT: '0',
      ANTENNA_PRIMARY_SHOUTCAST_PORT: '0',
      ANTENNA_FALLBACK_SHOUTCAST_PORT: '0',
      ANTENNA_HTTP_PORT: '0',
      ANTENNA_DATA_DIR: join(dir, 'data'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (s: string) => (stderr += s));
  createInterface({ input: proc.stdout }).on('line', (l) => {
    try {
      lines.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      /* not a log line */
    }
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const waitLog = async (msg: string, timeoutMs = 20_000): Promise<Record<string, unknown>> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = lines.find((l) => l.msg === msg);
      if (hit) return hit;
      if (Date.now() > end || proc.exitCode !== null) throw new Error(`no "${msg}" log line; stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  return { proc, dir, lines, exited, waitLog, stop, stderr: () => stderr };
}
