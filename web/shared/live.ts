// The live feed (/api/live, Server-Sent Events) read over fetch, since EventSource cannot send an
// Authorization header. It reconnects by itself with a capped backoff after a server restart or a
// network drop and reports each change of state, so the page can say it is offline.
import type { AuthHeader } from './api.js';

export type LiveState = 'connecting' | 'open' | 'offline' | 'unauthorized';

export interface LiveHandlers {
  onEvent(name: string, data: unknown): void;
  onState(state: LiveState, detail?: string): void;
}

export interface LiveConnection {
  close(): void;
}

export function openLive(auth: AuthHeader, h: LiveHandlers, path = '/api/live'): LiveConnection {
  let closed = false;
  let attempt = 0;
  let abort: AbortController | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // A feed that stops talking (a dropped network keeps no socket error) counts as gone: levels come
  // ten times a second, so 5 s of nothing is certain.
  let watchdog: ReturnType<typeof setTimeout> | undefined;

  const retry = (state: LiveState, detail?: string): void => {
    if (closed) return;
    h.onState(state, detail);
    const delay = Math.min(5000, 500 * 2 ** attempt++);
    timer = setTimeout(() => void connect(), delay);
  };

  async function connect(): Promise<void> {
    if (closed) return;
    h.onState('connecting');
    abort = new AbortController();
    const kick = (): void => {
      if (watchdog) clearTimeout(watchdog);
      watchdog = setTimeout(() => abort?.abort(), 5000);
    };
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      let a: string | null;
      try {
        a = await auth();
      } catch (err) {
        // No credentials can be had (an expired sign-in): the page decides, not a reconnect loop.
        return retry('unauthorized', err instanceof Error ? err.message : String(err));
      }
      if (a) headers.authorization = a;
      kick();
      const res = await fetch(path, { headers, signal: abort.signal, cache: 'no-store' });
      if (res.status === 401 || res.status === 403) {
        if (watchdog) clearTimeout(watchdog);
        return retry('unauthorized', `the server refused the credentials (${res.status})`);
      }
      if (!res.ok || !res.body) return retry('offline', `the live feed answered ${res.status}`);
      attempt = 0;
      h.onState('open');
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        kick();
        buf += value;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let name = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) name = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
          }
          if (data.length === 0) continue;
          try {
            h.onEvent(name, JSON.parse(data.join('\n')) as unknown);
          } catch (err) {
            console.warn('live feed: unreadable event', name, err);
          }
        }
      }
      if (watchdog) clearTimeout(watchdog);
      retry('offline', 'the server closed the live feed');
    } catch (err) {
      if (watchdog) clearTimeout(watchdog);
      if (closed) return;
      retry('offline', err instanceof Error ? err.message : String(err));
    }
  }

  void connect();
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      if (watchdog) clearTimeout(watchdog);
      abort?.abort();
    },
  };
}
