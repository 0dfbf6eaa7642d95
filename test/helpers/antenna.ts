// Starts the real Antenna in-process on loopback with ephemeral ports, a temp data dir and test-sized
// timings, and records the mixer's programme with the monotonic time each chunk was made.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createAntenna, type Antenna } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import type { SettingName } from '../../src/config/settings.js';
import { resolveFfmpegPath } from '../../src/ffmpeg/path.js';
import { createRootLogger } from '../../src/log.js';
import type { ProgrammeChunk } from '../../src/types/contracts.js';

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
  const r = spawnSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `sine=frequency=${freq}:sample_rate=44100:duration=${seconds}`, '-ac', '2', '-c:a', 'libmp3lame', '-b:a', '128k', '-y', path]);
  if (r.status !== 0) throw new Error(`ffmpeg could not make ${path}: ${r.stderr.toString()}`);
  return path;
}

export async function startAntenna(overrides: Partial<Record<SettingName, unknown>> = {}, opts: { emergencyTone?: number; record?: boolean } = {}): Promise<TestAntenna> {
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
  const log = createRootLogger(config.logLevel);
  const antenna = await createAntenna({ config, secrets: { sourcePassword: SOURCE_PASSWORD, adminPassword: ADMIN_PASSWORD, relayPassword: ADMIN_PASSWORD }, log });
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
