// Runs the real Antenna server as a child process (`node --import tsx src/main.ts`), configured only
// through ANTENNA_* environment variables, the way a station runs it; reads its pino JSON lines.
import { spawn } from 'node:child_process';
import { expect } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OutputTail, makeToneMp3, tempDir } from './interop-programs.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface AntennaPorts {
  readonly primary: number;
  readonly fallback: number;
  readonly primaryShoutcast: number;
  readonly fallbackShoutcast: number;
  readonly http: number;
}

export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

export interface StopResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Descendant processes (pid + command) still running after the server exited. */
  readonly leftovers: readonly string[];
}

export interface AntennaServer {
  readonly ports: AntennaPorts;
  readonly sourcePassword: string;
  readonly adminPassword: string;
  readonly dataDir: string;
  readonly pid: number;
  /** `http://127.0.0.1:<http>`; throws while Antenna reports no HTTP port. */
  readonly httpBase: string;
  /** Every JSON log line so far (bounded: the oldest go first). */
  readonly logs: readonly LogLine[];
  /** How many lines have been logged so far: pass it as `since` to wait only for later lines. */
  mark(): number;
  /** Resolves with the first matching line logged at or after line number `since` (default 0: any). */
  waitForLog(what: string, pred: (l: LogLine) => boolean, timeoutMs?: number, since?: number): Promise<LogLine>;
  /** The last log lines and stderr, for assertion messages. */
  describe(): string;
  /** SIGTERM; resolves when the server has exited, with leftover children listed. Idempotent. */
  stop(timeoutMs?: number): Promise<StopResult>;
}

export interface StartAntennaOptions {
  /** Extra ANTENNA_* variables (they win over the defaults set here). */
  readonly env?: Record<string, string>;
  readonly readyTimeoutMs?: number;
}

const MAX_LOG_LINES = 5000;

/** Starts Antenna on loopback with every port 0 and fresh passwords; resolves on "antenna ready". */
export async function startAntenna(opts: StartAntennaOptions = {}): Promise<AntennaServer> {
  const dir = tempDir('interop-server');
  const sourcePassword = opts.env?.ANTENNA_SOURCE_PASSWORD ?? `src-${randomBytes(6).toString('hex')}`;
  const adminPassword = opts.env?.ANTENNA_ADMIN_PASSWORD ?? `adm-${randomBytes(6).toString('hex')}`;
  // A tone of our own as emergency audio: listeners on every mount then hear sound (not silence)
  // even when no studio input is connected, which is what the listener and relay tests check.
  const emergency = join(dir.path, 'emergency.mp3');
  await makeToneMp3(emergency, 6, { freq: 523 });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ANTENNA_HOST: '127.0.0.1',
    ANTENNA_PUBLIC_HOSTNAME: '127.0.0.1',
    ANTENNA_PRIMARY_PORT: '0',
    ANTENNA_FALLBACK_PORT: '0',
    ANTENNA_PRIMARY_SHOUTCAST_PORT: '0',
    ANTENNA_FALLBACK_SHOUTCAST_PORT: '0',
    ANTENNA_HTTP_PORT: '0',
    ANTENNA_SOURCE_PASSWORD: sourcePassword,
    ANTENNA_ADMIN_PASSWORD: adminPassword,
    ANTENNA_DATA_DIR: join(dir.path, 'data'),
    ANTENNA_LOG_LEVEL: 'info',
    ANTENNA_EMERGENCY_FILE: emergency,
    ANTENNA_EMERGENCY_TITLE: 'Interop Emergency Tone',
    ...opts.env,
  };
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: LogLine[] = [];
  let total = 0; // lines ever logged; logs[i] is line number total - logs.length + i
  const stderr = new OutputTail(32 * 1024);
  const rawStdout = new OutputTail(32 * 1024);
  const waiters = new Set<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  let partial = '';
  proc.stderr.on('data', (d: Buffer) => stderr.push(d));
  proc.stdout.on('data', (d: Buffer) => {
    rawStdout.push(d);
    const parts = (partial + d.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    if (partial.length > 1_000_000) partial = ''; // a runaway line is not a log line
    for (const text of parts) {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        continue; // not pino JSON (e.g. the generated-password banner): kept in rawStdout only
      }
      logs.push(line);
      total++;
      if (logs.length > MAX_LOG_LINES) logs.shift();
      for (const w of [...waiters]) {
        if (w.pred(line)) {
          waiters.delete(w);
          w.resolve(line);
        }
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('close', (code, signal) => resolve({ code, signal }));
    proc.once('error', (err) => {
      stderr.push(`[spawn error] ${err.message}`);
      resolve({ code: null, signal: null });
    });
  });

  const describe = (): string =>
    `--- last log lines ---\n${logs
      .slice(-40)
      .map((l) => JSON.stringify(l))
      .join('\n')}\n--- stderr ---\n${stderr.text.slice(-4000)}`;

  const waitForLog = (what: string, pred: (l: LogLine) => boolean, timeoutMs = 30_000, since = 0): Promise<LogLine> => {
    const first = total - logs.length;
    const seen = logs.find((l, i) => first + i >= since && pred(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve: (l: LogLine) => {
          clearTimeout(timer);
          resolve(l);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`Antenna never logged ${what} within ${timeoutMs} ms\n${describe()}`));
      }, timeoutMs);
      waiters.add(w);
      void exited.then(({ code, signal }) => {
        if (!waiters.has(w)) return;
        waiters.delete(w);
        clearTimeout(timer);
        reject(new Error(`Antenna exited (code ${code}, signal ${signal}) before logging ${what}\n${describe()}`));
      });
    });
  };

  let ready: LogLine;
  try {
    ready = await waitForLog('"antenna ready"', (l) => l.msg === 'antenna ready', opts.readyTimeoutMs ?? 60_000);
  } catch (err) {
    proc.kill('SIGKILL');
    await exited;
    dir.remove();
    if (!existsSync(join(REPO_ROOT, 'src/main.ts')))
      throw new Error('src/main.ts does not exist yet: the interop suite needs the real server', { cause: err });
    throw err;
  }
  let ports: AntennaPorts;
  try {
    ports = parsePorts(ready.ports, describe);
  } catch (err) {
    proc.kill('SIGKILL');
    await exited;
    dir.remove();
    throw err;
  }

  let stopping: Promise<StopResult> | undefined;
  const stop = (timeoutMs = 20_000): Promise<StopResult> => {
    stopping ??= (async () => {
      const pid = proc.pid ?? -1;
      const children = descendants(pid);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => {
        stderr.push(`\n[interop-server] no exit ${timeoutMs} ms after SIGTERM: SIGKILL\n`);
        proc.kill('SIGKILL');
      }, timeoutMs);
      const { code, signal } = await exited;
      clearTimeout(timer);
      // Give the kernel a moment to reap children that died with the parent.
      await new Promise((r) => setTimeout(r, 200));
      const leftovers = children.filter((c) => stillRunning(c)).map((c) => `${c.pid} ${c.cmd}`);
      for (const c of children) if (stillRunning(c)) process.kill(c.pid, 'SIGKILL');
      dir.remove();
      return { code, signal, leftovers };
    })();
    return stopping;
  };

  return {
    ports,
    sourcePassword,
    adminPassword,
    dataDir: join(dir.path, 'data'),
    pid: proc.pid ?? -1,
    get httpBase(): string {
      // Ingest-only builds report http 0: the tests get as far as they can, then fail saying why.
      if (ports.http === 0)
        throw new Error(`Antenna reported no HTTP port ("antenna ready" ports.http = 0): listener HTTP is not wired yet\n${describe()}`);
      return `http://127.0.0.1:${ports.http}`;
    },
    logs,
    mark: () => total,
    waitForLog,
    describe,
    stop,
  };
}

