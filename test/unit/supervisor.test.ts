import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fault } from '../../src/errors.js';
import { Supervisor, type DeathReport } from '../../src/supervisor/supervisor.js';

/** A unit that reports like an encoder: started/died through handlers, restart() that can fail. */
function fakeUnit(name = 'mp3-320k') {
  const h: { started?: (pid: number | undefined) => void; died?: (r: DeathReport) => void } = {};
  let pid = 100;
  const unit = {
    name,
    kind: 'encoder' as const,
    engine: 'ffmpeg' as const,
    failNext: 0,
    restartCalls: 0,
    subscribe(handlers: { started(pid: number | undefined): void; died(r: DeathReport): void }) {
      h.started = handlers.started;
      h.died = handlers.died;
      return [() => (h.started = h.died = undefined)];
    },
    restart(): Promise<void> {
      unit.restartCalls++;
      if (unit.failNext > 0) {
        unit.failNext--;
        return Promise.reject(new Error('spawn ENOENT'));
      }
      h.started?.(++pid);
      return Promise.resolve();
    },
    die(message = 'ffmpeg exited (code null, signal SIGKILL)') {
      h.died?.({ fault: fault('ENCODER_FAILED', message), pid, stderrTail: ['last line'] });
    },
    get subscribed() {
      return h.died !== undefined;
    },
  };
  return unit;
}

describe('Supervisor', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('restarts a unit that died after the backoff, records the restart and the last error', async () => {
    const sup = new Supervisor({ log: pino({ level: 'silent' }), baseMs: 250, maxMs: 10_000 });
    const events: string[] = [];
    sup.events.on('restart-scheduled', (e) => events.push(`scheduled ${e.name} in ${e.inMs}`));
    sup.events.on('restarted', (e) => events.push(`restarted ${e.name} #${e.restarts}`));
    const u = fakeUnit();
    sup.watch(u, 100);
    u.die();
    expect(sup.snapshot()[0]).toMatchObject({ name: 'mp3-320k', state: 'restarting', pid: undefined, restarts: 0 });
    await vi.advanceTimersByTimeAsync(249);
    expect(u.restartCalls).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(u.restartCalls).toBe(1);
    expect(events).toEqual(['scheduled mp3-320k in 250', 'restarted mp3-320k #1']);
    const s = sup.snapshot()[0];
    expect(s).toMatchObject({ state: 'running', pid: 101, restarts: 1 });
    expect(s?.lastError).toMatchObject({ code: 'ENCODER_FAILED', stderrTail: ['last line'] });
    expect(s?.lastError?.message).toMatch(/SIGKILL/);
    sup.close();
  });

  it('backs off exponentially up to the cap while deaths repeat, and retries a replacement that cannot start', async () => {
    const sup = new Supervisor({ log: pino({ level: 'silent' }), baseMs: 100, maxMs: 400, stableMs: 60_000 });
    const delays: number[] = [];
    const failed: string[] = [];
    sup.events.on('restart-scheduled', (e) => delays.push(e.inMs));
    sup.events.on('restart-failed', (e) => failed.push(e.message));
    const u = fakeUnit();
    sup.watch(u, 100);
    u.failNext = 2;
    u.die();
    await vi.advanceTimersByTimeAsync(100 + 200 + 400);
    expect(failed).toEqual(['spawn ENOENT', 'spawn ENOENT']);
    expect(u.restartCalls).toBe(3);
    u.die();
    await vi.advanceTimersByTimeAsync(400);
    u.die();
    await vi.advanceTimersByTimeAsync(400);
    expect(delays).toEqual([100, 200, 400, 400, 400]);
    expect(sup.snapshot()[0]?.restarts).toBe(3);
    sup.close();
  });

  it('a second death report while a restart is pending schedules nothing more', async () => {
    const sup = new Supervisor({ log: pino({ level: 'silent' }), baseMs: 100 });
    const u = fakeUnit();
    sup.watch(u);
    u.die();
    u.die('stalled too');
    await vi.advanceTimersByTimeAsync(1000);
    expect(u.restartCalls).toBe(1);
    expect(sup.snapshot()[0]?.lastError?.message).toBe('stalled too');
    sup.close();
  });

  it('close() cancels pending restarts and unsubscribes; it is idempotent', async () => {
    const sup = new Supervisor({ log: pino({ level: 'silent' }), baseMs: 100 });
    const u = fakeUnit();
    sup.watch(u);
    u.die();
    sup.close();
    sup.close();
    await vi.advanceTimersByTimeAsync(1000);
    expect(u.restartCalls).toBe(0);
    expect(u.subscribed).toBe(false);
    expect(sup.snapshot()).toEqual([]);
  });
});
