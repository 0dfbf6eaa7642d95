// Read routes (any confirmed team member, or the admin): the whole picture, the timeline, the live
// feed and the listener history.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiContext } from '../context.js';
import { actor } from '../auth.js';
import { guard, principalOf } from '../guard.js';
import { MAX_LIVE_CLIENTS } from '../live.js';
import { errorBody, eventsQuery, eventsResponse, historyQuery, historyResponse, meResponse, status } from '../schemas.js';

const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 429: errorBody, 503: errorBody };

export function statusRoutes(ctx: ApiContext): FastifyPluginAsyncZod {
  return async (app) => {
    const read = guard(ctx.auth, 'read');
    app.get(
      '/api/status',
      {
        onRequest: read,
        schema: {
          summary: 'Everything: tier and why, inputs, mounts, HLS, components',
          tags: ['read'],
          response: { 200: status, ...errors },
        },
      },
      async () => ctx.status(),
    );

    app.get(
      '/api/me',
      {
        onRequest: read,
        schema: {
          summary: 'Who these credentials are and whether they may act (the dashboard hides controls otherwise)',
          tags: ['read'],
          response: { 200: meResponse, ...errors },
        },
      },
      async (req) => {
        const p = principalOf(req);
        return { kind: p.kind, name: actor(p), roles: p.kind === 'admin' ? [] : [...p.roles], canWrite: p.canWrite };
      },
    );

    app.get(
      '/api/events',
      {
        onRequest: read,
        schema: {
          summary: 'The timeline: switches, sources, silence, alerts, restarts, operator actions',
          tags: ['read'],
          querystring: eventsQuery,
          response: { 200: eventsResponse, ...errors },
        },
      },
      async (req) => ({ events: [...ctx.timeline.list(req.query.since, req.query.limit)] }),
    );

    app.get(
      '/api/listeners/history',
      {
        onRequest: read,
        schema: {
          summary: 'Listeners per mount at one-minute resolution',
          tags: ['read'],
          querystring: historyQuery,
          response: { 200: historyResponse, ...errors },
        },
      },
      async (req) => {
        const minutes = Math.min(req.query.minutes, ctx.config.listenerHistoryDays * 1440);
        return { resolutionSeconds: 60 as const, points: await ctx.history.query(minutes) };
      },
    );

    app.get(
      '/api/live',
      {
        onRequest: read,
        schema: {
          summary: 'Server-Sent Events: levels (10 Hz), timeline items, titles, listener counts (1 Hz)',
          tags: ['read'],
          response: { 200: z.string().describe('text/event-stream'), ...errors },
        },
      },
      async (_req, reply) => {
        if (ctx.live.full) {
          return reply.code(503).send({ error: { code: 'BUSY', message: `the live feed serves ${MAX_LIVE_CLIENTS} clients at most` } });
        }
        reply.hijack();
        const socket = reply.raw.socket;
        if (!socket) return reply;
        app.endlessSockets.add(socket);
        socket.once('close', () => app.endlessSockets.delete(socket));
        ctx.live.add(reply.raw, socket);
        return reply;
      },
    );
  };
}
