// Who the operator is to the API: the admin credentials (HTTP Basic, kept for this tab only in
// sessionStorage), or an Appwrite account signed in with the Appwrite web SDK, whose JWT (valid 15
// minutes) is sent as Authorization: Bearer and renewed before it expires.
import { ApiFailure, basicAuth } from '../shared/api.js';
import type { PublicConfig } from '../shared/types.js';

export interface Session {
  readonly kind: 'admin' | 'appwrite';
  /** The Authorization header value; an Appwrite JWT is renewed when it is older than RENEW_MS. */
  header(): Promise<string>;
  /** A JWT the API refused as expired or invalid: get a fresh one now (admin: nothing to renew). */
  renew(): Promise<void>;
  signOut(): Promise<void>;
}

/** The Appwrite session behind the JWTs is gone (expired, signed out elsewhere, deleted): no new JWT can be made. */
export class SignInExpired extends Error {}

/**
 * Whether Appwrite refused to make a JWT (the session is gone), as opposed to not answering. The SDK
 * throws an AppwriteException carrying the HTTP status for a refusal and fetch's TypeError when the
 * request never got an answer.
 */
function refused(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 401 || code === 403;
}

/** What the dashboard says when it sends someone back to sign in because their sign-in ran out. */
export const EXPIRED_NOTICE = 'Your sign-in has expired: please sign in again.';

const ADMIN_KEY = 'antenna.admin';
const APPWRITE_KEY = 'antenna.appwrite';
/** Appwrite JWTs live 15 minutes; a new one is made after 10, so one in use never expires. */
const RENEW_MS = 10 * 60_000;

export function adminSession(password: string): Session {
  const header = basicAuth('admin', password);
  sessionStorage.setItem(ADMIN_KEY, header);
  return adminFromHeader(header);
}

function adminFromHeader(header: string): Session {
  return {
    kind: 'admin',
    header: () => Promise.resolve(header),
    renew: () => Promise.resolve(),
    signOut: () => {
      sessionStorage.removeItem(ADMIN_KEY);
      return Promise.resolve();
    },
  };
}

async function appwriteAccount(cfg: NonNullable<PublicConfig['appwrite']>) {
  // The SDK is loaded only by stations that use Appwrite, and only on the dashboard.
  const { Client, Account } = await import('./appwrite.js');
  return new Account(new Client().setEndpoint(cfg.endpoint).setProject(cfg.project));
}

async function appwriteFrom(account: Awaited<ReturnType<typeof appwriteAccount>>): Promise<Session> {
  let jwt = '';
  let madeAt = 0;
  let pending: Promise<void> | undefined;
  const renew = (): Promise<void> =>
    (pending ??= account
      .createJWT()
      .then(
        (r) => {
          jwt = r.jwt;
          madeAt = Date.now();
        },
        (err: unknown) => {
          const why = err instanceof Error ? err.message : String(err);
          if (refused(err)) throw new SignInExpired(why);
          // Appwrite down, a 5xx, a dropped connection: passing, so the operator stays signed in; the
          // call fails as a 503 and the next one asks for a JWT again.
          throw new ApiFailure(503, 'AUTH_UNAVAILABLE', `could not get a sign-in token from Appwrite (${why}); trying again`);
        },
      )
      .finally(() => {
        pending = undefined;
      }));
  await renew();
  localStorage.setItem(APPWRITE_KEY, '1');
  return {
    kind: 'appwrite',
    async header() {
      // Checked on every call (the status is read every 2 s): no request leaves with a JWT older than
      // RENEW_MS, even after the tab slept through its timers.
      if (Date.now() - madeAt > RENEW_MS) await renew();
      return `Bearer ${jwt}`;
    },
    renew,
    async signOut() {
      localStorage.removeItem(APPWRITE_KEY);
      try {
        await account.deleteSession({ sessionId: 'current' });
      } catch {
        /* already gone on the Appwrite side: nothing to undo */
      }
    },
  };
}

export async function appwriteSignIn(cfg: NonNullable<PublicConfig['appwrite']>, email: string, password: string): Promise<Session> {
  const account = await appwriteAccount(cfg);
  await account.createEmailPasswordSession({ email, password });
  return appwriteFrom(account);
}

/** The session this tab already had (admin) or the browser keeps (Appwrite), without asking anyone who has none. */
export async function resumeSession(cfg: PublicConfig): Promise<Session | null> {
  const admin = sessionStorage.getItem(ADMIN_KEY);
  if (admin) return adminFromHeader(admin);
  if (cfg.appwrite && localStorage.getItem(APPWRITE_KEY)) {
    try {
      return await appwriteFrom(await appwriteAccount(cfg.appwrite));
    } catch (err) {
      // Only a session Appwrite refused is forgotten; one it could not answer for is tried at the next load.
      if (err instanceof SignInExpired) localStorage.removeItem(APPWRITE_KEY);
    }
  }
  return null;
}
