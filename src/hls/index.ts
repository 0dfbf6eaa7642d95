// HLS for the station: three (configurable) AAC-LC tiers packaged from memory as packed audio with
// Low-Latency HLS parts, served by a Fastify plugin under /hls/. Built by the composition root.
//
// Why packed audio (ADTS + ID3) rather than fMP4: the encoders already emit whole ADTS frames, so a
// segment is an ID3 tag followed by the frames (no muxer, no init segment, nothing to get wrong per
// part); it is one of the two formats Apple's authoring spec asks for audio (2.1), served as audio/aac;
// hls.js, Safari/AVPlayer, ExoPlayer and ffmpeg read it; and the same ID3 tag that carries the PRIV
// timestamp carries the title (TIT2), so now-playing travels in-band with the audio at part granularity.
import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { EncodedStream } from '../types/contracts.js';
import { SAMPLE_RATE } from '../types/pcm.js';
import type { HlsEvents, ListenerInfo } from '../types/events.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { layoutFor } from './layout.js';
import { hlsRoutes } from './plugin.js';
import { HlsService } from './service.js';
import type { HlsSession, SessionReports } from './sessions.js';
import { loadState, StateWriter } from './state.js';
import type { HlsSnapshot } from '../types/snapshots.js';
export type { HlsSnapshot } from '../types/snapshots.js';

export type HlsConfig = Pick<Config, 'hlsTiers' | 'hlsSegmentSeconds' | 'hlsPartSeconds' | 'hlsWindowSegments'>;

export interface HlsOptions {
  readonly config: HlsConfig;
  readonly log: Logger;
  /** Where hls-state.json (media and discontinuity sequence) is kept. */
  readonly dataDir: string;
  /** One AAC stream per entry of config.hlsTiers, same order (from encoders.acquire({ codec: 'aac', bitrate })). */
  readonly streams: readonly EncodedStream[];
}

export interface Hls {
  /** Register on the listener server without a prefix: routes are /hls/master.m3u8, /hls/<tier>/… */
  readonly plugin: FastifyPluginAsync;
  readonly events: TypedEmitter<HlsEvents>;
  snapshot(): HlsSnapshot;
  close(): Promise<void>;
}

export async function createHls(opts: HlsOptions): Promise<Hls> {
  const { config } = opts;
  const log = opts.log.child({ component: 'hls' });
  if (opts.streams.length !== config.hlsTiers.length) {
    throw new RangeError(`createHls: ${opts.streams.length} streams for ${config.hlsTiers.length} HLS tiers`);
  }
  for (const s of opts.streams) if (s.spec.codec !== 'aac') throw new RangeError(`createHls: stream ${s.key} is ${s.spec.codec}, not aac`);

  const layout = layoutFor(config.hlsSegmentSeconds, config.hlsPartSeconds, SAMPLE_RATE);
  const saved = await loadState(opts.dataDir, log);
  const state = new StateWriter(opts.dataDir, log);
  const events = new TypedEmitter<HlsEvents>(log);
  const info = (s: HlsSession): ListenerInfo => ({
    id: s.id,
    protocol: 'hls',
    mount: s.mount,
    remoteAddress: s.remoteAddress,
    userAgent: s.userAgent,
  });
  const sessionReports: SessionReports = {
    onStart: (s) => events.emit('listener-connected', { ...info(s), at: Date.now() }),
    onEnd: (s, reason) => {
      const at = Date.now();
      events.emit('listener-disconnected', { ...info(s), at, durationMs: at - s.startedAt, bytes: s.bytes, reason });
    },
  };
  // After a restart the old timestamps are gone: the first new segment starts a new discontinuity sequence.
  const svc = new HlsService({
    tiers: config.hlsTiers.map((t) => ({ name: t.name, bitrate: t.bitrate })),
    layout,
    windowSegments: config.hlsWindowSegments,
    firstMsn: saved?.nextMsn ?? 0,
    firstDisc: saved ? saved.lastDisc + 1 : 0,
    state,
    log,
    sessionReports,
  });
  // Sessions end when they go quiet: look once a second, so the end is reported on time (cheap: the
  // map is ordered by last sight, pruning stops at the first live session).
  const pruneTimer = setInterval(() => svc.sessions.prune(), 1000);
  pruneTimer.unref();
  let breaks = 0;
  const unsubscribe = opts.streams.map((stream, i) =>
    stream.subscribe((chunk) => {
      svc.push(i, chunk);
      if (svc.breaks.count !== breaks) {
        breaks = svc.breaks.count;
        events.emit('discontinuity', { reason: svc.breaks.last ?? '' });
      }
      const rate = svc.aligner.sampleRate(i);
      if (rate !== undefined && rate !== layout.sampleRate)
        log.error({ tier: config.hlsTiers[i]?.name, rate }, 'HLS tier is not at the mixer sample rate');
    }),
  );
  log.info({ layout, firstMsn: saved?.nextMsn ?? 0 }, 'HLS ready');

  let closed: Promise<void> | undefined;
  return {
    plugin: hlsRoutes(svc),
    events,
    snapshot(): HlsSnapshot {
      const listed = svc.timeline.listed();
      const last = svc.timeline.last;
      return {
        tiers: svc.tiers.map((_, i) => svc.stats(i)),
        layout,
        mediaSequence: listed[0]?.msn,
        discontinuitySequence: listed[0]?.disc,
        lastMsn: last?.msn,
        lastPart: last?.part,
        title: svc.timeline.lastTitle,
        sessions: svc.sessions.active(),
        sessionsStarted: svc.sessions.started,
        blockedRequests: svc.waiters.size,
        segmentsHeld: svc.timeline.segmentsHeld,
        bytesHeld: svc.timeline.bytesHeld,
        discontinuities: svc.breaks.count,
        lastDiscontinuityReason: svc.breaks.last,
      };
    },
    close(): Promise<void> {
      closed ??= (async () => {
        for (const u of unsubscribe) u();
        clearInterval(pruneTimer);
        svc.sessions.endAll();
        svc.close();
        events.removeAllListeners();
        await state.flush();
      })();
      return closed;
    },
  };
}

/** The same routes as `Hls.plugin`, for `app.register(hlsPlugin, { hls })`. */
export const hlsPlugin: FastifyPluginAsync<{ hls: Hls }> = async (app, opts) => {
  await opts.hls.plugin(app, {});
};
