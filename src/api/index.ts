// The status API: an observer plugin. It reads the pipeline through Antenna.events and snapshot(),
// acts only through the composition root's commands, and owns its own state (timeline, listener
// history, emergency library, live feed, metrics). Routes: ./routes/*; auth: ./auth.ts; see README.md.
import { createHash, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import swagger from '@fastify/swagger';
import type { FastifyError, FastifyPluginAsync } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type FastifyPluginAsyncZod,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AntennaCommands, AntennaSnapshot, EventSource } from '../app.js';
import type { Config } from '../config/load.js';
import type { Secrets } from '../config/secrets.js';
import type { AntennaEvents } from '../types/events.js';
import { Auth } from './auth.js';
import type { ApiContext } from './context.js';
import { EmergencyLibrary } from './emergency-library.js';
import { ApiError } from './errors.js';
import { ListenerHistory } from './history.js';
import { HoldStore } from './hold-store.js';
import { LiveFeed } from './live.js';
import { createMetrics } from './metrics.js';
import { controlRoutes } from './routes/control.js';
import { emergencyRoutes } from './routes/emergency.js';
import { publicRoutes } from './routes/public.js';
import { statusRoutes } from './routes/status.js';
import { ApiTimeline } from './timeline.js';
import { errorBody } from './schemas.js';
import { buildNowPlaying, buildStatus, ProgrammeTracker } from './views.js';

export interface ApiOptions {
  readonly events: EventSource<AntennaEvents>;
  readonly snapshot: () => AntennaSnapshot;
  readonly commands: AntennaCommands;
  readonly config: Config;
  readonly secrets: Secrets;
  readonly log: Logger;
  readonly ffmpegPath: string;
}

export interface Api {
  /** Register on the listener server without a prefix: routes are /api/… and /metrics. */
  readonly plugin: FastifyPluginAsync;
  close(): Promise<void>;
}

