import { describe, expect, it } from 'vitest';
import { Selector, type Availability } from '../../src/mixer/selector.js';

const up: Availability = { available: true };
const down = (reason: 'disconnected' | 'stalled' | 'silent' | 'connecting'): Availability => ({ available: false, reason });

describe('Selector', () => {
  it('starts on emergency and goes up to the primary only after the hold', () => {
    const s = new Selector(3000);
    expect(s.update(0, { primary: up, fallback: down('disconnected') })).toBeNull();
    expect(s.update(2999, { primary: up, fallback: down('disconnected') })).toBeNull();
    expect(s.update(3000, { primary: up, fallback: down('disconnected') })).toEqual({
      from: 'emergency',
      to: 'primary',
      reason: 'returned',
    });
  });

  it('switches down at once with the reason, to the best available tier', () => {
    const s = new Selector(0);
    s.update(0, { primary: up, fallback: up });
    expect(s.current).toBe('primary');
    expect(s.update(10, { primary: down('stalled'), fallback: up })).toEqual({ from: 'primary', to: 'fallback', reason: 'stalled' });
    expect(s.update(20, { primary: down('stalled'), fallback: down('silent') })).toEqual({
      from: 'fallback',
      to: 'emergency',
      reason: 'silent',
    });
  });

  it('a flapping primary never goes on air while it cannot stay up for the hold', () => {
    const s = new Selector(3000);
    s.update(0, { primary: down('disconnected'), fallback: up });
    s.update(3000, { primary: down('disconnected'), fallback: up });
    expect(s.current).toBe('fallback');
    let t = 3000;
    for (let i = 0; i < 10; i++) {
      t += 2000;
      expect(s.update(t, { primary: up, fallback: up })).toBeNull();
      t += 500;
      expect(s.update(t, { primary: down('disconnected'), fallback: up })).toBeNull();
    }
    expect(s.current).toBe('fallback');
  });

  it('hold 0 switches up immediately', () => {
    const s = new Selector(0);
    expect(s.update(0, { primary: down('disconnected'), fallback: up })?.to).toBe('fallback');
    expect(s.update(20, { primary: up, fallback: up })).toEqual({ from: 'fallback', to: 'primary', reason: 'returned' });
  });

  it('falling from fallback prefers a primary that has already served its hold', () => {
    const s = new Selector(1000);
    s.update(0, { primary: down('disconnected'), fallback: up });
    s.update(1000, { primary: down('disconnected'), fallback: up });
    expect(s.current).toBe('fallback');
    s.update(1100, { primary: up, fallback: up });
    expect(s.update(1500, { primary: up, fallback: down('disconnected') })).toEqual({
      from: 'fallback',
      to: 'emergency',
      reason: 'disconnected',
    });
    expect(s.update(2100, { primary: up, fallback: down('disconnected') })).toEqual({
      from: 'emergency',
      to: 'primary',
      reason: 'returned',
    });
  });

  describe('hold (maintenance)', () => {
    it('a hold on the fallback takes the primary off air at once, reason held', () => {
      const s = new Selector(0);
      s.update(0, { primary: up, fallback: up });
      expect(s.current).toBe('primary');
      s.setHold('fallback');
      expect(s.hold).toBe('fallback');
      expect(s.update(10, { primary: up, fallback: up })).toEqual({ from: 'primary', to: 'fallback', reason: 'held' });
      // The primary stays available but never comes back while held.
      expect(s.update(100_000, { primary: up, fallback: up })).toBeNull();
    });

    it('held on the fallback while the fallback is gone: the emergency tier, never the primary', () => {
      const s = new Selector(0);
      s.update(0, { primary: up, fallback: up });
      s.setHold('fallback');
      s.update(10, { primary: up, fallback: up });
      expect(s.update(20, { primary: up, fallback: down('disconnected') })).toEqual({
        from: 'fallback',
        to: 'emergency',
        reason: 'disconnected',
      });
      expect(s.update(5000, { primary: up, fallback: down('disconnected') })).toBeNull();
    });

    it('a hold on the emergency tier holds off both inputs', () => {
      const s = new Selector(0);
      s.update(0, { primary: up, fallback: up });
      s.setHold('emergency');
      expect(s.update(10, { primary: up, fallback: up })).toEqual({ from: 'primary', to: 'emergency', reason: 'held' });
      expect(s.update(20, { primary: up, fallback: up })).toBeNull();
    });

    it('a release returns at once to a tier that stayed available through the hold, reason released', () => {
      const s = new Selector(3000);
      s.update(0, { primary: up, fallback: up });
      s.update(3000, { primary: up, fallback: up });
      expect(s.current).toBe('primary');
      s.setHold('emergency');
      s.update(3010, { primary: up, fallback: up });
      s.setHold(null);
      expect(s.hold).toBeNull();
      expect(s.update(3020, { primary: up, fallback: up })).toEqual({ from: 'emergency', to: 'primary', reason: 'released' });
    });

    it('after a release an input that came back during the hold still serves its return hold', () => {
      const s = new Selector(3000);
      s.setHold('emergency');
      s.update(0, { primary: down('disconnected'), fallback: down('disconnected') });
      s.update(1000, { primary: up, fallback: down('disconnected') });
      s.setHold(null);
      expect(s.update(2000, { primary: up, fallback: down('disconnected') })).toBeNull();
      expect(s.update(4000, { primary: up, fallback: down('disconnected') })).toEqual({
        from: 'emergency',
        to: 'primary',
        reason: 'returned',
      });
    });

    it('easing a hold from emergency to fallback lets the fallback up, as a release', () => {
      const s = new Selector(0);
      s.setHold('emergency');
      s.update(0, { primary: up, fallback: up });
      expect(s.current).toBe('emergency');
      s.setHold('fallback');
      expect(s.update(10, { primary: up, fallback: up })).toEqual({ from: 'emergency', to: 'fallback', reason: 'released' });
    });
  });
});
