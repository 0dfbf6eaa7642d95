// CPU and memory of a whole process tree (the server plus every ffmpeg child) from /proc:
// CPU % of one core from utime+stime deltas, PSS from smaps_rollup (shared pages split fairly).
import { readFileSync, readdirSync } from 'node:fs';

const CLK_TCK = 100;

function stat(pid: number): { ppid: number; ticks: number; comm: string } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    const comm = s.slice(s.indexOf('(') + 1, close);
    const f = s.slice(close + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), comm };
  } catch {
    return undefined;
  }
}

export function tree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    const pid = Number(d);
    if (!Number.isInteger(pid)) continue;
    const s = stat(pid);
    if (!s) continue;
    children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(root);
  return out;
}

/**
 * On SIGINT, SIGTERM or SIGHUP sent to the bench runner alone (`kill`, `timeout`, a closed terminal),
 * stops every process it started (the server and its ffmpeg, the old stack, load generators) before it
 * exits: otherwise they are reparented to init and keep using the CPU the next run measures. Ctrl-C in
 * a terminal signals the whole process group, and this only finishes the job.
 */
export function stopDescendantsOnSignal(log: (s: string) => void): { readonly stopping: boolean } {
  const state = { stopping: false };
  const stop = (signal: NodeJS.Signals): void => {
    state.stopping = true;
    const descendants = tree(process.pid).filter((p) => p !== process.pid);
    log(`${signal}: stopping ${descendants.length} child processes`);
    const send = (pids: number[], sig: NodeJS.Signals): number[] =>
      pids.filter((p) => {
        try {
          process.kill(p, sig);
          return true;
        } catch {
          return false; // already gone
        }
      });
    const alive = send(descendants, 'SIGTERM');
    // A grace period for graceful stops (the server closes its listeners and children), then SIGKILL.
    setTimeout(() => {
      send(alive, 'SIGKILL');
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    }, 3000);
  };
  // `on`, not `once`: tsx relays the signal it gets, so the runner may get it twice, and a second one with
  // no listener would end the runner before its SIGKILLs.
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, () => state.stopping || stop(s));
  return state;
}

function pssKb(pid: number): number {
  try {
    const m = /Pss:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export interface TreeUsage {
  readonly cpuPercent: number;
  readonly pssMb: number;
  readonly processes: { pid: number; comm: string; cpuPercent: number; pssMb: number }[];
}

/** Samples the tree over `ms` and reports CPU % of one core and PSS at the end. */
export async function measureTree(root: number, ms: number): Promise<TreeUsage> {
  const before = new Map(tree(root).map((p) => [p, stat(p)?.ticks ?? 0]));
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const secs = (performance.now() - t0) / 1000;
  const processes = tree(root).map((pid) => {
    const s = stat(pid);
    const ticks = (s?.ticks ?? 0) - (before.get(pid) ?? 0);
    return {
      pid,
      comm: s?.comm ?? '?',
      cpuPercent: Math.round((ticks / CLK_TCK / secs) * 100 * 10) / 10,
      pssMb: Math.round(pssKb(pid) / 102.4) / 10,
    };
  });
  return {
    cpuPercent: Math.round(processes.reduce((a, p) => a + p.cpuPercent, 0) * 10) / 10,
    pssMb: Math.round(processes.reduce((a, p) => a + p.pssMb, 0) * 10) / 10,
    processes,
  };
}

/** measureTree over several roots at once (a stack of separate processes, e.g. Icecast and Nginx), summed. */
export async function measureTrees(roots: readonly number[], ms: number): Promise<TreeUsage> {
  const each = await Promise.all(roots.map((r) => measureTree(r, ms)));
  return {
    cpuPercent: Math.round(each.reduce((a, u) => a + u.cpuPercent, 0) * 10) / 10,
    pssMb: Math.round(each.reduce((a, u) => a + u.pssMb, 0) * 10) / 10,
    processes: each.flatMap((u) => u.processes),
  };
}
