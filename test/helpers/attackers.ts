// Hostile clients for the hardening tests: idle sockets that connect and never send a request, from
// several loopback addresses (127.0.0.2 …), opened in bounded batches. Loopback only.
import net from 'node:net';

export interface IdleFlood {
  /** Sockets opened (some may have been closed by the server since). */
  readonly opened: number;
  /** Sockets the server has closed so far. */
  closedByServer(): number;
  /** Sockets still open. */
  open(): number;
  close(): Promise<void>;
}

/**
 * Opens `perAddress` idle connections to `port` from each of `addresses`, `batch` at a time (each
 * batch waits for its connects or errors, so the listen backlog is never the bottleneck).
 */
export async function idleFlood(port: number, addresses: readonly string[], perAddress: number, batch = 100): Promise<IdleFlood> {
  const sockets: net.Socket[] = [];
  let closedByServer = 0;
  let closing = false;
  const one = (localAddress: string): Promise<void> =>
    new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port, localAddress });
      sockets.push(s);
      s.on('error', () => resolve());
      s.once('connect', () => resolve());
      s.once('close', () => {
        if (!closing) closedByServer++;
        resolve();
      });
      s.on('data', () => undefined);
    });
  const jobs: string[] = [];
  for (let i = 0; i < perAddress; i++) jobs.push(...addresses);
  for (let i = 0; i < jobs.length; i += batch) await Promise.all(jobs.slice(i, i + batch).map(one));
  return {
    opened: jobs.length,
    closedByServer: () => closedByServer,
    open: () => sockets.filter((s) => !s.destroyed).length,
    close: async () => {
      closing = true;
      for (const s of sockets) s.destroy();
      await new Promise((r) => setImmediate(r));
    },
  };
}

export const ATTACKERS = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'] as const;
