// A real ingest on loopback port 0 for the ingest integration tests, with every event recorded and a
// `waitFor` that polls the record. Passwords are the ones in the captures ("hackme"), so captured
// client bytes can be replayed unchanged.
import { afterEach } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { SettingName } from '../../src/config/settings.js';
import { resolveFfmpegPath } from '../../src/ffmpeg/path.js';
import { createIngest, type Ingest } from '../../src/ingest/index.js';
import { createRootLogger } from '../../src/log.js';
import type { IngestEvents } from '../../src/types/contracts.js';

export const SOURCE_PASSWORD = 'hackme';
export const ADMIN_PASSWORD = 'adminpw';
export const FFMPEG = resolveFfmpegPath(undefined);

export interface Recorded {
  readonly ingest: Ingest;
  readonly events: { [K in keyof IngestEvents & string]?: IngestEvents[K][] };
  /** PCM bytes received per connection id. */
  readonly pcmBytes: Map<number, number>;
  all<K extends keyof IngestEvents & string>(event: K): IngestEvents[K][];
  waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export async function startIngest(overrides: Partial<Record<SettingName, unknown>> = {}): Promise<Recorded> {
  const config = loadConfig({
    env: {},
    overrides: {
      host: '127.0.0.1',
      primaryPort: 0,
      fallbackPort: 0,
      sourcePassword: SOURCE_PASSWORD,
      adminPassword: ADMIN_PASSWORD,
      ...overrides,
    },
  });
  // ANTENNA_TEST_LOG=info shows the ingest's own log lines while debugging a test.
  const log = createRootLogger((process.env.ANTENNA_TEST_LOG as 'info' | undefined) ?? 'silent');
  const ingest = await createIngest({
    config,
    secrets: { sourcePassword: SOURCE_PASSWORD, adminPassword: ADMIN_PASSWORD, relayPassword: 'relaypw' },
    log,
    ffmpegPath: FFMPEG,
  });
  const events: Recorded['events'] = {};
  const pcmBytes = new Map<number, number>();
  const record = <K extends keyof IngestEvents & string>(name: K): void => {
    ingest.events.on(name, (payload) => {
      if (name === 'pcm') {
        const p = payload as IngestEvents['pcm'];
        pcmBytes.set(p.connectionId, (pcmBytes.get(p.connectionId) ?? 0) + p.pcm.length);
        return;
      }
      ((events[name] ??= []) as IngestEvents[K][]).push(payload);
    });
  };
  for (const name of ['source-connected', 'source-disconnected', 'metadata', 'decoder-error', 'rejected', 'pcm'] as const) record(name);
  const rec: Recorded = {
    ingest,
    events,
    pcmBytes,
    all: (event) => (events[event] ?? []) as never,
    async waitFor(what, fn, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = fn();
        if (v !== undefined && v !== false) return v;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(summary(events))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => ingest.close(),
  };
  return rec;
}

function summary(events: Recorded['events']): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(events).map(([k, v]) => [
      k,
      (v ?? []).map((e) => JSON.stringify(e, (key, val: unknown) => (key === 'headers' ? undefined : val)).slice(0, 200)),
    ]),
  );
}

/** PCM bytes of one connection. */
export function pcmOf(rec: Recorded, connectionId: number): number {
  return rec.pcmBytes.get(connectionId) ?? 0;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Per-test teardown for the ingest tests: `ingest()` starts one (closed after the test), `track()`
 * registers a client to kill; everything goes in reverse order in afterEach.
 */
export function ingestFixture(): {
  ingest(overrides?: Partial<Record<SettingName, unknown>>): Promise<Recorded>;
  track<T extends { kill(): Promise<void> }>(h: T): T;
} {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
  return {
    async ingest(overrides = {}) {
      const rec = await startIngest(overrides);
      cleanups.push(() => rec.close());
      return rec;
    },
    track(h) {
      cleanups.push(() => h.kill());
      return h;
    },
  };
}
