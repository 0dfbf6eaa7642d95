import { describe, expect, it } from 'vitest';
import type { AntennaEvents } from '../../src/types/events.js';
import { TypedEmitter } from '../../src/util/typed-emitter.js';

describe('TypedEmitter', () => {
  it('a listener that throws is logged and never stops the others or the emitter', () => {
    const logged: string[] = [];
    const log = { error: (o: { event: string }, msg: string) => logged.push(`${o.event}: ${msg}`) };
    const e = new TypedEmitter<AntennaEvents>(log as never);
    const heard: string[] = [];
    e.on('switch', () => {
      throw new Error('broken observer');
    });
    e.on('switch', (s) => heard.push(`${s.from}→${s.to}`));
    e.emit('switch', { from: 'primary', to: 'fallback', reason: 'stalled', at: 1 });
    e.emit('switch', { from: 'fallback', to: 'primary', reason: 'returned', at: 2 });
    expect(heard).toEqual(['primary→fallback', 'fallback→primary']);
    expect(logged).toEqual(['switch: event listener threw', 'switch: event listener threw']);
  });

  it('event maps are exact: an unknown name or a wrong payload does not compile', () => {
    const e = new TypedEmitter<AntennaEvents>();
    // @ts-expect-error a misspelt event name is a compile error
    e.on('swtich', () => undefined);
    // @ts-expect-error so is emitting one
    e.emit('swtich', {});
    // @ts-expect-error and a payload without its fields
    e.emit('switch', { from: 'primary' });
    expect(e.listenerCount('switch')).toBe(0);
  });
});
