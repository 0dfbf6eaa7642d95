// The alert rules with plain numbers: incidents open and close once, flaps fold into a count, one
// cause gives one alert, the rate limit holds back normal alerts but never an outage.
import { describe, expect, it } from 'vitest';
import { AlertRules, type AlertInput, type AlertRulesOptions } from '../../src/alerts/rules.js';

const S = 1000;
const T0 = 1_700_000_000_000;

function rules(over: Partial<AlertRulesOptions> = {}): AlertRules {
  return new AlertRules({
    stationName: 'Radio Test',
    settleMs: 60 * S,
    holdAlertMs: 3600 * S,
    perHour: 20,
    encoderLoopDeaths: 3,
    encoderLoopWindowMs: 300 * S,
    initialTier: 'primary',
    now: T0,
    ...over,
  });
}

const sw = (from: 'primary' | 'fallback' | 'emergency', to: 'primary' | 'fallback' | 'emergency', reason = 'disconnected'): AlertInput =>
  ({ type: 'switch', from, to, reason }) as AlertInput;

/** Feeds inputs at times (ms after T0), ticking every second up to `until`, and returns every alert. */
function run(r: AlertRules, script: [number, AlertInput][], until: number) {
  const out = [];
  let i = 0;
  for (let t = 0; t <= until; t += 100) {
    while (i < script.length && (script[i] as [number, AlertInput])[0] <= t) {
      const [at, input] = script[i++] as [number, AlertInput];
      r.feed(input, T0 + at);
    }
    if (t % 1000 === 0) r.tick(T0 + t);
    out.push(...r.drain(T0 + t));
  }
  return out;
}

