// A real HLS stack for the integration tests: a sine programme, real ffmpeg AAC encoders (one per tier),
// createHls and a Fastify server on loopback port 0; plus small HTTP and polling helpers.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { createHls, type Hls, type HlsConfig } from '../../src/hls/index.js';
import { createSineProgramme, createTestEncoders, quietLog, type SineProgramme, type TestAacEncoder } from './hls-encoders.js';

export const TEST_TIERS = [
  { name: 'aac_64k', bitrate: 64_000 },
  { name: 'aac_128k', bitrate: 128_000 },
  { name: 'aac_192k', bitrate: 192_000 },
] as const;

/** 1 s segments of two ~0.5 s parts: the window fills in seconds rather than half a minute. */
export const FAST_HLS: HlsConfig = { hlsTiers: TEST_TIERS, hlsSegmentSeconds: 1, hlsPartSeconds: 0.5, hlsWindowSegments: 6 };

export interface HlsStack {
  readonly base: string;
  readonly hls: Hls;
  readonly app: FastifyInstance;
  readonly programme: SineProgramme;
  readonly encoders: TestAacEncoder[];
  readonly dataDir: string;
  /** Closes server, HLS, encoders and programme; removes the data dir unless `keepData`. */
  close(keepData?: boolean): Promise<void>;
}

export async function startHlsStack(opts: { dataDir?: string; config?: HlsConfig } = {}): Promise<HlsStack> {
  const config = opts.config ?? FAST_HLS;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'antenna-hls-')));
  const programme = createSineProgramme(440, 'First Song');
  const encoders = await createTestEncoders(
    programme,
    config.hlsTiers.map((t) => t.bitrate),
  );
  const hls = await createHls({ config, log: quietLog, dataDir, streams: encoders });
  const app = Fastify({ logger: false });
  await app.register(hls.plugin);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  let closed = false;
  return {
    base: `http://127.0.0.1:${port}`,
    hls,
    app,
    programme,
    encoders,
    dataDir,
    async close(keepData = false) {
      if (closed) return;
      closed = true;
      await hls.close();
      await app.close();
      await Promise.all(encoders.map((e) => e.close()));
      programme.close();
      if (!keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `cond` every 50 ms until it holds; throws after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function getText(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, { headers });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

export async function getBytes(url: string): Promise<{ status: number; body: Buffer; headers: Headers }> {
  const res = await fetch(url);
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}
