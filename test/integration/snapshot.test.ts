// The read-only view observers get (the status API of the next milestone reads exactly this).
import { describe, expect, it } from 'vitest';
import { antennaFixture } from '../helpers/antenna.js';
import { sleep, waitFor } from '../helpers/programme.js';

const fx = antennaFixture();

describe('snapshot', () => {
  it('shows each input: client, headers, format, bytes, connected since, buffer, level, state', async () => {
    const t = await fx.start({ returnHoldSeconds: 0.5 }, { emergencyTone: 660, record: false });
    const events: string[] = [];
    t.antenna.events.on('source-connected', ({ inputId }) => events.push(`connected ${inputId}`));
    t.antenna.events.on('source-disconnected', ({ inputId, reason }) => events.push(`disconnected ${inputId} ${reason}`));
    t.antenna.events.on('switch', ({ from, to, reason }) => events.push(`switch ${from}→${to} ${reason}`));
    const c = fx.source('primary', { frequency: 440 });
    await waitFor(() => t.antenna.mixer.onAir === 'primary', 'primary on air');
    await sleep(500);
    const s = t.antenna.snapshot();
    const p = s.inputs.primary;
    expect(p.source).toMatchObject({ state: 'streaming', remoteAddress: '127.0.0.1', format: 'mp3', protocol: 'icecast-put' });
    expect(p.source.userAgent).toMatch(/^Lavf/);
    expect(p.source.bytesIn).toBeGreaterThan(1000);
    expect(p.source.connectedAt).toBeLessThanOrEqual(Date.now());
    expect(p.mixer).toMatchObject({ connected: true, available: true, silent: false });
    expect(p.mixer.levelDb).toBeGreaterThan(-30);
    expect(p.mixer.levelDb).toBeLessThan(0);
    expect(p.mixer.buffer.depthMs).toBeGreaterThan(0);
    expect(p.mixer.buffer.targetMs).toBeGreaterThanOrEqual(150);
    expect(s.inputs.fallback.mixer).toMatchObject({ connected: false, available: false, unavailableReason: 'disconnected' });
    expect(s.mixer.onAir).toBe('primary');
    expect(s.encoders.length).toBeGreaterThanOrEqual(6);
    expect(s.mounts.mounts.map((m) => m.mount)).toContain('/listen/live.mp3');
    await c.stop();
    await waitFor(() => t.antenna.mixer.onAir === 'emergency', 'emergency on air');
    expect(events).toEqual([
      'connected primary',
      'switch emergency→primary returned',
      'disconnected primary client-closed',
      'switch primary→emergency disconnected',
    ]);
  });
});
