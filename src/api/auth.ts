// Who is asking, and may they: the admin credentials (HTTP Basic, full access) or an Appwrite JWT,
// checked with Appwrite (the account, then a confirmed membership of the configured team and its
// roles). Verdicts are cached briefly in bounded memory under a hash of the JWT; Appwrite being
// unreachable or slow is a 503, never access. Failed attempts are limited per address.
// Neither JWTs nor passwords are logged or kept: the cache key is a SHA-256 of the JWT.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { Account, AppwriteException, Client, Query, Teams, Users, type Models } from 'node-appwrite';
import type { Config } from '../config/load.js';
import type { Secrets } from '../config/secrets.js';
import { ApiError } from './errors.js';

export type Access = 'read' | 'write';

export type Principal =
  | { readonly kind: 'admin'; readonly id: 'admin'; readonly canWrite: true }
  | {
      readonly kind: 'appwrite';
      readonly id: string;
      readonly email: string;
      readonly name: string;
      readonly roles: readonly string[];
      readonly canWrite: boolean;
    };

/** How a principal is named in the timeline: the Appwrite e-mail (or id), or "admin". */
export function actor(p: Principal): string {
  return p.kind === 'admin' ? 'admin' : p.email || p.id;
}

export interface AuthOptions {
  readonly config: Pick<
    Config,
    | 'appwriteEndpoint'
    | 'appwriteProject'
    | 'appwriteTeamId'
    | 'appwriteWriteRoles'
    | 'appwriteApiKey'
    | 'appwriteTimeoutMs'
    | 'authCacheSeconds'
    | 'authFailuresPerMinute'
  >;
  readonly secrets: Pick<Secrets, 'adminPassword'>;
  readonly log: Logger;
}

export interface Credentials {
  readonly authorization: string | undefined;
  readonly appwriteJwt: string | undefined;
  readonly address: string;
}

type Verdict = { readonly ok: true; readonly principal: Principal } | { readonly ok: false; readonly error: ApiError };

const CACHE_MAX = 1000;
const INFLIGHT_MAX = 64;
const LIMITER_MAX = 10_000;
const MAX_JWT = 4096;

export class Auth {
  readonly #o: AuthOptions;
  readonly #writeRoles: ReadonlySet<string>;
  readonly #adminDigest: Buffer;
  /** sha256(jwt) → verdict, oldest first (Map keeps insertion order). */
  readonly #cache = new Map<string, { readonly verdict: Verdict; readonly until: number }>();
  readonly #inflight = new Map<string, Promise<Verdict>>();
  readonly #failures = new Map<string, { count: number; since: number }>();

  constructor(o: AuthOptions) {
    this.#o = o;
    this.#writeRoles = new Set(o.config.appwriteWriteRoles.split(','));
    this.#adminDigest = sha256(`admin:${o.secrets.adminPassword}`);
  }

  get appwriteEnabled(): boolean {
    const c = this.#o.config;
    return Boolean(c.appwriteEndpoint && c.appwriteProject && c.appwriteTeamId);
  }

  /** The principal behind the credentials, with `access`; throws ApiError 401/403/429/503 otherwise. */
  async require(creds: Credentials, access: Access): Promise<Principal> {
    const p = await this.authenticate(creds);
    if (access === 'write' && !p.canWrite) {
      throw new ApiError(403, 'WRITE_ROLE_REQUIRED', `a team role among ${[...this.#writeRoles].join(', ')} is needed to change anything`);
    }
    return p;
  }

