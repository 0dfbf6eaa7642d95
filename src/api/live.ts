// The live feed (Server-Sent Events): input levels ten times a second, every timeline item as it
// happens, the on-air title, and listener counts each second. Each client is bounded: a client with
// more than MAX_PENDING bytes unsent is dropped and counted, never allowed to hold memory. The ticker
// runs only while someone listens, and close() ends every stream.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { AntennaSnapshot, EventSource } from '../app.js';
import type { AntennaEvents } from '../types/events.js';
import type { ApiTimeline } from './timeline.js';

const MAX_PENDING = 256 * 1024;
export const MAX_LIVE_CLIENTS = 64;
const LEVEL_MS = 100;
const HEARTBEAT_MS = 15_000;

interface Client {
  readonly res: ServerResponse;
  readonly socket: Socket;
}

export class LiveFeed {
  readonly #clients = new Set<Client>();
  readonly #snapshot: () => AntennaSnapshot;
  readonly #log: Logger;
  readonly #unsubscribe: (() => void)[] = [];
  #ticker: NodeJS.Timeout | undefined;
  #ticks = 0;
  #dropped = 0;

  constructor(opts: { snapshot: () => AntennaSnapshot; events: EventSource<AntennaEvents>; timeline: ApiTimeline; log: Logger }) {
    this.#snapshot = opts.snapshot;
    this.#log = opts.log;
    this.#unsubscribe.push(opts.timeline.onItem((item) => this.#broadcast('timeline', item)));
    const onMeta = (m: AntennaEvents['meta']): void => this.#broadcast('nowplaying', { title: m.title, tier: m.tier });
    opts.events.on('meta', onMeta);
    this.#unsubscribe.push(() => opts.events.off('meta', onMeta));
  }

  get clients(): number {
    return this.#clients.size;
  }

  get dropped(): number {
    return this.#dropped;
  }

  get full(): boolean {
    return this.#clients.size >= MAX_LIVE_CLIENTS;
  }

  /** Takes over a hijacked response: writes the SSE head and keeps it until the client leaves or lags. */
  add(res: ServerResponse, socket: Socket): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // HTTP/2 (the HTTPS port) forbids connection-specific fields.
      ...((res.req as { httpVersionMajor?: number } | undefined)?.httpVersionMajor === 2 ? {} : { connection: 'keep-alive' }),
      'x-accel-buffering': 'no',
    });
    const client: Client = { res, socket };
    this.#clients.add(client);
    const gone = (): void => {
      this.#clients.delete(client);
      if (this.#clients.size === 0) this.#stopTicker();
    };
    res.on('close', gone);
    socket.on('error', gone);
    res.write(`retry: 2000\n\n`);
    this.#send(client, frame('hello', this.#levels(this.#snapshot())));
    this.#startTicker();
  }

  close(): void {
    this.#stopTicker();
    for (const u of this.#unsubscribe.splice(0)) u();
    for (const c of this.#clients) c.res.destroy();
    this.#clients.clear();
  }

  #startTicker(): void {
    if (this.#ticker) return;
    this.#ticker = setInterval(() => this.#tick(), LEVEL_MS);
  }

  #stopTicker(): void {
    if (this.#ticker) clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  #tick(): void {
    const s = this.#snapshot();
    this.#broadcast('levels', this.#levels(s));
    if (++this.#ticks % Math.round(1000 / LEVEL_MS) === 0) {
      this.#broadcast('listeners', {
        at: s.at,
        total: s.mounts.listeners + s.hls.sessions,
        mounts: Object.fromEntries(s.mounts.mounts.map((m) => [m.mount, m.listeners])),
        hls: s.hls.sessions,
      });
    }
    if (this.#ticks % Math.round(HEARTBEAT_MS / LEVEL_MS) === 0) for (const c of this.#clients) this.#send(c, ': keep-alive\n\n');
  }

  #levels(s: AntennaSnapshot): object {
    const input = (id: 'primary' | 'fallback'): object => {
      const i = s.inputs[id];
      return {
        connected: i.source.state !== 'idle',
        levelDb: i.mixer.levelDb,
        peakDb: i.mixer.peakDb,
        silent: i.mixer.silent,
        available: i.mixer.available,
        bufferMs: i.mixer.buffer.depthMs,
      };
    };
    return {
      at: s.at,
      onAir: s.mixer.onAir,
      hold: s.mixer.hold,
      fading: s.mixer.fading,
      primary: input('primary'),
      fallback: input('fallback'),
    };
  }

  #broadcast(event: string, data: unknown): void {
    if (this.#clients.size === 0) return;
    const f = frame(event, data);
    for (const c of this.#clients) this.#send(c, f);
  }

  #send(c: Client, f: string): void {
    if (c.res.writableLength > MAX_PENDING) {
      this.#dropped++;
      this.#clients.delete(c);
      this.#log.info({ pendingBytes: c.res.writableLength }, 'live feed client too slow: dropped');
      c.res.destroy();
      return;
    }
    c.res.write(f);
  }
}

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