export async function createApi(o: ApiOptions): Promise<Api> {
  const { config, log } = o;
  const timeline = new ApiTimeline(Math.max(config.timelineSize, 500));
  const unobserve = timeline.observe(o.events);
  const tracker = new ProgrammeTracker(o.events, o.snapshot);
  const history = await ListenerHistory.open({ dir: join(config.dataDir, 'history'), days: config.listenerHistoryDays, log });
  let library: EmergencyLibrary;
  try {
    library = await EmergencyLibrary.open({
      dir: join(config.dataDir, 'emergency'),
      defaultFile: config.emergencyFile,
      ffmpegPath: o.ffmpegPath,
      maxBytes: config.uploadMaxBytes,
      silenceDb: config.silenceThresholdDb,
      log: log.child({ part: 'emergency-library' }),
      use: (path) => o.commands.useEmergencyFile(path),
    });
  } catch (err) {
    unobserve();
    tracker.close();
    await history.close();
    throw err;
  }
  const holds = new HoldStore(config.dataDir, log);
  const stored = await holds.load();
  if (stored) {
    o.commands.hold(stored.tier);
    timeline.add('hold-restored', { tier: stored.tier, heldBy: stored.by, heldAt: stored.at }, stored.by);
    log.warn({ hold: stored.tier, by: stored.by }, 'programme still held from before the restart');
  }
  const live = new LiveFeed({ snapshot: o.snapshot, events: o.events, timeline, log });
  const metrics = createMetrics({ events: o.events, snapshot: o.snapshot, config });
  const auth = new Auth({ config, secrets: o.secrets, log });
  // Listener counts sampled each second for the history (peak per minute).
  const sampler = setInterval(() => {
    const s = o.snapshot();
    const counts: Record<string, number> = Object.fromEntries(s.mounts.mounts.map((m) => [m.mount, m.listeners]));
    counts.hls = s.hls.sessions;
    history.sample(counts);
  }, 1000);

  const ctx: ApiContext = {
    config,
    snapshot: o.snapshot,
    commands: o.commands,
    auth,
    holds,
    timeline,
    history,
    library,
    live,
    metrics,
    nowPlaying: (origin) => buildNowPlaying(o.snapshot(), tracker, config, origin),
    status: () => buildStatus(o.snapshot(), tracker, config, library.list().active, live),
  };

  const plugin: FastifyPluginAsyncZod = async (app) => {
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    app.decorateRequest('principal', null);
    app.setErrorHandler((err: FastifyError, req, reply) => {
      if (err instanceof ApiError) {
        if (err.statusCode >= 500) req.log.warn({ code: err.code, url: req.routeOptions.url }, err.message);
        return reply.code(err.statusCode).send({ error: { code: err.code, message: err.message } });
      }
      if (hasZodFastifySchemaValidationErrors(err) || err.validation) {
        req.log.info({ url: req.routeOptions.url, reason: err.message }, 'bad request');
        return reply.code(400).send({ error: { code: 'BAD_REQUEST', message: err.message } });
      }
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (status === 500) req.log.error({ err, url: req.routeOptions.url }, 'status API route failed');
      else req.log.info({ url: req.routeOptions.url, reason: err.message }, 'bad request');
      return reply.code(status).send({ error: { code: status === 500 ? 'INTERNAL' : 'BAD_REQUEST', message: err.message } });
    });
    await app.register(swagger, {
      openapi: {
        info: { title: 'Antenna status API', version: '1' },
        components: {
          securitySchemes: {
            admin: { type: 'http', scheme: 'basic', description: 'user "admin", the admin password' },
            appwrite: { type: 'http', scheme: 'bearer', bearerFormat: 'Appwrite JWT (also accepted as X-Appwrite-JWT)' },
          },
        },
        security: [{ admin: [] }, { appwrite: [] }],
      },
      transform: jsonSchemaTransform,
    });
    await app.register(publicRoutes(ctx));
    await app.register(statusRoutes(ctx));
    await app.register(emergencyRoutes(ctx));
    await app.register(controlRoutes(ctx));
    app.get(
      '/metrics',
      {
        schema: {
          summary: 'Prometheus metrics (admin, the metrics token, or everyone with metricsPublic)',
          tags: ['metrics'],
          response: { 200: z.string().describe('Prometheus text format 0.0.4'), 401: errorBody, 429: errorBody },
        },
      },
      async (req, reply) => {
        if (!config.metricsPublic && !metricsAllowed(req.headers.authorization, req.ip)) {
          return reply
            .code(401)
            .header('www-authenticate', 'Basic realm="antenna"')
            .send({
              error: { code: 'AUTH_REQUIRED', message: 'metrics need the admin credentials or Authorization: Bearer <metrics token>' },
            });
        }
        return reply.type(metrics.contentType).send(await metrics.render());
      },
    );
    app.get('/api/openapi.json', { schema: { hide: true } }, async (_req, reply) =>
      reply.type('application/json').send(JSON.stringify(app.swagger())),
    );
  };

  function metricsAllowed(authorization: string | undefined, address: string): boolean {
    if (auth.limited(address)) throw new ApiError(429, 'AUTH_RATE_LIMITED', 'too many failed attempts from this address: wait a minute');
    if (auth.isAdmin(authorization)) return true;
    const m = /^bearer\s+(.+)$/i.exec(authorization ?? '');
    if (m?.[1] && config.metricsToken && safeTokenEqual(m[1], config.metricsToken)) return true;
    if (authorization) auth.fail(address);
    return false;
  }

  let closed: Promise<void> | undefined;
  return {
    plugin: plugin as unknown as FastifyPluginAsync,
    close: () =>
      (closed ??= (async () => {
        clearInterval(sampler);
        live.close();
        metrics.close();
        tracker.close();
        unobserve();
        await history.close();
      })()),
  };
}

function safeTokenEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
