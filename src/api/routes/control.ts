// Write routes that act on the programme through the composition root's commands: kick a studio
// source, set the on-air title, hold the programme on a lower tier (and release it). Each is recorded
// in the timeline with who did it.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { actor } from '../auth.js';
import type { ApiContext } from '../context.js';
import { ApiError } from '../errors.js';
import { guard, principalOf } from '../guard.js';
import { errorBody, holdBody, holdResponse, kickParams, kickResponse, titleBody, titleResponse } from '../schemas.js';

const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 409: errorBody, 429: errorBody, 503: errorBody };

export function controlRoutes(ctx: ApiContext): FastifyPluginAsyncZod {
  return async (app) => {
    const write = guard(ctx.auth, 'write');
    app.post(
      '/api/sources/:input/kick',
      {
        onRequest: write,
        schema: {
          summary: 'Disconnect the studio source on an input',
          tags: ['control'],
          params: kickParams,
          response: { 200: kickResponse, ...errors },
        },
      },
      async (req) => {
        const input = req.params.input;
        const by = actor(principalOf(req));
        if (!(await ctx.commands.kickSource(input))) throw new ApiError(409, 'NO_SOURCE', `no source is connected to the ${input} input`);
        ctx.timeline.add('kick', { inputId: input }, by);
        return { kicked: true, input };
      },
    );

    app.post(
      '/api/title',
      {
        onRequest: write,
        schema: {
          summary: 'Set the on-air title (as Icecast admin metadata does)',
          tags: ['control'],
          body: titleBody,
          response: { 200: titleResponse, ...errors },
        },
      },
      async (req) => {
        const title = req.body.title;
        const input = ctx.commands.setTitle(title);
        if (!input) throw new ApiError(409, 'EMERGENCY_ON_AIR', 'the emergency tier is on air: its title is the configured emergencyTitle');
        ctx.timeline.add('title', { inputId: input, title }, actor(principalOf(req)));
        return { title, input };
      },
    );

    app.post(
      '/api/mixer/hold',
      {
        onRequest: write,
        schema: {
          summary: 'Hold the programme on a lower tier for maintenance ({ tier: null } releases)',
          tags: ['control'],
          body: holdBody,
          response: { 200: holdResponse, ...errors },
        },
      },
      async (req) => {
        const by = actor(principalOf(req));
        ctx.commands.hold(req.body.tier);
        ctx.timeline.add(req.body.tier ? 'hold' : 'hold-released', { tier: req.body.tier }, by);
        await ctx.holds.save(req.body.tier, by);
        const s = ctx.snapshot();
        return { hold: s.mixer.hold, onAir: s.mixer.onAir };
      },
    );
  };
}