  async authenticate(creds: Credentials): Promise<Principal> {
    if (this.#limited(creds.address)) {
      throw new ApiError(429, 'AUTH_RATE_LIMITED', 'too many failed sign-in attempts from this address: wait a minute');
    }
    const auth = creds.authorization ?? '';
    const space = auth.indexOf(' ');
    const scheme = (space < 0 ? auth : auth.slice(0, space)).toLowerCase();
    const value = space < 0 ? '' : auth.slice(space + 1).trim();
    if (scheme === 'basic') return this.#basic(value, creds.address);
    const jwt = scheme === 'bearer' ? value : creds.appwriteJwt?.trim();
    if (!jwt)
      throw new ApiError(401, 'AUTH_REQUIRED', 'sign in: an Appwrite JWT (Authorization: Bearer …) or the admin credentials (Basic)');
    if (!this.appwriteEnabled) {
      this.#fail(creds.address);
      throw new ApiError(401, 'AUTH_INVALID', 'Appwrite sign-in is not configured on this server: use the admin credentials');
    }
    const verdict = await this.#verify(jwt);
    if (!verdict.ok) {
      if (verdict.error.statusCode === 401) this.#fail(creds.address);
      throw verdict.error;
    }
    return verdict.principal;
  }

  /** Whether an `Authorization` header carries the admin credentials (for /metrics). */
  isAdmin(authorization: string | undefined): boolean {
    const m = /^basic\s+(.+)$/i.exec(authorization ?? '');
    if (!m?.[1]) return false;
    return safeEqual(sha256(Buffer.from(m[1], 'base64').toString('utf8')), this.#adminDigest);
  }

  limited(address: string): boolean {
    return this.#limited(address);
  }

  fail(address: string): void {
    this.#fail(address);
  }

  #basic(value: string, address: string): Principal {
    if (safeEqual(sha256(Buffer.from(value, 'base64').toString('utf8')), this.#adminDigest))
      return { kind: 'admin', id: 'admin', canWrite: true };
    this.#fail(address);
    this.#o.log.warn({ address }, 'admin sign-in failed');
    throw new ApiError(401, 'AUTH_INVALID', 'wrong admin user or password');
  }

  async #verify(jwt: string): Promise<Verdict> {
    if (jwt.length > MAX_JWT) return { ok: false, error: new ApiError(401, 'AUTH_INVALID', 'the JWT is too long to be an Appwrite JWT') };
    const key = createHash('sha256').update(jwt).digest('base64url');
    const now = Date.now();
    const hit = this.#cache.get(key);
    if (hit && hit.until > now) return hit.verdict;
    if (hit) this.#cache.delete(key);
    const pending = this.#inflight.get(key);
    if (pending) return pending;
    if (this.#inflight.size >= INFLIGHT_MAX)
      throw new ApiError(503, 'BUSY', 'too many sign-ins are being checked with Appwrite: try again shortly');
    const p = this.#ask(jwt).then((verdict) => {
      this.#remember(key, verdict);
      return verdict;
    });
    this.#inflight.set(key, p);
    try {
      return await p;
    } finally {
      this.#inflight.delete(key);
    }
  }

