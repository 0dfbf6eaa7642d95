// The status API's timeline: pipeline events from Antenna.events (switches with reasons, sources,
// silence and sound, alerts, encoder restarts) and the API's own actions (uploads, kicks, titles, holds) with who did them,
// in one bounded ring (oldest dropped first, strings cut), numbered so clients can ask for what is new.
import type { EventSource } from '../app.js';
import type { AntennaEvents } from '../types/events.js';

export type Detail = Readonly<Record<string, string | number | boolean | null>>;

export interface TimelineItem {
  readonly seq: number;
  readonly at: number;
  readonly type: string;
  readonly detail: Detail;
  /** Who did it (an API action): the Appwrite e-mail or id, or "admin". */
  readonly by?: string;
}

const MAX_STRING = 256;

export class ApiTimeline {
  readonly #items: TimelineItem[] = [];
  readonly #size: number;
  readonly #listeners = new Set<(item: TimelineItem) => void>();
  #seq = 0;

  constructor(size: number) {
    this.#size = size;
  }

  /** Subscribes to the pipeline events worth a line; returns the unsubscribe. */
  observe(events: EventSource<AntennaEvents>): () => void {
    const subs: (() => void)[] = [];
    const on = <K extends keyof AntennaEvents & string>(name: K, detail: (p: AntennaEvents[K]) => Record<string, unknown>): void => {
      const fn = (p: AntennaEvents[K]): void => {
        this.add(name, detail(p), undefined, (p as { at?: number }).at ?? Date.now());
      };
      events.on(name, fn);
      subs.push(() => events.off(name, fn));
    };
    on('switch', (p) => ({ from: p.from, to: p.to, reason: p.reason }));
    on('source-connected', (p) => ({
      inputId: p.inputId,
      address: p.info.remoteAddress,
      userAgent: p.info.userAgent,
      format: p.info.format,
      protocol: p.info.protocol,
    }));
    on('source-disconnected', (p) => ({ inputId: p.inputId, address: p.info.remoteAddress, reason: p.reason }));
    on('source-rejected', (p) => ({ port: p.port, address: p.remoteAddress, code: p.code, message: p.message }));
    on('decoder-error', (p) => ({ inputId: p.inputId, code: p.fault.code, message: p.fault.message }));
    on('metadata', (p) => ({ inputId: p.inputId, title: p.title }));
    on('silence', (p) => ({ inputId: p.inputId }));
    on('sound', (p) => ({ inputId: p.inputId }));
    on('alert', (p) => ({ code: p.code, message: p.message, cleared: p.cleared }));
    on('encoder-died', (p) => ({ encoder: p.key, code: p.fault.code, message: p.fault.message }));
    on('encoder-stalled', (p) => ({ encoder: p.key, queuedBytes: p.queuedBytes }));
    on('encoder-restarted', (p) => ({ encoder: p.name, restarts: p.restarts, downMs: p.downMs }));
    on('encoder-restart-failed', (p) => ({ encoder: p.name, message: p.message }));
    on('hls-discontinuity', (p) => ({ reason: p.reason }));
    on('alert-raised', (p) => ({ incident: p.incident, phase: p.phase, title: p.title, priority: p.priority, count: p.count }));
    on('sink-outcome', (p) => ({ sink: p.sink, target: p.target, outcome: p.outcome, items: p.items, detail: p.detail }));
    on('server-started', () => ({}));
    on('server-stopping', () => ({}));
    return () => subs.forEach((u) => u());
  }

  add(type: string, detail: Record<string, unknown>, by?: string, at = Date.now()): TimelineItem {
    const clean: Record<string, string | number | boolean | null> = {};
    for (const [k, v] of Object.entries(detail)) {
      if (v === undefined) continue;
      if (typeof v === 'string') clean[k] = v.length > MAX_STRING ? v.slice(0, MAX_STRING) + '…' : v;
      else if (typeof v === 'number' || typeof v === 'boolean' || v === null) clean[k] = v;
      else clean[k] = String(v).slice(0, MAX_STRING);
    }
    const item: TimelineItem = Object.freeze({ seq: ++this.#seq, at, type, detail: Object.freeze(clean), ...(by ? { by } : {}) });
    this.#items.push(item);
    if (this.#items.length > this.#size) this.#items.shift();
    for (const fn of this.#listeners) fn(item);
    return item;
  }

  /** Items after `since` (a timestamp in ms), oldest first; at most `limit` of the newest. */
  list(since = 0, limit = this.#size): readonly TimelineItem[] {
    const out = this.#items.filter((i) => i.at > since);
    return out.slice(Math.max(0, out.length - limit));
  }

  /** Called for every new item (the live feed). */
  onItem(fn: (item: TimelineItem) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }
}
