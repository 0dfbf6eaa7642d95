// Pure alert decisions: pipeline facts in (switches, disconnects, encoder deaths, certificates, time),
// alerts out (one when an incident opens, one when it ends). No I/O and no timers: the observer owns
// the clock and calls `tick(now)`; everything here is tested with plain numbers.
import type { InputId, SwitchReason, Tier } from '../types/contracts.js';

export type AlertKind = 'failover' | 'outage' | 'standby-silent' | 'encoder-loop' | 'certificate' | 'held';
export type AlertPhase = 'open' | 'close';
/** Pushover's scale: -1 quiet, 0 normal, 1 high (bypasses quiet hours). */
export type AlertPriority = -1 | 0 | 1;

export interface Alert {
  /** Stable key of the incident: `failover`, `outage`, `encoder-loop:<key>`, `certificate:<name>` … */
  readonly incident: string;
  readonly kind: AlertKind;
  readonly phase: AlertPhase;
  readonly title: string;
  readonly message: string;
  readonly priority: AlertPriority;
  /** Wall-clock ms. */
  readonly at: number;
  /** How many times the fault happened during the incident (flaps, restarts). */
  readonly count: number;
  /** On close: how long the incident lasted, ms. */
  readonly durationMs?: number;
  /** Alerts the rate limit held back since the last one that went out. */
  readonly suppressedBefore?: number;
}

/** What the rules take in: facts from `Antenna.events`, in their order. */
export type AlertInput =
  | { readonly type: 'switch'; readonly from: Tier; readonly to: Tier; readonly reason: SwitchReason }
  | { readonly type: 'source-disconnected'; readonly inputId: InputId }
  | { readonly type: 'silence' | 'sound'; readonly inputId: InputId }
  | { readonly type: 'encoder-died'; readonly key: string; readonly message: string }
  | { readonly type: 'encoder-restarted'; readonly key: string }
  /**
   * Certificate facts from src/tls's events: `failed` and `expiring` (within 7 days) open an incident
   * per certificate, `renewed` (a renewal, or a first issuance) closes it.
   */
  | {
      readonly type: 'certificate';
      readonly status: 'renewed' | 'failed' | 'expiring';
      readonly name: string;
      readonly message: string;
      readonly expiresAt?: number;
    };

export interface AlertRulesOptions {
  readonly stationName: string;
  /** An incident ends only after its cause has been gone this long without coming back (flaps fold in). */
  readonly settleMs: number;
  /** The programme below the primary tier this long opens a `held` incident. */
  readonly holdAlertMs: number;
  /** Alerts of normal and quiet priority allowed per hour (token bucket, burst = the same number / 4, at least 3). */
  readonly perHour: number;
  /** Encoder deaths within `encoderLoopWindowMs` that make a restart loop. */
  readonly encoderLoopDeaths: number;
  readonly encoderLoopWindowMs: number;
  /** Tier on air when the rules start, and the time. */
  readonly initialTier: Tier;
  readonly now: number;
}

interface Incident {
  readonly key: string;
  readonly kind: AlertKind;
  readonly openedAt: number;
  count: number;
  /** When the cause went away; the incident closes at `clearedAt + settleMs` unless it comes back. */
  clearedAt: number | undefined;
  detail: string;
}

const RANK: Record<Tier, number> = { primary: 0, fallback: 1, emergency: 2 };
const LABEL: Record<Tier, string> = { primary: 'primary', fallback: 'fallback', emergency: 'emergency audio' };
const CAP: Record<Tier, string> = { primary: 'Primary', fallback: 'Fallback', emergency: 'Emergency audio' };
const REASON: Record<SwitchReason, string> = {
  disconnected: 'disconnected',
  connecting: 'connecting',
  stalled: 'stalled (no audio)',
  silent: 'silent',
  returned: 'returned',
  startup: 'startup',
  held: 'held by the operator',
  released: 'released by the operator',
};

