// GET /api/nowplaying: public, CORS, cacheable for a second (widgets, players, dashboards). Field
// names follow AzuraCast's now-playing where they fit, since widgets already read them.
// GET /api/config: what the pages need before anyone signs in (station, where Appwrite is); no secret.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiContext } from '../context.js';
import { errorBody, nowPlaying, publicConfig, type NowPlaying, type PublicConfig } from '../schemas.js';

export function publicRoutes(ctx: ApiContext): FastifyPluginAsyncZod {
  // One cached body per origin: at most two (http and https), since the host comes from the
  // configuration and the certificate, never from the request's Host header.
  const cached = new Map<string, { body: NowPlaying; until: number }>();
  const c = ctx.config;
  const config: PublicConfig = {
    station: { name: c.stationName, description: c.stationDescription, genre: c.stationGenre, url: c.stationUrl },
    silenceThresholdDb: c.silenceThresholdDb,
    appwrite: c.appwriteEndpoint && c.appwriteProject ? { endpoint: c.appwriteEndpoint, project: c.appwriteProject } : null,
  };
  return async (app) => {
    app.get(
      '/api/config',
      {
        schema: {
          summary: 'Station and sign-in settings the pages need (public, never a secret)',
          tags: ['public'],
          response: { 200: publicConfig },
        },
      },
      async (_req, reply) => {
        void reply.header('cache-control', 'no-cache');
        return config;
      },
    );
    app.get(
      '/api/nowplaying',
      {
        schema: {
          summary: 'What is on air and who listens (public)',
          tags: ['public'],
          response: { 200: nowPlaying, 500: errorBody },
        },
      },
      async (req, reply) => {
        const now = Date.now();
        const origin = app.publicOrigin(req);
        let hit = cached.get(origin);
        if (!hit || hit.until <= now) cached.set(origin, (hit = { body: ctx.nowPlaying(origin), until: now + 1000 }));
        void reply.header('access-control-allow-origin', '*').header('cache-control', 'public, max-age=1');
        return hit.body;
      },
    );
  };
}
