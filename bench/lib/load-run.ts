// Parent side of the fan-out benchmark: starts the load generator (bench/lib/load-gen.ts) as its own
// process with a raised file-descriptor limit, calls back when its measuring window opens, and
// returns its result. Also the event-loop probe preloaded into the server (`node --import`).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { LoadGenOptions, LoadGenResult } from './load-gen.js';

/** 10,000 sockets need more descriptors than the usual 1,024: raise the soft limit (to 65,536, or the hard limit). */
const NOFILE = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"';

/** Command + arguments that run `cmd args` under the raised descriptor limit (same pid, via exec). */
export function withNofile(cmd: string, args: readonly string[]): [string, string[]] {
  return ['bash', ['-c', `${NOFILE}; exec "$0" "$@"`, cmd, ...args]];
}

/** The descriptor limit a process started through withNofile gets here. */
export function nofileLimit(): number {
  return Number(spawnSync('bash', ['-c', `${NOFILE}; ulimit -n`], { encoding: 'utf8' }).stdout.trim());
}

export async function runLoad<T>(opts: LoadGenOptions, onWindowStart: () => Promise<T>): Promise<{ result: LoadGenResult; during: T }> {
  const [cmd, args] = withNofile(process.execPath, ['--import', 'tsx', 'bench/lib/load-gen.ts', JSON.stringify(opts)]);
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  let during: Promise<T> | undefined;
  let result: LoadGenResult | undefined;
  const rl = createInterface({ input: proc.stdout });
  rl.on('line', (line) => {
    let j: { ev?: string; result?: LoadGenResult };
    try {
      j = JSON.parse(line) as typeof j;
    } catch {
      return;
    }
    if (j.ev === 'window-start') during = onWindowStart();
    if (j.ev === 'result') result = j.result;
  });
  // Bounded: opening + settle + window + a minute for start-up and stragglers.
  const limitMs = (opts.n / opts.rate) * 1000 + opts.settleMs + opts.windowMs + 60_000;
  const timer = setTimeout(() => proc.kill('SIGKILL'), limitMs);
  const code = await exited;
  clearTimeout(timer);
  if (!result || !during) throw new Error(`load generator exited with ${code} and no result`);
  return { result, during: await during };
}

/** Event-loop delay of the server's main thread: a preload that writes its histogram on SIGUSR2, then resets it. */
export interface LoopProbe {
  readonly nodeOptions: string;
  readonly file: string;
  /** Starts a fresh histogram. */
  reset(pid: number): void;
  /** The histogram since the last reset, in ms. */
  read(pid: number): Promise<{ p50: number; p99: number; max: number } | undefined>;
}

export function loopProbe(dir: string): LoopProbe {
  const script = join(dir, 'loop-probe.mjs');
  const file = join(dir, 'loop-delay.json');
  writeFileSync(
    script,
    `import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';
const h = monitorEventLoopDelay({ resolution: 10 });
h.enable();
process.on('SIGUSR2', () => {
  writeFileSync(${JSON.stringify(file)}, JSON.stringify({ p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6, at: Date.now() }));
  h.reset();
});
`,
  );
  return {
    nodeOptions: `--import ${script}`,
    file,
    reset: (pid) => void process.kill(pid, 'SIGUSR2'),
    read: async (pid) => {
      const asked = Date.now();
      process.kill(pid, 'SIGUSR2');
      for (let i = 0; i < 50; i++) {
        await new Promise((r) => setTimeout(r, 100));
        try {
          const j = JSON.parse(readFileSync(file, 'utf8')) as { p50: number; p99: number; max: number; at: number };
          if (j.at >= asked)
            return { p50: Math.round(j.p50 * 10) / 10, p99: Math.round(j.p99 * 10) / 10, max: Math.round(j.max * 10) / 10 };
        } catch {
          /* not written yet */
        }
      }
      return undefined;
    },
  };
}

/** CPU used by the whole machine from now until the returned function is called, in % of one core. */
export function machineCpu(): () => number {
  const read = (): { busy: number; total: number } => {
    const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total };
  };
  const a = read();
  const cores = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .filter((l) => /^cpu\d/.test(l)).length;
  return () => {
    const b = read();
    return Math.round(((b.busy - a.busy) / Math.max(1, b.total - a.total)) * cores * 1000) / 10;
  };
}
