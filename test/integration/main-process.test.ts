// The real entry point as a station runs it: configured by environment, prints generated passwords
// once, and on SIGTERM closes sources, reaps every ffmpeg child and exits 0.
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { descendants, stillRunning } from '../helpers/interop-server.js';
import { runMain as run } from '../helpers/main-process.js';
import { startSourceClient, type ProcessHandle } from '../helpers/source-client.js';

const clients: ProcessHandle[] = [];
const mains: ReturnType<typeof run>[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.kill()));
  await Promise.all(mains.splice(0).map((m) => m.stop()));
});
const runMain = (env: Record<string, string>, opts: Parameters<typeof run>[1] = {}) => {
  const m = run(env, opts);
  mains.push(m);
  return m;
};

// Debian's libjemalloc2 (installed by .ci/run).
const JEMALLOC = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
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
    // Ogg, so that its decoder is an ffmpeg child (MP3 at 44.1 kHz is decoded in the server itself).
    clients.push(startSourceClient({ port: ports.primary, password, frequency: 440, codec: 'ogg' }));
    const dec = await m.waitLog('decoder started');
    expect(dec.engine).toBe('ffmpeg');
    const pid = dec.pid as number;
    expect(alive(pid)).toBe(true);
    m.proc.kill('SIGTERM');
    expect(await m.exited).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(m.lines.some((l) => l.msg === 'stopped')).toBe(true);
  });

  // systemd may stop the unit while it is still starting: the stop must still be graceful, not Node's
  // default death on SIGTERM that would leave the encoders it had spawned so far behind.
  it('a SIGTERM during start-up still stops cleanly: exit 0, every child reaped', async () => {
    const m = runMain({ ANTENNA_LOG_LEVEL: 'info' });
    await m.waitLog('memory allocator');
    const children = descendants(m.proc.pid!);
    m.proc.kill('SIGTERM');
    expect(await m.exited).toBe(0);
    const down = m.lines.find((l) => l.msg === 'shutting down');
    console.log(`SIGTERM landed ${down?.starting ? 'during start-up' : 'after start-up'}, ${children.length} children then`);
    expect(m.lines.some((l) => l.msg === 'stopped')).toBe(true);
    expect(children.filter(stillRunning)).toEqual([]);
  });

  // deploy/antenna.service preloads jemalloc so a listener peak's memory goes back to the system.
  it.skipIf(!existsSync(JEMALLOC))('says which allocator runs: jemalloc preloaded as the unit does, glibc without', async () => {
    const withJe = runMain({ ANTENNA_LOG_LEVEL: 'info', LD_PRELOAD: 'libjemalloc.so.2' });
    expect((await withJe.waitLog('memory allocator')).allocator).toBe('jemalloc');
    const plain = runMain({ ANTENNA_LOG_LEVEL: 'info', LD_PRELOAD: '' });
    expect((await plain.waitLog('memory allocator')).allocator).toBe('glibc');
  });

  // `npm start` runs Node through scripts/start.sh, which preloads jemalloc where it is installed.
  it.skipIf(!existsSync(JEMALLOC))('npm start runs on jemalloc where installed, and ANTENNA_MALLOC=glibc opts out', async () => {
    const started = runMain({ ANTENNA_LOG_LEVEL: 'info', LD_PRELOAD: '' }, { launcher: true });
    expect((await started.waitLog('memory allocator')).allocator).toBe('jemalloc');
    const optOut = runMain({ ANTENNA_LOG_LEVEL: 'info', LD_PRELOAD: '', ANTENNA_MALLOC: 'glibc' }, { launcher: true });
    expect((await optOut.waitLog('memory allocator')).allocator).toBe('glibc');
    // SIGTERM reaches Node itself (the script execs it), so the graceful stop still runs.
    started.proc.kill('SIGTERM');
    expect(await started.exited).toBe(0);
    expect(started.lines.some((l) => l.msg === 'stopped')).toBe(true);
  });

  it('refuses to start on an invalid setting, naming it, its value and what is allowed', async () => {
    const m = runMain({ ANTENNA_STALL_MS: '-5' });
    expect(await m.exited).toBe(2);
    expect(m.stderr()).toMatch(/stallMs \(env ANTENNA_STALL_MS\) = -5: .*>=20/);
  });
});
