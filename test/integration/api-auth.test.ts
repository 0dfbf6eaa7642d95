// Status API sign-in against a local server that speaks Appwrite's REST protocol (not a mock of our
// module): member, writer, a JWT Appwrite rejects, a user of another team, an unconfirmed invitation,
// Appwrite down and slow (503, never access), the admin credentials, rate limiting, and no secret in the logs.
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startAntenna, type TestAntenna } from '../helpers/antenna.js';
import { API_KEY, PROJECT, startAppwriteStandIn, type AppwriteStandIn } from '../helpers/appwrite-stand-in.js';
import { errorBody } from '../../src/api/schemas.js';

const TEAM = 'station-team';
const users = [
  { jwt: 'jwt-member-aaaaaaaaaaaaaaaa', id: 'u-member', email: 'member@example.org' },
  { jwt: 'jwt-writer-bbbbbbbbbbbbbbbb', id: 'u-writer', email: 'writer@example.org' },
  { jwt: 'jwt-owner-cccccccccccccccccc', id: 'u-owner', email: 'owner@example.org' },
  { jwt: 'jwt-stranger-dddddddddddddd', id: 'u-stranger', email: 'stranger@example.org' },
  { jwt: 'jwt-invited-eeeeeeeeeeeeeee', id: 'u-invited', email: 'invited@example.org' },
  { jwt: 'jwt-late-ffffffffffffffffff', id: 'u-late', email: 'late@example.org' },
];
const memberships = [
  { userId: 'u-member', teamId: TEAM, roles: ['member'], confirm: true },
  { userId: 'u-writer', teamId: TEAM, roles: ['member', 'admin'], confirm: true },
  { userId: 'u-owner', teamId: TEAM, roles: ['owner'], confirm: true },
  { userId: 'u-stranger', teamId: 'other-team', roles: ['owner'], confirm: true },
  { userId: 'u-invited', teamId: TEAM, roles: ['admin'], confirm: false },
  { userId: 'u-late', teamId: TEAM, roles: ['owner'], confirm: true },
];
const basic = (user: string, pw: string): string => 'Basic ' + Buffer.from(`${user}:${pw}`).toString('base64');
const ADMIN = basic('admin', ADMIN_PASSWORD);
const SMALL = { mounts: [{ mount: '/listen/live.mp3', codec: 'mp3', bitrate: 128_000 }], hlsTiers: [{ name: 'aac_64k', bitrate: 64_000 }] };

let appwrite: AppwriteStandIn;
let t: TestAntenna;
let base: string;
let logs = '';

