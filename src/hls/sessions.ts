// HLS listener sessions: HLS has no connection per listener, so a session is a key (the `sid` query
// parameter, else address + user agent) seen within a time-to-live of two target durations. A session
// that starts or expires is reported, so HLS listeners appear in the listener events like mount listeners.

export interface HlsSession {
  readonly id: string;
  readonly remoteAddress: string;
  readonly userAgent: string;
  /** Wall-clock ms of the first request. */
  readonly startedAt: number;
  /** The path of the last tier playlist or media fetched (the master playlist until one is). */
  mount: string;
  bytes: number;
  /** Monotonic ms of the last request. */
  lastSeen: number;
}

export interface SessionSight {
  readonly remoteAddress: string;
  readonly userAgent: string;
  readonly mount: string;
  readonly bytes: number;
}

export interface SessionReports {
  onStart(s: HlsSession): void;
  onEnd(s: HlsSession, reason: 'expired' | 'shutdown'): void;
}

const NONE: SessionReports = { onStart: () => undefined, onEnd: () => undefined };

export class SessionCounter {
  readonly #seen = new Map<string, HlsSession>();
  readonly #ttlMs: number;
  readonly #maxKeys: number;
  readonly #reports: SessionReports;
  #started = 0;

  constructor(ttlMs: number, maxKeys = 200_000, reports: SessionReports = NONE) {
    this.#ttlMs = ttlMs;
    this.#maxKeys = maxKeys;
    this.#reports = reports;
  }

  touch(key: string, sight: SessionSight, now = performance.now()): void {
    let s = this.#seen.get(key);
    if (s !== undefined && now - s.lastSeen > this.#ttlMs) {
      // Back after its TTL: the old session ended when it went quiet; this is a new one.
      this.#end(key, s, 'expired');
      s = undefined;
    }
    if (s === undefined) {
      this.#started++;
      s = {
        id: `hls-${this.#started}`,
        remoteAddress: sight.remoteAddress,
        userAgent: sight.userAgent.slice(0, 256),
        startedAt: Date.now(),
        mount: sight.mount,
        bytes: 0,
        lastSeen: now,
      };
      this.#reports.onStart(s);
    }
    if (sight.mount !== '/hls/master.m3u8') s.mount = sight.mount;
    s.bytes += sight.bytes;
    s.lastSeen = now;
    // Re-insert so the Map stays ordered by last sight: pruning then stops at the first live key.
    this.#seen.delete(key);
    this.#seen.set(key, s);
    if (this.#seen.size > this.#maxKeys) this.prune(now, true);
  }

  /** Ends expired sessions; `force` also ends the oldest live ones when the map is over its bound. */
  prune(now = performance.now(), force = false): void {
    for (const [key, s] of this.#seen) {
      const over = force && this.#seen.size > this.#maxKeys;
      if (now - s.lastSeen <= this.#ttlMs && !over) break;
      this.#end(key, s, 'expired');
    }
  }

  active(now = performance.now()): number {
    this.prune(now);
    return this.#seen.size;
  }

  /** Sessions started since creation (a key returning after its TTL counts again). */
  get started(): number {
    return this.#started;
  }

  /** Ends every session (the server is stopping). */
  endAll(): void {
    for (const [key, s] of this.#seen) this.#end(key, s, 'shutdown');
  }

  #end(key: string, s: HlsSession, reason: 'expired' | 'shutdown'): void {
    this.#seen.delete(key);
    this.#reports.onEnd(s, reason);
  }
}
