// A jittery uplink: a real ffmpeg source streams through a TCP proxy that holds the bytes and lets
// them go in bursts up to 450 ms apart. The input's jitter buffer must grow its target until the
// underruns stop, and the programme must carry on without dropouts once it has.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { antennaFixture } from '../helpers/antenna.js';
import { sleep, waitFor } from '../helpers/programme.js';

const fx = antennaFixture();

/** Forwards to `port`, releasing client→server bytes in bursts at random gaps of 0–maxGapMs. */
async function burstyProxy(port: number, maxGapMs: number): Promise<number> {
  const sockets = new Set<net.Socket>();
  let seed = 42;
  const random = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const proxy = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    const held: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const release = (): void => {
      if (held.length) upstream.write(Buffer.concat(held.splice(0)));
      timer = setTimeout(release, random() * maxGapMs);
    };
    release();
    client.on('data', (b: Buffer) => held.push(b));
    upstream.pipe(client);
    const end = (): void => {
      clearTimeout(timer);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  fx.track({
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        proxy.close(() => r());
      }),
  });
  return (proxy.address() as net.AddressInfo).port;
}

describe('adaptive jitter buffer on a jittery uplink', () => {
  it('grows its target until underruns stop', async () => {
    const t = await fx.start({ returnHoldSeconds: 0.5 }, { emergencyTone: 660, record: false });
    const port = await burstyProxy(t.antenna.ports.primary, 450);
    fx.source('primary', { frequency: 440, port });
    await waitFor(() => t.antenna.snapshot().inputs.primary.mixer.connected, 'primary connected');
    await sleep(25_000);
    const mid = t.antenna.snapshot().inputs.primary.mixer.buffer;
    // Grown well past its 150 ms minimum: 387-393 ms here, 265 ms in a loaded CI run. Since MP3 sources are
    // decoded in-process the PCM arrives in the proxy's own bursts, without an ffmpeg decoder's scheduling
    // on top, so the measured spread (and the target) can be lower than the 300 ms this once asserted.
    expect(mid.targetMs).toBeGreaterThan(200);
    await sleep(15_000);
    const end = t.antenna.snapshot().inputs.primary.mixer.buffer;
    // Once adapted, underruns (all but) stop in the last 15 s. A buffer that had not adapted would underrun
    // on most gaps (the proxy's average gap, 225 ms, is past the 150 ms minimum): dozens in 15 s. One late
    // underrun is allowed: a loaded CI run (2026-12-02, core suite on two cores) saw 2 in the first 25 s and
    // 1 in the last 15 s, while seven other runs that day saw none after 25 s.
    expect(end.underruns - mid.underruns).toBeLessThanOrEqual(1);
    expect(end.targetMs).toBeLessThanOrEqual(2000);
    expect(t.antenna.mixer.onAir).toBe('primary');
  }, 90_000);
});
