// The onRequest hook each protected route uses: runs before the body is read (an upload by a
// reader is refused before a byte of it is stored) and leaves the principal on the request.
import type { FastifyRequest } from 'fastify';
import type { Access, Auth, Principal } from './auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export function guard(auth: Auth, access: Access): (req: FastifyRequest) => Promise<void> {
  return async (req) => {
    const jwt = req.headers['x-appwrite-jwt'];
    req.principal = await auth.require(
      { authorization: req.headers.authorization, appwriteJwt: Array.isArray(jwt) ? jwt[0] : jwt, address: req.ip },
      access,
    );
  };
}

/** The principal a guarded route runs for (the guard has set it). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new Error('route is not guarded');
  return req.principal;
}
