// The ACME HTTP-01 route on the shared Fastify app: the CA fetches
// http://<domain>/.well-known/acme-challenge/<token> on the plain port and gets the key authorization.
import type { FastifyPluginAsync } from 'fastify';
import type { ChallengeStore } from './acme.js';

export function acmeChallengeRoutes(challenges: ChallengeStore): FastifyPluginAsync {
  return (app) => {
    app.get<{ Params: { token: string } }>(
      '/.well-known/acme-challenge/:token',
      {
        schema: {
          params: { type: 'object', properties: { token: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,256}$' } }, required: ['token'] },
          response: { 200: { type: 'string' }, 404: { type: 'string' } },
        },
      },
      async (req, reply) => {
        const answer = challenges.get(req.params.token);
        reply.header('content-type', 'text/plain').header('cache-control', 'no-store');
        if (answer === undefined) return reply.code(404).send('no such challenge\n');
        return reply.send(answer);
      },
    );
    return Promise.resolve();
  };
}
