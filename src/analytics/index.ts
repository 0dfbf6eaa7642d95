// The analytics and alerts observer: subscribes to `Antenna.events`, reads `snapshot()` for listener
// counts, and feeds three outbound sinks (PostHog, Pushover, webhooks) that never hold up the pipeline.
// It reports what it sent through `report` (typed `NotifierEvents`) and its own `snapshot()`.
import type { Logger } from 'pino';
import type { AntennaSnapshot, EventSource } from '../app.js';
import type { Config } from '../config/load.js';
import { splitUrls } from '../config/settings.js';
import type { AntennaEvents, NotifierEvents, SinkName, SinkOutcomeKind } from '../types/events.js';
import { AlertRules, type Alert, type AlertInput } from '../alerts/rules.js';
import { SinkQueue, type SinkOutcome } from '../alerts/sink-queue.js';
import { sendPushover, type PushoverLimit } from '../alerts/pushover.js';
import { sendWebhook, urlLabel, webhookBody } from '../alerts/webhook.js';
import { DailySalt, STREAM_EVENTS, listenerCapture, streamCaptures, type Capture, type StreamEvent } from './capture.js';
import { createPosthogSink, type PosthogSink, type PosthogSinkOptions } from './posthog.js';

export type Report = <K extends keyof NotifierEvents>(name: K, payload: NotifierEvents[K]) => void;

export interface AnalyticsOptions {
  readonly config: Config;
  /** The root logger; the observer binds `component: 'analytics'`. */
  readonly log: Logger;
  readonly events: EventSource<AntennaEvents>;
  readonly snapshot: () => AntennaSnapshot;
  /** Where the observer's own events go (the composition root emits them on `Antenna.events`). */
  readonly report: Report;
  /** Tests shorten the sinks' timings; production uses the defaults. */
  readonly timings?: {
    readonly posthog?: Pick<PosthogSinkOptions, 'flushIntervalMs' | 'flushAt' | 'retryDelayMs' | 'requestTimeoutMs'>;
    readonly alertMinRetryMs?: number;
    readonly alertTimeoutMs?: number;
    readonly tickMs?: number;
  };
}

export interface SinkCounter {
  readonly sink: SinkName;
  readonly target: string;
  readonly outcome: SinkOutcomeKind;
  /** Events (PostHog) or alerts (Pushover, webhooks). */
  readonly items: number;
}

export interface RecentSend {
  readonly at: number;
  readonly sink: SinkName;
  readonly target: string;
  readonly outcome: SinkOutcomeKind;
  readonly items: number;
  readonly detail: string;
  /** The alert's title (alert sinks). */
  readonly title?: string;
}

export interface AnalyticsSnapshot {
  readonly posthog: { readonly enabled: boolean; readonly host: string; readonly queued: number };
  readonly pushover: {
    readonly enabled: boolean;
    readonly waiting: number;
    readonly inFlight: number;
    readonly limit: PushoverLimit | undefined;
  };
  readonly webhooks: readonly { readonly target: string; readonly waiting: number; readonly inFlight: number }[];
  /** Totals per sink, target and outcome since start (for /metrics). */
  readonly counters: readonly SinkCounter[];
  readonly incidents: ReturnType<AlertRules['openIncidents']>;
  readonly alertsSuppressed: number;
  /** The last sends and failures, newest last (bounded). */
  readonly recent: readonly RecentSend[];
}

export interface Analytics {
  snapshot(): AnalyticsSnapshot;
  close(): Promise<void>;
}

const RECENT = 50;
/** Pushover's rules: no retry sooner than 5 s, at most two connections. */
const PUSHOVER_MIN_RETRY_MS = 5000;

/** Builds the sinks, then subscribes and starts its timers; resolves when it is listening. */
export function createAnalytics(opts: AnalyticsOptions): Promise<Analytics> {
  const observer = new AnalyticsObserver(opts);
  observer.start();
  return Promise.resolve(observer);
}

class AnalyticsObserver implements Analytics {
  readonly #o: AnalyticsOptions;
  readonly #cfg: Config;
  readonly #log: Logger;
  readonly #rules: AlertRules;
  readonly #salt = new DailySalt();
  readonly #posthog: PosthogSink | undefined;
  readonly #pushover: SinkQueue<Alert> | undefined;
  readonly #webhooks: { readonly target: string; readonly queue: SinkQueue<Alert> }[] = [];
  #limit: PushoverLimit | undefined;
  readonly #counters = new Map<string, SinkCounter>();
  readonly #recent: RecentSend[] = [];
  readonly #unsubscribe: (() => void)[] = [];
  readonly #timers: NodeJS.Timeout[] = [];
  #drainScheduled: NodeJS.Immediate | undefined;
  readonly #stationId: string;
  #closed: Promise<void> | undefined;

