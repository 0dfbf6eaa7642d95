// The mount's fan-out pass over thousands of listeners is cut into slices with the event loop free
// between them (so a connection arriving mid-pass gets its first byte at once). These tests hold it to
// what listeners must still see: every entry exactly once, in order, and none for one who left.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Mount, type Listener, type ListenerSink } from '../../src/icecast-compat/mount.js';
import type { EncodedChunk } from '../../src/types/contracts.js';
import type { ListenerEvents } from '../../src/types/events.js';
import { TypedEmitter } from '../../src/util/typed-emitter.js';

const log = pino({ level: 'silent' });
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A sink that records what it was given (the socket's role; its queue length is settable). */
class RecordingSink implements ListenerSink {
  readonly got: number[] = [];
  writableLength = 0;
  destroyed = false;
  write(data: Buffer): boolean {
    // Each chunk in these tests is one byte naming its sequence number.
    for (const b of data) this.got.push(b);
    return true;
  }
  cork(): void {}
  uncork(): void {}
  destroy(): void {
    this.destroyed = true;
  }
}

let nextId = 0;
function listener(): Listener & { sink: RecordingSink } {
  return {
    id: ++nextId,
    sink: new RecordingSink(),
    httpVersion: 1,
    writeCost: 1,
    ip: '127.0.0.1',
    userAgent: 'test',
    connectedAt: Date.now(),
    metaint: 0,
    untilMeta: 0,
    lastTitle: undefined,
    bytesSent: 0,
    mount: undefined,
    oggEpoch: undefined,
  };
}

async function mount(): Promise<{ m: Mount; push: (seq: number) => void }> {
  let fn: (c: EncodedChunk) => void = () => undefined;
  const m = await Mount.create({
    config: { mount: '/listen/t.mp3', codec: 'mp3', bitrate: 128_000, charset: 'utf-8' },
    stream: { key: 'mp3-128k', spec: { codec: 'mp3', bitrate: 128_000 }, subscribe: (f) => ((fn = f), () => undefined) },
    log,
    queueBytes: 1 << 20,
    burstSeconds: 0,
    onLeave: () => undefined,
    events: new TypedEmitter<ListenerEvents>(log),
  });
  // 17,640 samples a chunk: past 4,000 listeners a batch is 17,640 samples (400 ms), so each chunk is one entry.
  const push = (seq: number): void =>
    fn({
      data: Buffer.from([seq]),
      meta: { title: 't', tier: 'primary', seq: 0 },
      generation: 0,
      frames: 1,
      samples: 17_640,
      frameEnds: [1],
      oggHeader: false,
    });
  return { m, push };
}

describe('Mount fan-out slices', () => {
  it('writes a few listeners at once, in the same turn', async () => {
    const { m, push } = await mount();
    const ls = Array.from({ length: 10 }, () => listener());
    for (const l of ls) m.attach(l, undefined, false);
    push(1);
    expect(ls.every((l) => l.sink.got.join() === '1')).toBe(true);
  });

  it('cuts a pass over 4,200 listeners into slices, each listener getting every entry once and in order', async () => {
    const { m, push } = await mount();
    const ls = Array.from({ length: 4_200 }, () => listener());
    for (const l of ls) m.attach(l, undefined, false);
    push(1);
    push(2);
    // Nothing was written in the producing turn: the loop is free for arriving connections.
    expect(ls.filter((l) => l.sink.got.length > 0).length).toBe(0);
    await turn();
    const afterOne = ls.filter((l) => l.sink.got.length > 0).length;
    expect(afterOne).toBeGreaterThan(0);
    expect(afterOne).toBeLessThan(4_200);
    for (let i = 0; i < 40; i++) await turn();
    expect(ls.every((l) => l.sink.got.join() === '1,2')).toBe(true);
  });

  it('does not write a listener twice who arrives mid-pass, nor one who left', async () => {
    const { m, push } = await mount();
    const ls = Array.from({ length: 4_200 }, () => listener());
    for (const l of ls) m.attach(l, undefined, false);
    push(1);
    const leaver = ls[4_100] as Listener & { sink: RecordingSink };
    m.drop(leaver, 'closed');
    const late = listener();
    m.attach(late, undefined, false); // a listener moved here: no burst, so it starts with the next entry
    push(2);
    for (let i = 0; i < 40; i++) await turn();
    expect(leaver.sink.got).toEqual([]);
    expect(leaver.sink.destroyed).toBe(true);
    expect(late.sink.got).toEqual([2]);
    expect(ls.filter((l) => l !== leaver).every((l) => l.sink.got.join() === '1,2')).toBe(true);
  });

  it('drops a listener whose queue is past the bound when its turn comes', async () => {
    const { m, push } = await mount();
    const ls = Array.from({ length: 4_200 }, () => listener());
    for (const l of ls) m.attach(l, undefined, false);
    const slow = ls[3_000] as Listener & { sink: RecordingSink };
    slow.sink.writableLength = 2 << 20;
    push(1);
    for (let i = 0; i < 40; i++) await turn();
    expect(slow.sink.destroyed).toBe(true);
    expect(m.slowListeners).toBe(1);
    expect(m.listeners.has(slow)).toBe(false);
  });

  it('writes a backlog at once rather than let passes pile up without bound', async () => {
    const { m, push } = await mount();
    const ls = Array.from({ length: 4_200 }, () => listener());
    for (const l of ls) m.attach(l, undefined, false);
    for (let s = 1; s <= 10; s++) push(s);
    // Nine passes waiting is one past the bound: everything so far went out in the producing turn.
    expect(ls.every((l) => l.sink.got.join() === '1,2,3,4,5,6,7,8,9')).toBe(true);
    for (let i = 0; i < 40; i++) await turn();
    expect(ls.every((l) => l.sink.got.length === 10)).toBe(true);
  });
});
