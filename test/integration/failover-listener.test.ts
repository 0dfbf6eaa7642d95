// Failover heard by a real listener: ffmpeg decodes /listen/live.mp3 over HTTP while the primary is
// killed, the fallback takes over and the primary returns. The listener is never disconnected and
// hears no silence around either switch.
import { describe, expect, it } from 'vitest';
import { FFMPEG, antennaFixture } from '../helpers/antenna.js';
import { sleep, waitFor } from '../helpers/programme.js';
import { firstHeard, listen, longestSilence } from '../helpers/timed-listener.js';

const fx = antennaFixture();

describe('failover at the listener', () => {
  it('/listen/live.mp3: primary killed → fallback → primary back, no disconnect, no silence', async () => {
    const t = await fx.start({ returnHoldSeconds: 1 }, { emergencyTone: 660, record: false });
    const listener = fx.track(await listen(FFMPEG, `http://127.0.0.1:${t.antenna.ports.http}/listen/live.mp3`, 'mp3', [440, 880, 660]));
    await waitFor(() => firstHeard(listener.windows, 660, 0) !== undefined, 'emergency heard', 10_000);
    fx.source('fallback', { frequency: 880 });
    const primary = fx.source('primary', { frequency: 440 });
    await waitFor(() => firstHeard(listener.windows, 440, 0) !== undefined, 'primary heard', 15_000);
    await sleep(1500);

    const killAt = performance.now();
    await primary.kill();
    await waitFor(() => firstHeard(listener.windows, 880, killAt) !== undefined, 'fallback heard', 10_000);
    const fb = firstHeard(listener.windows, 880, killAt)!;
    expect(fb - killAt).toBeLessThan(3000);

    const backAt = performance.now();
    fx.source('primary', { frequency: 440 });
    await waitFor(() => firstHeard(listener.windows, 440, backAt) !== undefined, 'primary heard again', 15_000);
    await sleep(1000);
    expect(longestSilence(listener.windows, killAt - 1000, performance.now())).toBe(0);
    expect(listener.disconnected()).toBe(false);
  });
});
