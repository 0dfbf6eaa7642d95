// The emergency tier: looped from the start when it takes over, replaced while running, and never a
// reason for the mixer to stop (missing or garbage file → silence plus an alert).
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeToneFile, startAntenna, type TestAntenna } from '../helpers/antenna.js';
import { firstHeard, heard, sleep, waitFor } from '../helpers/programme.js';

let t: TestAntenna | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

describe('emergency file', () => {
  it('a missing file: the mixer still runs (silence) and raises an alert', async () => {
    t = await startAntenna({ emergencyFile: '/nonexistent/fallback.mp3' });
    const snap = t.antenna.snapshot().mixer;
    expect(snap.emergency.loaded).toBe(false);
    expect(snap.emergency.problem).toMatch(/cannot be used/);
    expect(snap.timeline.some((e) => e.type === 'alert' && e.detail.code === 'EMERGENCY_FILE_UNUSABLE')).toBe(true);
    const n = t.recorded.length;
    await sleep(500);
    expect(t.recorded.length - n).toBeGreaterThanOrEqual(20); // 20 ms frames keep coming
  });

  it('garbage bytes: alert, silence, and the programme keeps running', async () => {
    t = await startAntenna({}, { record: true });
    const bad = join(t.dir, 'garbage.mp3');
    writeFileSync(bad, Buffer.alloc(50_000, 0x5a));
    await t.stop();
    t = await startAntenna({ emergencyFile: bad });
    expect(t.antenna.snapshot().mixer.emergency.problem).not.toBeNull();
    await sleep(300);
    expect(t.recorded.length).toBeGreaterThan(5);
  });

  it('the decoder record: reloading while a swap decodes, loaded with its time after; a refused file is counted and kept as the last problem', async () => {
    t = await startAntenna({ emergencyMaxSeconds: 60 }, { emergencyTone: 660 });
    const first = t.antenna.snapshot().mixer.emergency;
    expect(first).toMatchObject({ state: 'loaded', failures: 0, lastProblem: undefined, decoderPid: undefined });
    expect(first.decodedAt).toBeGreaterThan(Date.now() - 60_000);
    const next = makeToneFile(t.dir, 990, 30);
    const swapping = t.antenna.commands.useEmergencyFile(next);
    expect(t.antenna.snapshot().mixer.emergency.state).toBe('reloading');
    await waitFor(() => t!.antenna.snapshot().mixer.emergency.decoderPid !== undefined, 'the decode in flight shows its pid', 5000);
    await swapping;
    const swapped = t.antenna.snapshot().mixer.emergency;
    expect(swapped).toMatchObject({ state: 'loaded', file: next, decoderPid: undefined, failures: 0 });
    expect(swapped.decodedAt).toBeGreaterThanOrEqual(first.decodedAt!);

    const bad = join(t.dir, 'refused.mp3');
    writeFileSync(bad, Buffer.alloc(50_000, 0x5a));
    await expect(t.antenna.commands.useEmergencyFile(bad)).rejects.toThrow();
    const refused = t.antenna.snapshot().mixer.emergency;
    // The refused file never went on air: the current one still plays, unharmed, and the failure is on record.
    expect(refused).toMatchObject({ state: 'loaded', file: next, problem: null, failures: 1 });
    expect(refused.lastProblem?.message).toContain('refused.mp3');
  });

  it('a replaced file is picked up while running and played from its start', async () => {
    t = await startAntenna({ emergencyMaxSeconds: 60 }, { emergencyTone: 660 });
    const file = t.antenna.snapshot().mixer.emergency.file;
    await sleep(600);
    expect(firstHeard(heard(t, [660, 990], 0), 660, 0)).toBeDefined();
    const replacedAt = performance.now();
    copyFileSync(makeToneFile(t.dir, 990, 2), file);
    await waitFor(() => t!.antenna.snapshot().mixer.emergency.reloads === 1, 'reload', 10_000);
    // The old 4 s loop finishes first; the new one then plays from its beginning.
    await sleep(5000);
    expect(firstHeard(heard(t, [660, 990], replacedAt), 990, replacedAt)).toBeDefined();
  });
});
