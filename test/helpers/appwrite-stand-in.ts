// A local HTTP server that speaks Appwrite's REST wire protocol as node-appwrite uses it: GET
// /v1/account (X-Appwrite-JWT), GET /v1/teams/{teamId}/memberships with `queries[]` (the user's JWT)
// and GET /v1/users/{userId}/memberships (X-Appwrite-Key), X-Appwrite-Project checked on every
// request, errors as { message, code, type, version }. It can go down or become slow, and it counts
// requests so tests can see the cache at work. For the dashboard's browser sign-in it also speaks the
// web SDK's side: POST /v1/account/sessions/email (the session comes back in X-Fallback-Cookies, as
// Appwrite does for a cross-site endpoint), POST /v1/account/jwts, DELETE /v1/account/sessions/current,
// with CORS for credentialed requests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface StandInUser {
  readonly jwt: string;
  readonly id: string;
  readonly email: string;
  readonly name?: string;
  /** Lets the user sign in with e-mail and password (the web SDK's createEmailPasswordSession). */
  readonly password?: string;
}

export interface StandInMembership {
  readonly userId: string;
  readonly teamId: string;
  readonly roles: readonly string[];
  readonly confirm: boolean;
}

export interface AppwriteStandIn {
  readonly endpoint: string;
  readonly requests: { method: string; path: string; project: string | undefined; jwt: string | undefined; key: string | undefined }[];
  /** Every request waits this long before it is answered. */
  delayMs: number;
  /** When set, every request is answered with this status and Appwrite's error body (a broken server). */
  failStatus: number | undefined;
  /** Every JWT handed out by POST /v1/account/jwts, oldest first (a user's first one is its `jwt`, later ones differ). */
  readonly issued: readonly string[];
  /** Makes a JWT invalid from now on, as Appwrite does once one expires. */
  revokeJwt(jwt: string): void;
  /** Makes a JWT invalid just after the next GET /v1/account accepts it: it runs out between a checker's two calls. */
  revokeJwtAfterNextCheck(jwt: string): void;
  /** Ends every e-mail session (signed out elsewhere): no new JWT can be made from them. */
  endSessions(): void;
  close(): Promise<void>;
}

export const PROJECT = 'antenna-test-project';
export const API_KEY = 'standin-api-key-0123456789';