function parsePorts(raw: unknown, describe: () => string): AntennaPorts {
  const p = raw as Partial<Record<keyof AntennaPorts, unknown>> | undefined;
  const keys: (keyof AntennaPorts)[] = ['primary', 'fallback', 'primaryShoutcast', 'fallbackShoutcast', 'http'];
  const out: Partial<Record<keyof AntennaPorts, number>> = {};
  for (const k of keys) {
    const v = p?.[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || (v === 0 && k !== 'http')) {
      throw new Error(`"antenna ready" line has no usable ports.${k} (got ${JSON.stringify(raw)})\n${describe()}`);
    }
    out[k] = v;
  }
  return out as AntennaPorts;
}

export interface ProcInfo {
  readonly pid: number;
  readonly startTime: string;
  readonly cmd: string;
}

function statOf(pid: number): { ppid: number; state: string; startTime: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state ppid ... starttime is field 22 overall.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '?', ppid: Number(rest[1]), startTime: rest[19] ?? '' };
  } catch {
    return undefined;
  }
}

/** All live descendants of `root`, from /proc. */
export function descendants(root: number): ProcInfo[] {
  const byParent = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = statOf(Number(name));
    if (!s) continue;
    const list = byParent.get(s.ppid) ?? [];
    list.push(Number(name));
    byParent.set(s.ppid, list);
  }
  const out: ProcInfo[] = [];
  const queue = [...(byParent.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    const s = statOf(pid);
    if (!s) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim().slice(0, 200);
    } catch {
      /* gone meanwhile */
    }
    out.push({ pid, startTime: s.startTime, cmd });
    queue.push(...(byParent.get(pid) ?? []));
  }
  return out;
}

/** Whether that process (same pid, same start) is still running: pids are reused. */
export function stillRunning(p: ProcInfo): boolean {
  const s = statOf(p.pid);
  // Same pid and start time = the same process; a zombie has finished running.
  return s !== undefined && s.startTime === p.startTime && s.state !== 'Z';
}

/** Log predicates for what the ingest reports (kept here so a renamed message is fixed in one place). */
export const logs = {
  sourceConnected:
    (inputId: 'primary' | 'fallback', userAgent?: RegExp) =>
    (l: LogLine): boolean =>
      l.msg === 'source connected' && l.inputId === inputId && (userAgent === undefined || userAgent.test(String(l.userAgent ?? ''))),
  sourceDisconnected:
    (inputId: 'primary' | 'fallback') =>
    (l: LogLine): boolean =>
      l.msg === 'source disconnected' && l.inputId === inputId,
  firstPcm:
    (inputId: 'primary' | 'fallback') =>
    (l: LogLine): boolean =>
      l.msg === 'first PCM from decoder' && l.inputId === inputId,
  metadata:
    (title: string) =>
    (l: LogLine): boolean =>
      typeof l.msg === 'string' && /metadata update/i.test(l.msg) && l.title === title,
};

/** Stops the server and asserts a clean shutdown: exit code 0 and no child process left running. */
export async function stopCleanly(server: AntennaServer): Promise<void> {
  const r = await server.stop();
  expect(r.code, 'Antenna exit code after SIGTERM').toBe(0);
  expect(r.leftovers, 'children still running after Antenna exited').toEqual([]);
}

/** One MP3 mount and one HLS tier: all a source-client test listens to, and light on two cores. */
export const LEAN_OUTPUTS: Readonly<Record<string, string>> = {
  ANTENNA_MOUNTS: JSON.stringify([{ mount: '/listen/live.mp3', codec: 'mp3', bitrate: 128_000 }]),
  ANTENNA_HLS_TIERS: JSON.stringify([{ name: 'aac_64k', bitrate: 64_000 }]),
};
