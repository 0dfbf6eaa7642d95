// Third-party programs for the interop suite: finding them (tests skip with a reason when one is
// missing), running them with bounded captured output, stopping them and reaping them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveFfmpegPath } from '../../src/ffmpeg/path.js';

/** Absolute path of `name` on PATH, or undefined. */
export function which(name: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const out = r.stdout.trim();
  return r.status === 0 && out !== '' ? out : undefined;
}

/** The reason a test skips when a program is missing (shown by vitest next to the skipped test). */
export function missing(...names: string[]): string | undefined {
  const absent = names.filter((n) => which(n) === undefined);
  return absent.length > 0 ? `not installed: ${absent.join(', ')} (.ci/run installs them with apt-get)` : undefined;
}

/** Keeps the last `maxBytes` of a program's output: enough for a failure message, never unbounded. */
export class OutputTail {
  #text = '';
  constructor(private readonly maxBytes = 64 * 1024) {}
  push(chunk: Buffer | string): void {
    this.#text += chunk.toString();
    if (this.#text.length > this.maxBytes) this.#text = this.#text.slice(-this.maxBytes);
  }
  get text(): string {
    return this.#text;
  }
}

export interface Running {
  readonly proc: ChildProcess;
  readonly name: string;
  readonly output: OutputTail;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, SIGKILL after graceMs; resolves once reaped. Idempotent. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly uid?: number;
  readonly gid?: number;
}

/** Starts a program with stdout and stderr merged into one bounded tail. */
export function start(cmd: string, args: readonly string[], opts: StartOptions = {}): Running {
  const proc = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
    ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
  });
  const output = new OutputTail();
  proc.stdout?.on('data', (d: Buffer) => output.push(d));
  proc.stderr?.on('data', (d: Buffer) => output.push(d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('error', (err) => {
      output.push(`\n[spawn error] ${err.message}\n`);
      resolve({ code: null, signal: null });
    });
    proc.once('close', (code, signal) => resolve({ code, signal }));
  });
  let stopping: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  const stop = (graceMs = 5000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> => {
    stopping ??= (async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    })();
    return stopping;
  };
  return { proc, name: cmd, output, exited, stop };
}

/** Runs a program to completion (killed after timeoutMs) and returns its exit and output. */
export async function run(
  cmd: string,
  args: readonly string[],
  timeoutMs: number,
  opts: StartOptions = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string; timedOut: boolean }> {
  const r = start(cmd, args, opts);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void r.stop(2000);
  }, timeoutMs);
  try {
    const e = await r.exited;
    return { ...e, output: r.output.text, timedOut };
  } finally {
    clearTimeout(timer);
  }
}

/** A fresh temp dir and its remover. */
export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `antenna-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Ports for programs that cannot listen on port 0 (icecast2, pebble's HTTP-01 target) are chosen
 * below the kernel's ephemeral range. A port picked by listening on 0 comes *from* that range, and
 * between our close and the program's bind any outgoing connection of a parallel test may take it
 * as its local port: that was an EADDRINUSE in CI. Below the range only another listener can.
 */
function belowEphemeral(): { low: number; high: number } {
  let first = 32768;
  try {
    first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || first;
  } catch {
    // Not Linux: the IANA dynamic range starts at 49152, and 32768 is below both.
  }
  return { low: Math.min(10_000, first - 2_000), high: first - 2 };
}

/** Ports this process handed out, so two picks in one test file never collide with each other. */
const handedOut = new Set<number>();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Picks a free port p (and p+1..p+extra) below the ephemeral range. */
async function pickPorts(extra: number): Promise<number> {
  const { low, high } = belowEphemeral();
  for (let attempt = 0; attempt < 200; attempt++) {
    const p = low + Math.floor(Math.random() * (high - extra - low));
    const all = Array.from({ length: extra + 1 }, (_, i) => p + i);
    if (all.some((q) => handedOut.has(q))) continue;
    let free = true;
    for (const q of all) if (!(await canListen(q))) free = false;
    if (!free) continue;
    for (const q of all) handedOut.add(q);
    return p;
  }
  throw new Error(`no free port found in ${low}-${high}`);
}

/** A TCP port free right now on 127.0.0.1, for programs (icecast2, pebble) that cannot listen on port 0. */
export function freePort(): Promise<number> {
  return pickPorts(0);
}

/** Two consecutive free ports p, p+1 (Shoutcast v1 clients always use the Icecast port + 1). */
export function freePortPair(): Promise<number> {
  return pickPorts(1);
}

/** Writes a sine tone as MP3 with an ID3 title, with the embedded ffmpeg (present in every install). */
export async function makeToneMp3(
  path: string,
  seconds: number,
  opts: { freq?: number; title?: string; bitrate?: string } = {},
): Promise<void> {
  const ffmpeg = resolveFfmpegPath(process.env.FFMPEG_PATH);
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=${opts.freq ?? 440}:sample_rate=44100:duration=${seconds}`,
  ];
  args.push('-ac', '2', '-c:a', 'libmp3lame', '-b:a', opts.bitrate ?? '128k', '-id3v2_version', '3');
  if (opts.title !== undefined) args.push('-metadata', `title=${opts.title}`);
  args.push(path);
  const r = await run(ffmpeg, args, 60_000);
  if (r.code !== 0) throw new Error(`ffmpeg could not make ${path}: ${r.output}`);
}

/** Resolves when `pred` is true, polling every `everyMs`; rejects with `what` after `timeoutMs`. */
export async function until<T>(
  what: string,
  timeoutMs: number,
  pred: () => Promise<T | undefined> | T | undefined,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await pred();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      const why = lastErr instanceof Error ? ` (last error: ${lastErr.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Awaits `p`; if it rejects, the error also carries what the program `r` printed. */
export async function withOutput<T>(r: Running, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    const code = r.proc.exitCode === null ? 'still running' : `exited ${r.proc.exitCode}`;
    throw new Error(`${(err as Error).message}\n--- ${r.name} (${code}) output ---\n${r.output.text.slice(-3000)}`, { cause: err });
  }
}
