// Starts the real Antenna in-process on loopback with ephemeral ports, a temp data dir and test-sized
// timings, and records the mixer's programme with the monotonic time each chunk was made.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach } from 'vitest';
import { createAntenna, type Antenna } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import type { SettingName } from '../../src/config/settings.js';
import { resolveFfmpegPath } from '../../src/ffmpeg/path.js';
import { createRootLogger } from '../../src/log.js';
import type { ProgrammeChunk } from '../../src/types/contracts.js';
import { startSourceClient, type ProcessHandle } from './source-client.js';

export const SOURCE_PASSWORD = 'test-source-pw';
export const ADMIN_PASSWORD = 'test-admin-pw';
export const FFMPEG = resolveFfmpegPath(process.env.FFMPEG_PATH);

export interface TestAntenna {
  readonly antenna: Antenna;
  readonly dir: string;
  readonly recorded: { readonly at: number; readonly chunk: ProgrammeChunk }[];
  /** Programme PCM recorded between two monotonic times (performance.now()). */
  pcmBetween(fromMs: number, toMs?: number): Buffer;
  stop(): Promise<void>;
}

/** A looping tone file for the emergency tier, made with the real ffmpeg. */
export function makeToneFile(dir: string, freq: number, seconds = 4): string {
  const path = join(dir, `tone-${freq}.mp3`);
  const r = spawnSync(FFMPEG, [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=${freq}:sample_rate=44100:duration=${seconds}`,
    '-ac',
    '2',
    '-c:a',
    'libmp3lame',
    '-b:a',
    '128k',
    '-y',
    path,
  ]);
  if (r.status !== 0) throw new Error(`ffmpeg could not make ${path}: ${r.stderr.toString()}`);
  return path;
}

export interface StartOptions {
  readonly emergencyTone?: number;
  readonly record?: boolean;
  /** Where the log lines go (default stdout); set `logLevel` in the overrides to see them. */
  readonly logTo?: NodeJS.WritableStream;
}

export async function startAntenna(overrides: Partial<Record<SettingName, unknown>> = {}, opts: StartOptions = {}): Promise<TestAntenna> {
  const dir = mkdtempSync(join(tmpdir(), 'antenna-test-'));
  const emergencyFile = opts.emergencyTone ? makeToneFile(dir, opts.emergencyTone) : undefined;
  const config = loadConfig({
    env: {},
    overrides: {
      primaryPort: 0,
      fallbackPort: 0,
      primaryShoutcastPort: 0,
      fallbackShoutcastPort: 0,
      httpPort: 0,
      host: '127.0.0.1',
      dataDir: join(dir, 'data'),
      logLevel: process.env.ANTENNA_TEST_LOG ?? 'silent',
      ...(emergencyFile ? { emergencyFile } : {}),
      ...overrides,
    },
  });
  const log = createRootLogger(config.logLevel, opts.logTo);
  const antenna = await createAntenna({
    config,
    secrets: { sourcePassword: SOURCE_PASSWORD, adminPassword: ADMIN_PASSWORD, relayPassword: ADMIN_PASSWORD },
    log,
  });
  const recorded: { at: number; chunk: ProgrammeChunk }[] = [];
  if (opts.record !== false) antenna.mixer.subscribe((chunk) => recorded.push({ at: performance.now(), chunk }));
  return {
    antenna,
    dir,
    recorded,
    pcmBetween(fromMs, toMs = Infinity) {
      return Buffer.concat(recorded.filter((r) => r.at >= fromMs && r.at < toMs).map((r) => r.chunk.pcm));
    },
    async stop() {
      await antenna.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Stoppable = { kill(): Promise<void> } | { close(): Promise<void> };

export interface AntennaFixture {
  /** The running server of the current test (throws before start()). */
  readonly t: TestAntenna;
  start(overrides?: Partial<Record<SettingName, unknown>>, opts?: StartOptions): Promise<TestAntenna>;
  /** A real ffmpeg tone source on an input's port, stopped after the test. */
  source(input: 'primary' | 'fallback', opts: { frequency: number; lavfi?: string; port?: number }): ProcessHandle;
  /** Anything else to kill after the test (listeners, proxies). */
  track<T extends Stoppable>(x: T): T;
}

/** One server per test with its clients, all torn down in afterEach, whatever the test did. */
export function antennaFixture(): AntennaFixture {
  let current: TestAntenna | undefined;
  const owned: Stoppable[] = [];
  afterEach(async () => {
    await Promise.all(owned.splice(0).map((c) => ('kill' in c ? c.kill() : c.close())));
    await current?.stop();
    current = undefined;
  });
  const fixture: AntennaFixture = {
    get t(): TestAntenna {
      if (!current) throw new Error('antenna not started');
      return current;
    },
    async start(overrides = {}, opts = {}) {
      current = await startAntenna(overrides, opts);
      return current;
    },
    source(input, opts) {
      const port = opts.port ?? (input === 'primary' ? fixture.t.antenna.ports.primary : fixture.t.antenna.ports.fallback);
      return fixture.track(
        startSourceClient({ port, password: SOURCE_PASSWORD, frequency: opts.frequency, ...(opts.lavfi ? { lavfi: opts.lavfi } : {}) }),
      );
    },
    track(x) {
      owned.push(x);
      return x;
    },
  };
  return fixture;
}