export async function startAppwriteStandIn(
  users: readonly StandInUser[],
  memberships: readonly StandInMembership[],
): Promise<AppwriteStandIn> {
  const sockets = new Set<Socket>();
  const requests: AppwriteStandIn['requests'] = [];
  const state: { delayMs: number; failStatus: number | undefined } = { delayMs: 0, failStatus: undefined };
  /** Session secret → user id, for sessions made by e-mail and password. */
  const sessions = new Map<string, string>();
  let nextSession = 1;
  /** JWT → user id, for JWTs made from a session; and JWTs no longer valid. */
  const issuedJwts = new Map<string, string>();
  const issued: string[] = [];
  const revoked = new Set<string>();
  const revokeAfterCheck = new Set<string>();
  const server: Server = createServer((req, res) => {
    const header = (n: string): string | undefined => {
      const v = req.headers[n];
      return Array.isArray(v) ? v[0] : v;
    };
    const url = new URL(req.url ?? '/', 'http://x');
    const origin = header('origin');
    if (origin) {
      // The web SDK sends credentialed requests (credentials: 'include') from the dashboard's origin.
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('access-control-expose-headers', 'X-Fallback-Cookies');
      res.setHeader('vary', 'origin');
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE',
        'access-control-allow-headers': header('access-control-request-headers') ?? '',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    requests.push({
      method: req.method ?? '',
      path: url.pathname,
      project: header('x-appwrite-project'),
      jwt: header('x-appwrite-jwt'),
      key: header('x-appwrite-key'),
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => setTimeout(() => answer(req, res, url, header, Buffer.concat(chunks).toString('utf8')), state.delayMs));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  /** The user of the session the web SDK sends back (X-Fallback-Cookies JSON, or a cookie). */
  function sessionUser(header: (n: string) => string | undefined): StandInUser | undefined {
    const name = `a_session_${PROJECT}`;
    let secret: string | undefined;
    try {
      secret = (JSON.parse(header('x-fallback-cookies') ?? '{}') as Record<string, string>)[name];
    } catch {
      secret = undefined;
    }
    secret ??= /(?:^|;\s*)a_session_[^=]+=([^;]+)/.exec(header('cookie') ?? '')?.[1];
    const id = secret ? sessions.get(secret) : undefined;
    return id ? users.find((u) => u.id === id) : undefined;
  }

  function answer(req: IncomingMessage, res: ServerResponse, url: URL, header: (n: string) => string | undefined, body: string): void {
    if (res.destroyed) return;
    if (state.failStatus !== undefined) return error(res, state.failStatus, 'general_server_error', 'Server Error');
    if (header('x-appwrite-project') !== PROJECT)
      return error(res, 404, 'project_not_found', 'Project with the requested ID could not be found.');
    if (req.method === 'POST' && url.pathname === '/v1/account/sessions/email') {
      let creds: { email?: string; password?: string } = {};
      try {
        creds = JSON.parse(body) as typeof creds;
      } catch {
        return error(res, 400, 'general_argument_invalid', 'Invalid JSON');
      }
      const u = users.find((x) => x.password !== undefined && x.email === creds.email && x.password === creds.password);
      if (!u) return error(res, 401, 'user_invalid_credentials', 'Invalid credentials. Please check the email and password.');
      const secret = `session-secret-${nextSession++}`;
      sessions.set(secret, u.id);
      res.setHeader('x-fallback-cookies', JSON.stringify({ [`a_session_${PROJECT}`]: secret }));
      return json(res, 201, { $id: `session-${nextSession}`, userId: u.id, provider: 'email', current: true, secret: '' });
    }
    if (req.method === 'POST' && url.pathname === '/v1/account/jwts') {
      const u = sessionUser(header);
      if (!u) return error(res, 401, 'general_unauthorized_scope', 'User (role: guests) missing scope (account)');
      // Each call makes a new JWT, as Appwrite does; the first is the user's fixed one.
      const jwt = issued.some((j) => issuedJwts.get(j) === u.id) ? `${u.jwt}.${issued.length + 1}` : u.jwt;
      issuedJwts.set(jwt, u.id);
      issued.push(jwt);
      return json(res, 201, { jwt });
    }
    if (req.method === 'DELETE' && url.pathname.startsWith('/v1/account/sessions/')) {
      res.writeHead(204).end();
      return;
    }
    const jwt = header('x-appwrite-jwt');
    const key = header('x-appwrite-key');
    const jwtUser = jwt && !revoked.has(jwt) ? (issuedJwts.get(jwt) ?? users.find((u) => u.jwt === jwt)?.id) : undefined;
    const user = jwtUser ? users.find((u) => u.id === jwtUser) : undefined;
    if (url.pathname === '/v1/account') {
      if (!jwt) return error(res, 401, 'general_unauthorized_scope', 'User (role: guests) missing scope (account)');
      if (!user) return error(res, 401, 'user_jwt_invalid', 'Failed to verify JWT. Invalid token: Incomplete segments');
      if (revokeAfterCheck.delete(jwt)) revoked.add(jwt);
      return json(res, 200, userDoc(user));
    }
    const team = /^\/v1\/teams\/([^/]+)\/memberships$/.exec(url.pathname);
    if (team) {
      if (!user) return error(res, 401, 'user_unauthorized', 'The current user is not authorized to perform the requested action.');
      const teamId = decodeURIComponent(team[1]!);
      // Appwrite hides a team from a user who is not in it.
      if (!memberships.some((m) => m.teamId === teamId && m.userId === user.id))
        return error(res, 404, 'team_not_found', 'Team with the requested ID could not be found.');
      let list = memberships.filter((m) => m.teamId === teamId);
      for (const [k, v] of url.searchParams) {
        if (!k.startsWith('queries[')) continue;
        const q = JSON.parse(v) as { method: string; attribute: string; values: string[] };
        if (q.method === 'equal' && q.attribute === 'userId') list = list.filter((m) => q.values.includes(m.userId));
      }
      return json(res, 200, { total: list.length, memberships: list.map(membershipDoc) });
    }
    const usersPath = /^\/v1\/users\/([^/]+)\/memberships$/.exec(url.pathname);
    if (usersPath) {
      if (key !== API_KEY) return error(res, 401, 'general_unauthorized_scope', 'User (role: guests) missing scope (users.read)');
      const list = memberships.filter((m) => m.userId === decodeURIComponent(usersPath[1]!));
      return json(res, 200, { total: list.length, memberships: list.map(membershipDoc) });
    }
    return error(res, 404, 'general_route_not_found', 'The requested route was not found.');
  }

  function userDoc(u: StandInUser): object {
    return {
      $id: u.id,
      $createdAt: '2026-01-01T00:00:00.000+00:00',
      $updatedAt: '2026-01-01T00:00:00.000+00:00',
      name: u.name ?? u.email.split('@')[0],
      registration: '2026-01-01T00:00:00.000+00:00',
      status: true,
      labels: [],
      passwordUpdate: '',
      email: u.email,
      phone: '',
      emailVerification: true,
      phoneVerification: false,
      mfa: false,
      prefs: {},
      targets: [],
      accessedAt: '2026-01-01T00:00:00.000+00:00',
    };
  }

  function membershipDoc(m: StandInMembership): object {
    const u = users.find((x) => x.id === m.userId);
    return {
      $id: `m-${m.userId}-${m.teamId}`,
      $createdAt: '2026-01-01T00:00:00.000+00:00',
      $updatedAt: '2026-01-01T00:00:00.000+00:00',
      userId: m.userId,
      userName: u?.name ?? '',
      userEmail: u?.email ?? '',
      teamId: m.teamId,
      teamName: m.teamId,
      invited: '2026-01-01T00:00:00.000+00:00',
      joined: m.confirm ? '2026-01-02T00:00:00.000+00:00' : '',
      confirm: m.confirm,
      mfa: false,
      roles: [...m.roles],
    };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}/v1`,
    requests,
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(ms: number) {
      state.delayMs = ms;
    },
    get failStatus() {
      return state.failStatus;
    },
    set failStatus(status: number | undefined) {
      state.failStatus = status;
    },
    issued,
    revokeJwt: (jwt) => void revoked.add(jwt),
    revokeJwtAfterNextCheck: (jwt) => void revokeAfterCheck.add(jwt),
    endSessions: () => sessions.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function json(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-appwrite-version': '1.9.5' }).end(JSON.stringify(body));
}

function error(res: ServerResponse, code: number, type: string, message: string): void {
  json(res, code, { message, code, type, version: '1.9.5' });
}