export class AlertRules {
  readonly #o: AlertRulesOptions;
  #tier: Tier;
  /** Since when the programme has been below the primary tier (undefined while the primary is on air). */
  #belowSince: number | undefined;
  /** The programme is below the primary because an operator holds it there. */
  #operatorHold = false;
  readonly #open = new Map<string, Incident>();
  readonly #deaths = new Map<string, number[]>();
  #pending: Alert[] = [];
  // Token bucket for the overall rate limit (high priority alerts are never held back).
  #tokens: number;
  #refilledAt: number;
  #suppressed = 0;
  #suppressedTotal = 0;

  constructor(opts: AlertRulesOptions) {
    this.#o = opts;
    this.#tier = opts.initialTier;
    this.#belowSince = opts.initialTier === 'primary' ? undefined : opts.now;
    this.#tokens = this.#burst;
    this.#refilledAt = opts.now;
  }

  get #burst(): number {
    return Math.max(3, Math.ceil(this.#o.perHour / 4));
  }

  /** Incidents open now (for the snapshot). */
  openIncidents(): { key: string; kind: AlertKind; openedAt: number; count: number; settling: boolean }[] {
    return [...this.#open.values()].map((i) => ({
      key: i.key,
      kind: i.kind,
      openedAt: i.openedAt,
      count: i.count,
      settling: i.clearedAt !== undefined,
    }));
  }

  get suppressedTotal(): number {
    return this.#suppressedTotal;
  }

  /** Feed one fact at wall-clock `now`. Alerts come out of `drain()`. */
  feed(input: AlertInput, now: number): void {
    switch (input.type) {
      case 'switch':
        return this.#onSwitch(input.from, input.to, input.reason, now);
      case 'source-disconnected':
        // A primary session that ends while the failover incident is open is one more flap, unless the
        // primary is on air (then the switch away from it counts it).
        if (input.inputId === 'primary' && this.#tier !== 'primary') this.#bump('failover');
        return;
      case 'silence':
        // The input on air going silent is the switch that follows in the same mixer frame: its
        // failover or outage alert says "silent". Only a silent standby feed is an incident of its own.
        if (this.#tier !== input.inputId) {
          this.#openOrBump('standby-silent:' + input.inputId, 'standby-silent', now, -1, {
            title: `${CAP[input.inputId]} feed silent on standby`,
            message: `The ${input.inputId} feed is connected but silent; it would not be used if needed.`,
          });
        }
        return;
      case 'sound':
        this.#clear('standby-silent:' + input.inputId, now);
        return;
      case 'encoder-died':
        return this.#onEncoderDied(input.key, input.message, now);
      case 'encoder-restarted':
        // A restart alone is routine; a loop ends when no death has come for the settle time (tick).
        return;
      case 'certificate':
        return this.#onCertificate(input, now);
    }
  }

  /** Advance time: settled incidents close, a long hold opens. */
  tick(now: number): void {
    const below = this.#belowSince;
    if (below !== undefined && now - below >= this.#o.holdAlertMs && !this.#open.has('held')) {
      const d = formatDuration(now - below);
      this.#openIncident('held', 'held', now, 0, {
        title: `Off the primary for ${d}`,
        message: `The programme has been below the primary tier for ${d}; the ${LABEL[this.#tier]} is on air${this.#operatorHold ? ', held there by an operator' : ''}.`,
      });
    }
    for (const [key, deaths] of this.#deaths) {
      const recent = deaths.filter((t) => now - t < this.#o.encoderLoopWindowMs);
      if (recent.length === 0) this.#deaths.delete(key);
      else this.#deaths.set(key, recent);
      // A looping encoder has settled once it has not died for the settle time.
      const last = recent.at(-1);
      const inc = this.#open.get('encoder-loop:' + key);
      if (inc && inc.clearedAt === undefined && (last === undefined || now - last >= this.#o.settleMs)) inc.clearedAt = last ?? now;
    }
    const closing: Incident[] = [];
    for (const inc of this.#open.values()) {
      if (inc.clearedAt !== undefined && now - inc.clearedAt >= this.#o.settleMs) closing.push(inc);
    }
    for (const inc of closing) this.#closeIncident(inc, now);
  }

  /**
   * The alerts decided since the last drain, merged where one cause produced two (the programme
   * falling from primary straight to the emergency audio is one outage alert, not failover + outage),
   * and passed through the rate limit.
   */
  drain(now: number): Alert[] {
    let out = this.#pending;
    this.#pending = [];
    out = mergeSameCause(out);
    const sent: Alert[] = [];
    this.#refill(now);
    for (const a of out) {
      if (a.priority < 1) {
        if (this.#tokens < 1) {
          this.#suppressed++;
          this.#suppressedTotal++;
          continue;
        }
        this.#tokens -= 1;
      }
      sent.push(this.#suppressed > 0 ? { ...a, suppressedBefore: this.#suppressed } : a);
      this.#suppressed = 0;
    }
    return sent;
  }

  #refill(now: number): void {
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#refilledAt) * this.#o.perHour) / 3_600_000);
    this.#refilledAt = now;
  }

  #onSwitch(from: Tier, to: Tier, reason: SwitchReason, now: number): void {
    this.#tier = to;
    if (to === 'primary') this.#belowSince = undefined;
    else this.#belowSince ??= now;
    const down = RANK[to] > RANK[from];
    const why = `${CAP[from]} ${REASON[reason]}`;
    if (reason === 'held') this.#operatorHold = true;
    if (reason === 'released' || to === 'primary') this.#operatorHold = false;
    // An operator's hold is a choice, not a fault: no failover or outage alert, only the hold alert
    // if it lasts (`holdAlertMs`), which says who chose it.
    if (down && reason === 'held') return;
    if (down) {
      if (from === 'primary') {
        this.#openOrBump('failover', 'failover', now, 0, {
          title: `Failover: ${LABEL[to]} on air`,
          message: `${why}; the ${LABEL[to]} is on air.`,
        });
      }
      if (to === 'emergency') {
        this.#openOrBump('outage', 'outage', now, 1, {
          title: 'Outage: emergency audio on air',
          message: `${why}; both studio feeds are gone and the emergency file is on air.`,
        });
      }
      // Falling further while settling means the cause came back.
      if (from === 'fallback') this.#unclear('failover');
    } else {
      if (from === 'emergency') this.#clear('outage', now);
      if (to === 'primary') {
        this.#clear('failover', now);
        this.#clear('held', now);
      }
    }
  }

  #onEncoderDied(key: string, message: string, now: number): void {
    const deaths = (this.#deaths.get(key) ?? []).filter((t) => now - t < this.#o.encoderLoopWindowMs);
    deaths.push(now);
    this.#deaths.set(key, deaths);
    const ik = 'encoder-loop:' + key;
    const inc = this.#open.get(ik);
    if (inc) {
      inc.count++;
      inc.clearedAt = undefined;
      inc.detail = message;
      return;
    }
    if (deaths.length >= this.#o.encoderLoopDeaths) {
      const mins = Math.round(this.#o.encoderLoopWindowMs / 60_000);
      this.#openIncident(ik, 'encoder-loop', now, 0, {
        title: `Encoder ${key} restarting in a loop`,
        message: `Encoder ${key} died ${deaths.length} times within ${mins} min. Last error: ${message}`,
        count: deaths.length,
      });
    }
  }

  #onCertificate(input: Extract<AlertInput, { type: 'certificate' }>, now: number): void {
    const key = 'certificate:' + input.name;
    if (input.status === 'renewed') {
      this.#clear(key, now);
      // A renewal needs no settling: close at once.
      const inc = this.#open.get(key);
      if (inc) this.#closeIncident(inc, now);
      return;
    }
    const title =
      input.status === 'failed'
        ? `Certificate renewal failed for ${input.name}`
        : `Certificate for ${input.name} expires ${input.expiresAt !== undefined ? 'on ' + new Date(input.expiresAt).toISOString().slice(0, 10) : 'soon'}`;
    this.#openOrBump(key, 'certificate', now, 0, { title, message: input.message });
  }

  #openOrBump(key: string, kind: AlertKind, now: number, priority: AlertPriority, text: { title: string; message: string }): void {
    const inc = this.#open.get(key);
    if (inc) {
      inc.count++;
      inc.clearedAt = undefined;
      return;
    }
    this.#openIncident(key, kind, now, priority, text);
  }

  #openIncident(
    key: string,
    kind: AlertKind,
    now: number,
    priority: AlertPriority,
    t: { title: string; message: string; count?: number },
  ): void {
    const inc: Incident = { key, kind, openedAt: now, count: t.count ?? 1, clearedAt: undefined, detail: t.message };
    this.#open.set(key, inc);
    this.#pending.push({
      incident: key,
      kind,
      phase: 'open',
      title: this.#titled(t.title),
      message: t.message,
      priority,
      at: now,
      count: inc.count,
    });
  }

  #bump(key: string): void {
    const inc = this.#open.get(key);
    if (inc) inc.count++;
  }

  #clear(key: string, now: number): void {
    const inc = this.#open.get(key);
    if (inc && inc.clearedAt === undefined) inc.clearedAt = now;
  }

  #unclear(key: string): void {
    const inc = this.#open.get(key);
    if (inc) inc.clearedAt = undefined;
  }

  #closeIncident(inc: Incident, now: number): void {
    this.#open.delete(inc.key);
    const durationMs = now - inc.openedAt;
    const times = inc.count > 1 ? ` It happened ${inc.count} times during the incident.` : '';
    const text = closeText(inc, this.#tier, durationMs);
    this.#pending.push({
      incident: inc.key,
      kind: inc.kind,
      phase: 'close',
      title: this.#titled(text.title),
      message: text.message + times,
      priority: inc.kind === 'standby-silent' ? -1 : 0,
      at: now,
      count: inc.count,
      durationMs,
    });
  }

  #titled(title: string): string {
    return `${this.#o.stationName}: ${title}`;
  }
}