  #remember(key: string, verdict: Verdict): void {
    const ttl = this.#o.config.authCacheSeconds * 1000;
    if (ttl <= 0) return;
    this.#cache.set(key, { verdict, until: Date.now() + ttl });
    while (this.#cache.size > CACHE_MAX) {
      const oldest = this.#cache.keys().next().value;
      if (oldest === undefined) break;
      this.#cache.delete(oldest);
    }
  }

  /** Asks Appwrite; returns a verdict for what Appwrite said, throws 503 when it could not say. */
  async #ask(jwt: string): Promise<Verdict> {
    const c = this.#o.config;
    const endpoint = c.appwriteEndpoint as string;
    const project = c.appwriteProject as string;
    const teamId = c.appwriteTeamId as string;
    const userClient = new Client().setEndpoint(endpoint).setProject(project).setJWT(jwt);
    let user: Models.User;
    try {
      user = await this.#timed(new Account(userClient).get());
    } catch (err) {
      if (err instanceof AppwriteException && (err.code === 401 || err.code === 403)) return this.#rejected(err);
      throw this.#unavailable(err);
    }
    let memberships: Models.Membership[];
    try {
      const list = c.appwriteApiKey
        ? await this.#timed(
            new Users(new Client().setEndpoint(endpoint).setProject(project).setKey(c.appwriteApiKey)).listMemberships({
              userId: user.$id,
            }),
          )
        : await this.#timed(new Teams(userClient).listMemberships({ teamId, queries: [Query.equal('userId', user.$id)] }));
      memberships = list.memberships;
    } catch (err) {
      // With the user's own JWT, Appwrite hides a team the user is not in (404) or forbids the listing (401).
      if (!c.appwriteApiKey && err instanceof AppwriteException && [401, 403, 404].includes(err.code)) {
        // A JWT revoked or expired between the two calls is a 401 here too: asked once more, a JWT that
        // Appwrite now refuses is that (sign in again), not a lost membership (403, which sends the
        // operator away with the wrong reason).
        if (err.code === 401) {
          try {
            await this.#timed(new Account(userClient).get());
          } catch (again) {
            if (again instanceof AppwriteException && (again.code === 401 || again.code === 403)) return this.#rejected(again);
            throw this.#unavailable(again);
          }
        }
        memberships = [];
      } else throw this.#unavailable(err);
    }
    const m = memberships.find((x) => x.teamId === teamId && x.userId === user.$id);
    const who = { userId: user.$id };
    if (!m) {
      this.#o.log.info(who, 'signed-in user is not a member of the team');
      return { ok: false, error: new ApiError(403, 'NOT_TEAM_MEMBER', 'this Appwrite account is not a member of the station team') };
    }
    if (!m.confirm) {
      this.#o.log.info(who, 'team invitation not yet accepted');
      return { ok: false, error: new ApiError(403, 'MEMBERSHIP_NOT_CONFIRMED', 'the team invitation has not been accepted yet') };
    }
    const roles = m.roles.slice(0, 32).map((r) => String(r).slice(0, 81));
    return {
      ok: true,
      principal: {
        kind: 'appwrite',
        id: user.$id,
        email: String(user.email ?? '').slice(0, 320),
        name: String(user.name ?? '').slice(0, 128),
        roles,
        canWrite: roles.some((r) => this.#writeRoles.has(r)),
      },
    };
  }

  #rejected(err: AppwriteException): Verdict {
    this.#o.log.info({ type: err.type }, 'Appwrite rejected a JWT');
    return { ok: false, error: new ApiError(401, 'AUTH_INVALID', `Appwrite rejected the JWT (${err.type || err.code}): sign in again`) };
  }

  #unavailable(err: unknown): ApiError {
    const why =
      err instanceof AppwriteException
        ? `Appwrite answered ${err.code} ${err.type || ''}`.trim()
        : `Appwrite unreachable: ${(err as Error).message}`;
    this.#o.log.warn({ reason: why }, 'Appwrite check failed: answering 503');
    return new ApiError(503, 'AUTH_UNAVAILABLE', `cannot check the sign-in with Appwrite now (${why}); nothing was changed`);
  }

  #timed<T>(p: Promise<T>): Promise<T> {
    const ms = this.#o.config.appwriteTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    });
    // The request itself cannot be aborted through the SDK; it ends on its own, its answer ignored.
    p.catch(() => undefined);
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  #limited(address: string): boolean {
    const f = this.#failures.get(address);
    if (!f) return false;
    if (Date.now() - f.since > 60_000) {
      this.#failures.delete(address);
      return false;
    }
    return f.count >= this.#o.config.authFailuresPerMinute;
  }

  #fail(address: string): void {
    const now = Date.now();
    const f = this.#failures.get(address);
    if (f && now - f.since <= 60_000) f.count++;
    else {
      this.#failures.delete(address);
      this.#failures.set(address, { count: 1, since: now });
    }
    while (this.#failures.size > LIMITER_MAX) {
      const oldest = this.#failures.keys().next().value;
      if (oldest === undefined) break;
      this.#failures.delete(oldest);
    }
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
