// The real entry point as a station runs it: configured by environment, prints generated passwords
// once, and on SIGTERM closes sources, reaps every ffmpeg child and exits 0.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { startSourceClient, type ProcessHandle } from '../helpers/source-client.js';

const dirs: string[] = [];
const clients: ProcessHandle[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.kill()));
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function runMain(env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'antenna-main-'));
  dirs.push(dir);
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
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
  return { proc, lines, exited, waitLog, stderr: () => stderr };
}

describe('main process', () => {
  it('prints generated passwords once, runs, and on SIGTERM reaps every ffmpeg child and exits 0', async () => {
    const m = runMain({ ANTENNA_LOG_LEVEL: 'info' });
    const ready = await m.waitLog('antenna ready');
    const ports = ready.ports as { primary: number };
    expect(m.stderr()).toMatch(/sourcePassword not configured.*password "([A-Za-z0-9_-]{20,})"/);
    const password = /sourcePassword not configured.*password "([A-Za-z0-9_-]+)"/.exec(m.stderr())![1]!;
    // The password goes to the terminal only, never into the structured log.
    expect(JSON.stringify(m.lines)).not.toContain(password);
    clients.push(startSourceClient({ port: ports.primary, password, frequency: 440 }));
    const dec = await m.waitLog('decoder started');
    const pid = dec.pid as number;
    expect(alive(pid)).toBe(true);
    m.proc.kill('SIGTERM');
    expect(await m.exited).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(m.lines.some((l) => l.msg === 'stopped')).toBe(true);
  });

  it('refuses to start on an invalid setting, naming it, its value and what is allowed', async () => {
    const m = runMain({ ANTENNA_STALL_MS: '-5' });
    expect(await m.exited).toBe(2);
    expect(m.stderr()).toMatch(/stallMs \(env ANTENNA_STALL_MS\) = -5: .*>=20/);
  });
});