function closeText(inc: Incident, tier: Tier, durationMs: number): { title: string; message: string } {
  const d = formatDuration(durationMs);
  switch (inc.kind) {
    case 'failover':
      return { title: 'Recovered: primary back on air', message: `The primary is back on air after ${d}.` };
    case 'outage':
      return {
        title: `Recovered: ${LABEL[tier]} on air`,
        message: `The emergency audio is off air after ${d}; the ${LABEL[tier]} is on air${tier === 'fallback' ? ' (the primary is still off air)' : ''}.`,
      };
    case 'standby-silent':
      return { title: `${inc.key.endsWith('primary') ? 'Primary' : 'Fallback'} feed sound restored`, message: `Sound is back after ${d}.` };
    case 'encoder-loop':
      return { title: `Encoder ${inc.key.slice('encoder-loop:'.length)} stable again`, message: `No restart for a while, after ${d}.` };
    case 'certificate':
      return { title: `Certificate ${inc.key.slice('certificate:'.length)} renewed`, message: `Renewed after ${d}.` };
    case 'held':
      return { title: 'Recovered: primary back on air', message: `The primary is back on air after ${d} on a lower tier.` };
  }
}

/** One cause, one alert: an outage that opens with a failover carries it, and so do their closes. */
function mergeSameCause(alerts: Alert[]): Alert[] {
  const find = (incident: string, phase: AlertPhase): Alert | undefined => alerts.find((a) => a.incident === incident && a.phase === phase);
  const drop = new Set<Alert>();
  for (const phase of ['open', 'close'] as const) {
    const outage = find('outage', phase);
    const failover = find('failover', phase);
    if (outage && failover) drop.add(failover);
    const held = find('held', 'close');
    if (phase === 'close' && held && (failover ?? outage)) drop.add(held);
  }
  return alerts.filter((a) => !drop.has(a));
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 90) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 90) return `${m} min`;
  return `${(m / 60).toFixed(1)} h`;
}