describe('alert rules', () => {
  it('failover opens at once and recovers after the primary has stayed back for the settle time', () => {
    const r = rules();
    const a = run(
      r,
      [
        [1000, sw('primary', 'fallback')],
        [30_000, sw('fallback', 'primary', 'returned')],
      ],
      200_000,
    );
    expect(a.map((x) => [x.incident, x.phase, x.at - T0])).toEqual([
      ['failover', 'open', 1000],
      ['failover', 'close', 90_000],
    ]);
    expect(a[0]?.title).toBe('Radio Test: Failover: fallback on air');
    expect(a[0]?.message).toContain('Primary disconnected');
    expect(a[1]?.message).toContain('after');
    expect(a[1]?.durationMs).toBe(89_000);
  });

  it('a primary flapping ten times in a minute gives one failover alert and one recovery with the count', () => {
    const r = rules();
    const script: [number, AlertInput][] = [];
    for (let k = 0; k < 10; k++) {
      const t = k * 6000;
      // Half of the flaps reach the air (past the mixer's hold), half end while the primary waits.
      if (k % 2 === 0) {
        script.push([t, sw('primary', 'fallback')]);
        script.push([t + 3000, sw('fallback', 'primary', 'returned')]);
      } else {
        script.push([t, { type: 'source-disconnected', inputId: 'primary' }]);
        script.push([t + 500, sw('primary', 'fallback')]);
        script.push([t + 3000, sw('fallback', 'primary', 'returned')]);
      }
    }
    const a = run(r, script, 300_000);
    expect(a.map((x) => [x.incident, x.phase])).toEqual([
      ['failover', 'open'],
      ['failover', 'close'],
    ]);
    expect(a[1]?.count).toBe(10);
    expect(a[1]?.message).toContain('10 times');
  });

  it('primary sessions that end while the fallback is on air count as flaps', () => {
    const r = rules();
    const a = run(
      r,
      [
        [0, sw('primary', 'fallback')],
        [5000, { type: 'source-disconnected', inputId: 'primary' }],
        [9000, { type: 'source-disconnected', inputId: 'primary' }],
        [20_000, sw('fallback', 'primary', 'returned')],
      ],
      100_000,
    );
    expect(a.at(-1)).toMatchObject({ incident: 'failover', phase: 'close', count: 3 });
  });

  it('primary, then fallback lost, then both back: failover, outage (high priority), and a recovery for each', () => {
    const r = rules({ settleMs: 2000 });
    const a = run(
      r,
      [
        [1000, sw('primary', 'fallback')],
        [5000, sw('fallback', 'emergency')],
        [10_000, sw('emergency', 'fallback', 'returned')],
        [20_000, sw('fallback', 'primary', 'returned')],
      ],
      30_000,
    );
    expect(a.map((x) => [x.incident, x.phase, x.priority, x.at - T0])).toEqual([
      ['failover', 'open', 0, 1000],
      ['outage', 'open', 1, 5000],
      ['outage', 'close', 0, 12_000],
      ['failover', 'close', 0, 22_000],
    ]);
    expect(a[2]?.message).toContain('primary is still off air');
  });

  it('falling from primary straight to the emergency audio is one outage alert, and one recovery', () => {
    const r = rules({ settleMs: 2000 });
    const a = run(
      r,
      [
        [1000, sw('primary', 'emergency')],
        [10_000, sw('emergency', 'primary', 'returned')],
      ],
      20_000,
    );
    expect(a.map((x) => [x.incident, x.phase])).toEqual([
      ['outage', 'open'],
      ['outage', 'close'],
    ]);
  });

  it('a silent primary on air: the failover alert says so', () => {
    const r = rules();
    r.feed({ type: 'silence', inputId: 'primary' }, T0);
    r.feed(sw('primary', 'fallback', 'silent'), T0);
    const a = r.drain(T0);
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({ incident: 'failover', phase: 'open' });
    expect(a[0]?.message).toContain('Primary silent');
  });

  it('a silent feed on standby is a quiet alert, closed when sound returns', () => {
    const r = rules({ settleMs: 0 });
    r.feed({ type: 'silence', inputId: 'fallback' }, T0);
    expect(r.drain(T0)).toMatchObject([{ incident: 'standby-silent:fallback', phase: 'open', priority: -1 }]);
    r.feed({ type: 'sound', inputId: 'fallback' }, T0 + 5000);
    r.tick(T0 + 5000);
    expect(r.drain(T0 + 5000)).toMatchObject([{ incident: 'standby-silent:fallback', phase: 'close', priority: -1 }]);
  });

  it('the programme held below the primary for longer than the hold setting raises one alert, closed when the primary returns', () => {
    const r = rules({ holdAlertMs: 3600 * S, settleMs: 0 });
    r.feed(sw('primary', 'fallback'), T0);
    r.drain(T0);
    r.tick(T0 + 3599 * S);
    expect(r.drain(T0 + 3599 * S)).toEqual([]);
    r.tick(T0 + 3600 * S);
    expect(r.drain(T0 + 3600 * S)).toMatchObject([{ incident: 'held', phase: 'open', title: 'Radio Test: Off the primary for 60 min' }]);
    r.tick(T0 + 7200 * S);
    expect(r.drain(T0 + 7200 * S)).toEqual([]);
    r.feed(sw('fallback', 'primary', 'returned'), T0 + 7300 * S);
    r.tick(T0 + 7300 * S);
    // One recovery: the failover's, which the hold's close folds into.
    expect(r.drain(T0 + 7300 * S).map((x) => [x.incident, x.phase])).toEqual([['failover', 'close']]);
  });

  it('an operator hold is no failover; held past the hold setting it raises the hold alert, saying so; release closes it', () => {
    const r = rules({ holdAlertMs: 3600 * S, settleMs: 0 });
    r.feed(sw('primary', 'fallback', 'held'), T0);
    expect(r.drain(T0)).toEqual([]);
    r.tick(T0 + 3600 * S);
    const held = r.drain(T0 + 3600 * S);
    expect(held).toMatchObject([{ incident: 'held', phase: 'open' }]);
    expect(held[0]?.message).toContain('held there by an operator');
    r.feed(sw('fallback', 'primary', 'released'), T0 + 3700 * S);
    r.tick(T0 + 3700 * S);
    expect(r.drain(T0 + 3700 * S)).toMatchObject([{ incident: 'held', phase: 'close' }]);
  });

  it('the held fallback failing during an operator hold is an outage all the same', () => {
    const r = rules();
    r.feed(sw('primary', 'fallback', 'held'), T0);
    r.feed(sw('fallback', 'emergency', 'disconnected'), T0 + 1000);
    expect(r.drain(T0 + 1000)).toMatchObject([{ incident: 'outage', phase: 'open', priority: 1 }]);
  });

  it('an encoder restarting in a loop: one alert at the third death, closed when it has been stable for the settle time', () => {
    const r = rules({ settleMs: 60 * S });
    const die = (t: number): void => r.feed({ type: 'encoder-died', key: 'mp3-320k', message: 'ffmpeg exited with code 1' }, T0 + t);
    die(0);
    die(1000);
    expect(r.drain(T0 + 1000)).toEqual([]);
    die(3000);
    const opened = r.drain(T0 + 3000);
    expect(opened).toMatchObject([{ incident: 'encoder-loop:mp3-320k', phase: 'open', count: 3 }]);
    expect(opened[0]?.message).toContain('ffmpeg exited with code 1');
    die(7000);
    r.tick(T0 + 60 * S);
    expect(r.drain(T0 + 60 * S)).toEqual([]);
    r.tick(T0 + 67 * S);
    r.tick(T0 + 127 * S);
    expect(r.drain(T0 + 127 * S)).toMatchObject([{ incident: 'encoder-loop:mp3-320k', phase: 'close', count: 4 }]);
  });

  it('certificate facts (for the TLS observer): a failed renewal opens, a renewal closes at once', () => {
    const r = rules();
    r.feed({ type: 'certificate', status: 'failed', name: 'radio.example', message: 'rateLimited' }, T0);
    r.feed({ type: 'certificate', status: 'failed', name: 'radio.example', message: 'rateLimited' }, T0 + 1000);
    expect(r.drain(T0 + 1000)).toMatchObject([{ incident: 'certificate:radio.example', phase: 'open' }]);
    r.feed({ type: 'certificate', status: 'renewed', name: 'radio.example', message: 'ok' }, T0 + 5000);
    expect(r.drain(T0 + 5000)).toMatchObject([{ incident: 'certificate:radio.example', phase: 'close', count: 2 }]);
  });

  it('rate limit: normal alerts past the bucket are held back and counted on the next one; outages always go out', () => {
    const r = rules({ perHour: 4, settleMs: 0 }); // burst 3
    for (let i = 0; i < 6; i++) r.feed({ type: 'certificate', status: 'failed', name: `c${i}`, message: 'x' }, T0);
    expect(r.drain(T0)).toHaveLength(3);
    r.feed(sw('primary', 'emergency'), T0 + 1);
    expect(r.drain(T0 + 1)).toMatchObject([{ incident: 'outage', priority: 1, suppressedBefore: 3 }]);
    expect(r.suppressedTotal).toBe(3);
    // 4 an hour: one token back after 15 minutes.
    r.feed({ type: 'certificate', status: 'failed', name: 'late', message: 'x' }, T0 + 15 * 60 * S);
    expect(r.drain(T0 + 15 * 60 * S)).toHaveLength(1);
  });

  it('a station starting on the emergency audio raises no outage (nothing was lost)', () => {
    const r = rules({ initialTier: 'emergency', holdAlertMs: 3600 * S });
    r.feed(sw('emergency', 'primary', 'returned'), T0 + 5000);
    r.tick(T0 + 100_000);
    expect(r.drain(T0 + 100_000)).toEqual([]);
  });
});
