// GET /api/nowplaying: public, CORS, cacheable for a second (widgets, players, dashboards). Field
// names follow AzuraCast's now-playing where they fit, since widgets already read them.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiContext } from '../context.js';
import { errorBody, nowPlaying, type NowPlaying } from '../schemas.js';

export function publicRoutes(ctx: ApiContext): FastifyPluginAsyncZod {
  let cached: { body: NowPlaying; until: number } | undefined;
  return async (app) => {
    app.get(
      '/api/nowplaying',
      {
        schema: {
          summary: 'What is on air and who listens (public)',
          tags: ['public'],
          response: { 200: nowPlaying, 500: errorBody },
        },
      },
      async (_req, reply) => {
        const now = Date.now();
        if (!cached || cached.until <= now) cached = { body: ctx.nowPlaying(), until: now + 1000 };
        void reply.header('access-control-allow-origin', '*').header('cache-control', 'public, max-age=1');
        return cached.body;
      },
    );
  };
}