  constructor(o: AnalyticsOptions) {
    this.#o = o;
    this.#cfg = o.config;
    this.#log = o.log.child({ component: 'analytics' });
    this.#stationId = `station:${this.#cfg.stationName}`;
    const t = o.timings ?? {};
    const initial = o.snapshot().mixer.onAir;
    this.#rules = new AlertRules({
      stationName: this.#cfg.stationName,
      settleMs: this.#cfg.alertSettleSeconds * 1000,
      holdAlertMs: this.#cfg.alertHoldSeconds * 1000,
      perHour: this.#cfg.alertsPerHour,
      encoderLoopDeaths: 3,
      encoderLoopWindowMs: 5 * 60_000,
      initialTier: initial,
      now: Date.now(),
    });

    if (this.#cfg.posthogKey !== '') {
      this.#posthog = createPosthogSink({
        key: this.#cfg.posthogKey,
        host: this.#cfg.posthogHost,
        maxQueueSize: this.#cfg.posthogQueueSize,
        log: this.#log,
        onOutcome: (r) => this.#outcome('posthog', new URL(this.#cfg.posthogHost).origin, r.outcome, r.items, r.detail),
        ...t.posthog,
      });
    }
    const queueOpts = {
      maxItems: this.#cfg.sinkQueueSize,
      concurrency: 2,
      minRetryMs: t.alertMinRetryMs ?? PUSHOVER_MIN_RETRY_MS,
      maxRetryMs: 5 * 60_000,
      maxAttempts: 8,
      timeoutMs: t.alertTimeoutMs ?? 15_000,
    };
    if (this.#cfg.pushoverToken !== '' && this.#cfg.pushoverUser !== '') {
      const target = { api: this.#cfg.pushoverApi, token: this.#cfg.pushoverToken, user: this.#cfg.pushoverUser };
      const label = urlLabel(this.#cfg.pushoverApi);
      this.#pushover = new SinkQueue<Alert>({
        ...queueOpts,
        send: (a, signal) => sendPushover(target, a, signal, (l) => (this.#limit = l)),
        onOutcome: (r) => this.#alertOutcome('pushover', label, r),
      });
    }
    for (const url of splitUrls(this.#cfg.webhookUrls)) {
      const target = urlLabel(url);
      const secret = this.#cfg.webhookSecret;
      const station = this.#cfg.stationName;
      this.#webhooks.push({
        target,
        queue: new SinkQueue<Alert>({
          ...queueOpts,
          send: (a, signal) => sendWebhook(url, secret, webhookBody(station, a), signal),
          onOutcome: (r) => this.#alertOutcome('webhook', target, r),
        }),
      });
    }
  }

  /** Subscribes and starts the timers (the constructor only builds). */
  start(): void {
    this.#subscribe();
    if (this.#alertsOn) {
      this.#timers.push(
        setInterval(() => {
          this.#rules.tick(Date.now());
          this.#drain();
        }, this.#o.timings?.tickMs ?? 1000),
      );
    }
    if (this.#posthog) this.#timers.push(setInterval(() => this.#listenerCounts(), this.#cfg.posthogIntervalS * 1000));
    for (const timer of this.#timers) timer.unref();
    this.#log.info(
      {
        posthog: this.#posthog ? new URL(this.#cfg.posthogHost).origin : 'off',
        pushover: this.#pushover ? 'on' : 'off',
        webhooks: this.#webhooks.map((w) => w.target),
      },
      'analytics and alerts ready',
    );
  }

  #subscribe(): void {
    const CERT_ALERT_HOURS = 7 * 24;
    const ev = this.#o.events;
    const on = <K extends keyof AntennaEvents & string>(name: K, fn: (p: AntennaEvents[K]) => void): void => {
      this.#unsubscribe.push(ev.on(name, fn));
    };
    if (this.#posthog) {
      for (const name of STREAM_EVENTS)
        on(name, (payload) => this.#capture(streamCaptures(this.#stationId, { name, payload } as StreamEvent)));
      on('listener-disconnected', (p) => this.#capture([listenerCapture(this.#salt.listenerId(p.remoteAddress, p.userAgent, p.at), p)]));
    }
    if (!this.#alertsOn) return;
    const feed = (input: AlertInput, at: number): void => {
      this.#rules.feed(input, at);
      // Facts of one mixer frame (silence, then the switch it causes) arrive in one turn of the
      // event loop: drain once after it, so one cause gives one alert, within the same millisecond.
      this.#drainScheduled ??= setImmediate(() => {
        this.#drainScheduled = undefined;
        this.#drain();
      });
    };
    on('switch', (p) => feed({ type: 'switch', from: p.from, to: p.to, reason: p.reason }, p.at));
    on('source-disconnected', (p) => feed({ type: 'source-disconnected', inputId: p.inputId }, p.at));
    on('silence', (p) => feed({ type: 'silence', inputId: p.inputId }, p.at));
    on('sound', (p) => feed({ type: 'sound', inputId: p.inputId }, p.at));
    on('encoder-died', (p) => feed({ type: 'encoder-died', key: p.key, message: p.fault.message }, p.at));
    on('encoder-restarted', (p) => feed({ type: 'encoder-restarted', key: p.name }, p.at));
    // Certificates (src/tls): a failed renewal or one expiring within 7 days opens an incident per
    // certificate, a renewal (or a first issuance after failures) closes it.
    const cert = (domains: readonly string[]): string => domains.join(', ');
    on('certificate-failed', (p) =>
      feed({ type: 'certificate', status: 'failed', name: cert(p.domains), message: `${p.reason}: ${p.message}` }, p.at),
    );
    // TLS reports a certificate past its renewal time (a third of its life left); the alert is for the last week.
    on('certificate-expiring', (p) => {
      if (p.hoursLeft > CERT_ALERT_HOURS) return;
      feed(
        {
          type: 'certificate',
          status: 'expiring',
          name: cert(p.domains),
          message: `expires in ${Math.round(p.hoursLeft)} h with no successor`,
          expiresAt: p.notAfter,
        },
        p.at,
      );
    });
    for (const name of ['certificate-renewed', 'certificate-issued'] as const)
      on(name, (p) =>
        feed({ type: 'certificate', status: 'renewed', name: cert(p.domains), message: 'certificate in use', expiresAt: p.notAfter }, p.at),
      );
  }

  get #alertsOn(): boolean {
    return this.#pushover !== undefined || this.#webhooks.length > 0;
  }

  #capture(captures: readonly Capture[]): void {
    for (const c of captures) this.#posthog?.capture(c);
  }

  #listenerCounts(): void {
    const s = this.#o.snapshot();
    const props: Record<string, unknown> = { $process_person_profile: false, total: s.mounts.listeners + s.hls.sessions };
    props.icecast = s.mounts.listeners;
    // HLS sessions in total: a session's tier is known only when it ends (it may switch tiers), so
    // the tier is a property of the `listener session` event, not of the counts.
    props.hls = s.hls.sessions;
    for (const m of s.mounts.mounts) props[`mount ${m.mount}`] = m.listeners;
    this.#capture([{ event: 'listener count', distinctId: this.#stationId, properties: props, timestamp: new Date(s.at) }]);
  }

  #drain(): void {
    if (!this.#alertsOn) return;
    for (const a of this.#rules.drain(Date.now())) {
      this.#log.info({ incident: a.incident, phase: a.phase, title: a.title, count: a.count }, 'alert');
      this.#o.report('alert-raised', {
        at: a.at,
        incident: a.incident,
        kind: a.kind,
        phase: a.phase,
        title: a.title,
        message: a.message,
        priority: a.priority,
        count: a.count,
      });
      this.#pushover?.push(a);
      for (const w of this.#webhooks) w.queue.push(a);
    }
  }

  #alertOutcome(sink: SinkName, target: string, r: SinkOutcome<Alert>): void {
    this.#outcome(sink, target, r.outcome, 1, r.detail, r.item.title);
  }

  #outcome(sink: SinkName, target: string, outcome: SinkOutcomeKind, items: number, detail: string, title?: string): void {
    const key = `${sink}\0${target}\0${outcome}`;
    const c = this.#counters.get(key);
    this.#counters.set(key, { sink, target, outcome, items: (c?.items ?? 0) + items });
    const at = Date.now();
    this.#recent.push({ at, sink, target, outcome, items, detail, ...(title !== undefined ? { title } : {}) });
    if (this.#recent.length > RECENT) this.#recent.shift();
    const fields = { sink, target, outcome, items, detail, ...(title !== undefined ? { title } : {}) };
    if (outcome === 'failed' || outcome === 'dropped') this.#log.warn(fields, 'notification not delivered');
    else if (outcome === 'retrying') this.#log.info(fields, 'notification attempt failed; retrying');
    else this.#log.debug(fields, 'notification sent');
    this.#o.report('sink-outcome', { at, sink, target, outcome, items, detail });
  }

  snapshot(): AnalyticsSnapshot {
    return {
      posthog: { enabled: this.#posthog !== undefined, host: new URL(this.#cfg.posthogHost).origin, queued: this.#posthog?.queued ?? 0 },
      pushover: {
        enabled: this.#pushover !== undefined,
        waiting: this.#pushover?.waiting ?? 0,
        inFlight: this.#pushover?.inFlight ?? 0,
        limit: this.#limit,
      },
      webhooks: this.#webhooks.map((w) => ({ target: w.target, waiting: w.queue.waiting, inFlight: w.queue.inFlight })),
      counters: [...this.#counters.values()],
      incidents: this.#rules.openIncidents(),
      alertsSuppressed: this.#rules.suppressedTotal,
      recent: [...this.#recent],
    };
  }

  close(): Promise<void> {
    return (this.#closed ??= this.#close());
  }

  async #close(): Promise<void> {
    for (const t of this.#timers.splice(0)) clearInterval(t);
    if (this.#drainScheduled) clearImmediate(this.#drainScheduled);
    this.#drainScheduled = undefined;
    // Alerts decided in the last turn still go out.
    this.#drain();
    for (const off of this.#unsubscribe.splice(0)) off();
    const deadline = this.#cfg.sinkFlushSeconds * 1000;
    await Promise.all([
      this.#posthog?.close(deadline),
      this.#pushover?.close(deadline),
      ...this.#webhooks.map((w) => w.queue.close(deadline)),
    ]);
  }
}
