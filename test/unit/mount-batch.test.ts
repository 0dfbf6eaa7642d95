// The mount's batch size follows what a pass over its listeners costs by transport (WRITE_COST), not
// their number: h2 listeners counted as plain ones were written 20 times a second up to 2,000 of them.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { MountConfig } from '../../src/config/load.js';
import { Mount, WRITE_COST, batchSamples, type Listener, type ListenerSink } from '../../src/icecast-compat/mount.js';
import type { EncodedChunk } from '../../src/types/contracts.js';
import type { ListenerEvents } from '../../src/types/events.js';
import { SAMPLE_RATE } from '../../src/types/pcm.js';
import { TypedEmitter } from '../../src/util/typed-emitter.js';

const FRAME = 1152;

class CountingSink implements ListenerSink {
  writes = 0;
  readonly writableLength = 0;
  write(): boolean {
    this.writes++;
    return true;
  }
  cork(): void {}
  uncork(): void {}
  destroy(): void {}
}

function listener(id: number, writeCost: number): Listener & { sink: CountingSink } {
  return {
    id,
    sink: new CountingSink(),
    httpVersion: writeCost === WRITE_COST.h2 ? 2 : 1,
    writeCost,
    ip: '127.0.0.1',
    userAgent: 'test',
    connectedAt: Date.now(),
    metaint: 0,
    untilMeta: 16_000,
    lastTitle: undefined,
    bytesSent: 0,
    mount: undefined,
    oggEpoch: undefined,
  };
}

async function mountWith(listeners: readonly Listener[]): Promise<{ mount: Mount; feed(frames: number): void }> {
  let push: (c: EncodedChunk) => void = () => undefined;
  const mount = await Mount.create({
    config: { mount: '/listen/test.mp3', codec: 'mp3', bitrate: 128_000 } as MountConfig,
    stream: {
      key: 'mp3-128k',
      spec: { codec: 'mp3', bitrate: 128_000 },
      subscribe: (fn) => {
        push = fn;
        return () => undefined;
      },
    },
    log: pino({ level: 'silent' }),
    queueBytes: 512 * 1024,
    burstSeconds: 2,
    onLeave: () => undefined,
    events: new TypedEmitter<ListenerEvents>(),
  });
  for (const l of listeners) mount.attach(l, undefined, false);
  const meta = { title: 'test', tier: 'emergency' as const, seq: 0 };
  const feed = (frames: number): void => {
    for (let i = 0; i < frames; i++)
      push({ data: Buffer.alloc(418), meta, generation: 0, frames: 1, samples: FRAME, frameEnds: [418], oggHeader: false });
  };
  return { mount, feed };
}

describe('mount batches by write cost', () => {
  it('batchSamples: a frame at a time for a small audience, then 50, 100, 200 and 400 ms of audio', () => {
    expect(batchSamples(0)).toBe(1);
    expect(batchSamples(200)).toBe(1);
    expect(batchSamples(201)).toBe(SAMPLE_RATE / 20);
    expect(batchSamples(1000)).toBe(SAMPLE_RATE / 20);
    expect(batchSamples(1001)).toBe(SAMPLE_RATE / 10);
    expect(batchSamples(2001)).toBe(SAMPLE_RATE / 5);
    expect(batchSamples(4001)).toBe(SAMPLE_RATE * 0.4);
    // Writes a second for N plain listeners stay bounded as N grows.
    const perSecond = (n: number): number => (n / Math.max(FRAME, batchSamples(n))) * SAMPLE_RATE;
    for (const n of [1000, 2000, 4000, 8000]) expect(perSecond(n)).toBeLessThanOrEqual(20_000);
  });

  it('600 h2 listeners weigh what 2,400 plain ones do: a quarter of the writes a second of 600 plain listeners', async () => {
    const plain = Array.from({ length: 600 }, (_, i) => listener(i, WRITE_COST.plain));
    const h2 = Array.from({ length: 600 }, (_, i) => listener(1000 + i, WRITE_COST.h2));
    const a = await mountWith(plain);
    const b = await mountWith(h2);
    expect(a.mount.writeCost).toBe(600);
    expect(b.mount.writeCost).toBe(2400);
    // 40 frames = 1.045 s of audio. Plain: 2,205-sample batches, 2 frames each; h2: 8,820, 8 frames each.
    a.feed(40);
    b.feed(40);
    // Passes this large are written in slices, a turn of the event loop apart (see Mount#append).
    for (let i = 0; i < 200; i++) await new Promise((r) => setImmediate(r));
    expect(plain.every((l) => l.sink.writes === 20)).toBe(true);
    expect(h2.every((l) => l.sink.writes === 5)).toBe(true);
    a.mount.close();
    b.mount.close();
  });

  it('a listener leaving takes its cost with it', async () => {
    const ls = [listener(1, WRITE_COST.h2), listener(2, WRITE_COST.tls), listener(3, WRITE_COST.plain)];
    const { mount } = await mountWith(ls);
    expect(mount.writeCost).toBe(WRITE_COST.h2 + WRITE_COST.tls + WRITE_COST.plain);
    mount.drop(ls[0] as Listener, 'closed');
    expect(mount.writeCost).toBe(WRITE_COST.tls + WRITE_COST.plain);
    mount.detach(ls[1] as Listener);
    expect(mount.writeCost).toBe(WRITE_COST.plain);
    mount.close();
    expect(mount.writeCost).toBe(0);
  });
});