async function call(
  path: string,
  init: { method?: string; auth?: string; jwtHeader?: string; body?: unknown } = {},
): Promise<{ status: number; body: Body }> {
  const headers: Record<string, string> = {};
  if (init.auth) headers.authorization = init.auth;
  if (init.jwtHeader) headers['x-appwrite-jwt'] = init.jwtHeader;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(base + path, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}
// Loosely typed: each test checks the fields it needs.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = any;
const bearer = (jwt: string): string => `Bearer ${jwt}`;
const release = { method: 'POST', body: { tier: null } };

beforeAll(async () => {
  appwrite = await startAppwriteStandIn(users, memberships);
  const sink = new PassThrough();
  sink.on('data', (b: Buffer) => (logs += b.toString()));
  t = await startAntenna(
    {
      ...SMALL,
      logLevel: 'info',
      appwriteEndpoint: appwrite.endpoint,
      appwriteProject: PROJECT,
      appwriteTeamId: TEAM,
      appwriteTimeoutMs: 600,
      authCacheSeconds: 30,
      authFailuresPerMinute: 50,
    },
    { logTo: sink, record: false },
  );
  base = `http://127.0.0.1:${t.antenna.ports.http}`;
});

afterAll(async () => {
  await t?.stop();
  await appwrite?.close();
});

describe('status API sign-in with Appwrite', () => {
  it('a confirmed member reads; writing needs a write role (403 says which)', async () => {
    const jwt = users[0]!.jwt;
    expect((await call('/api/status', { auth: bearer(jwt) })).status).toBe(200);
    const w = await call('/api/mixer/hold', { ...release, auth: bearer(jwt) });
    expect(w.status).toBe(403);
    expect(errorBody.parse(w.body).error.code).toBe('WRITE_ROLE_REQUIRED');
    expect(w.body.error.message).toMatch(/owner, admin/);
  });

  it('admin and owner roles write; X-Appwrite-JWT works like the bearer header', async () => {
    expect((await call('/api/mixer/hold', { ...release, auth: bearer(users[1]!.jwt) })).status).toBe(200);
    expect((await call('/api/mixer/hold', { ...release, jwtHeader: users[2]!.jwt })).status).toBe(200);
    // Node-appwrite sends the project on every request and the JWT as X-Appwrite-JWT.
    const seen = appwrite.requests.filter((r) => r.jwt === users[1]!.jwt);
    expect(seen.map((r) => r.path)).toEqual(['/v1/account', `/v1/teams/${TEAM}/memberships`]);
    expect(seen.every((r) => r.project === PROJECT)).toBe(true);
  });

  it('a JWT Appwrite rejects: 401 with the reason', async () => {
    const r = await call('/api/status', { auth: bearer('jwt-forged-zzzzzzzzzzzzzzzz') });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('AUTH_INVALID');
    expect(r.body.error.message).toMatch(/user_jwt_invalid/);
  });

  it('no credentials: 401 AUTH_REQUIRED', async () => {
    const r = await call('/api/events');
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('AUTH_REQUIRED');
  });

  it('a user of another team: 403 NOT_TEAM_MEMBER; an invitation not accepted: 403 MEMBERSHIP_NOT_CONFIRMED', async () => {
    const s = await call('/api/status', { auth: bearer(users[3]!.jwt) });
    expect(s.status).toBe(403);
    expect(s.body.error.code).toBe('NOT_TEAM_MEMBER');
    const i = await call('/api/status', { auth: bearer(users[4]!.jwt) });
    expect(i.status).toBe(403);
    expect(i.body.error.code).toBe('MEMBERSHIP_NOT_CONFIRMED');
  });

  it('a JWT that runs out between the account check and the team listing: 401 sign in again, not 403 not a member', async () => {
    const jwt = users[5]!.jwt;
    appwrite.revokeJwtAfterNextCheck(jwt);
    const r = await call('/api/status', { auth: bearer(jwt) });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('AUTH_INVALID');
    // The account was asked twice: once before the listing, once after it was refused.
    const asked = appwrite.requests.filter((q) => q.jwt === jwt).map((q) => q.path);
    expect(asked).toEqual(['/v1/account', `/v1/teams/${TEAM}/memberships`, '/v1/account']);
  });

  it('verdicts are cached: a second request does not ask Appwrite again', async () => {
    const before = appwrite.requests.length;
    expect((await call('/api/status', { auth: bearer(users[0]!.jwt) })).status).toBe(200);
    expect((await call('/api/status', { auth: bearer(users[4]!.jwt) })).status).toBe(403);
    expect(appwrite.requests.length).toBe(before);
  });

  it('Appwrite slow: 503 with the reason, never access, and the audio runs on', async () => {
    appwrite.delayMs = 2000;
    try {
      const frames = t.antenna.snapshot().mixer.framesProduced;
      const r = await call('/api/status', { auth: bearer('jwt-new-while-slow-ffffffff') });
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe('AUTH_UNAVAILABLE');
      expect(r.body.error.message).toMatch(/no answer within 600 ms/);
      expect(t.antenna.snapshot().mixer.framesProduced).toBeGreaterThan(frames);
    } finally {
      appwrite.delayMs = 0;
    }
  });

  it('Appwrite answering 500: 503 with its status, not cached, never access', async () => {
    appwrite.failStatus = 500;
    try {
      const r = await call('/api/status', { auth: bearer('jwt-new-while-broken-gggggg') });
      expect(r.status).toBe(503);
      expect(r.body.error.message).toMatch(/Appwrite answered 500 general_server_error/);
    } finally {
      appwrite.failStatus = undefined;
    }
  });

  it('the admin credentials open everything; a wrong password is 401', async () => {
    expect((await call('/api/status', { auth: ADMIN })).status).toBe(200);
    expect((await call('/api/mixer/hold', { ...release, auth: ADMIN })).status).toBe(200);
    const bad = await call('/api/status', { auth: basic('admin', 'wrong') });
    expect(bad.status).toBe(401);
    expect(bad.body.error.code).toBe('AUTH_INVALID');
  });

  it('operator actions name who did them in the timeline', async () => {
    const r = await call('/api/events', { auth: ADMIN });
    const holds = (r.body.events as { type: string; by?: string }[]).filter((e) => e.type === 'hold-released');
    expect(holds.map((e) => e.by)).toEqual(expect.arrayContaining(['writer@example.org', 'owner@example.org', 'admin']));
  });

  it('Appwrite down: 503, never 500, never access', async () => {
    const other = await startAntenna(
      {
        ...SMALL,
        appwriteEndpoint: 'http://127.0.0.1:9/v1',
        appwriteProject: PROJECT,
        appwriteTeamId: TEAM,
      },
      { record: false },
    );
    try {
      const r = await fetch(`http://127.0.0.1:${other.antenna.ports.http}/api/status`, {
        headers: { authorization: bearer(users[1]!.jwt) },
      });
      expect(r.status).toBe(503);
      const body = (await r.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('AUTH_UNAVAILABLE');
      expect(body.error.message).toMatch(/unreachable/);
    } finally {
      await other.stop();
    }
  });

  it('with an API key, memberships are read with it (GET /users/{id}/memberships)', async () => {
    const other = await startAntenna(
      { ...SMALL, appwriteEndpoint: appwrite.endpoint, appwriteProject: PROJECT, appwriteTeamId: TEAM, appwriteApiKey: API_KEY },
      { record: false },
    );
    try {
      const url = `http://127.0.0.1:${other.antenna.ports.http}`;
      const ok = await fetch(`${url}/api/mixer/hold`, {
        method: 'POST',
        headers: { authorization: bearer(users[2]!.jwt), 'content-type': 'application/json' },
        body: '{"tier":null}',
      });
      expect(ok.status).toBe(200);
      const stranger = await fetch(`${url}/api/status`, { headers: { authorization: bearer(users[3]!.jwt) } });
      expect(stranger.status).toBe(403);
      expect(appwrite.requests.some((r) => r.path === '/v1/users/u-owner/memberships' && r.key === API_KEY)).toBe(true);
    } finally {
      await other.stop();
    }
  });

  it('failed attempts are limited per address (429), and no JWT or password reaches the logs', async () => {
    const limited = await startAntenna({ ...SMALL, authFailuresPerMinute: 3 }, { record: false });
    try {
      const url = `http://127.0.0.1:${limited.antenna.ports.http}/api/status`;
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) codes.push((await fetch(url, { headers: { authorization: basic('admin', `guess${i}`) } })).status);
      expect(codes).toEqual([401, 401, 401, 429, 429]);
      // Even the right password waits out the minute from that address.
      expect((await fetch(url, { headers: { authorization: ADMIN } })).status).toBe(429);
    } finally {
      await limited.stop();
    }
    expect(logs).toContain('Appwrite rejected a JWT');
    for (const u of users) expect(logs).not.toContain(u.jwt);
    expect(logs).not.toContain('jwt-forged');
    expect(logs).not.toContain(ADMIN_PASSWORD);
    expect(logs).not.toContain(ADMIN.slice(6));
  });
});
