// What the pages need from the server, on the real server (no browser, no web build): the public
// /api/config (no secret in it), /api/me for the admin and for Appwrite members of each role, the
// per-input peak level in the status, the OpenAPI document listing the new routes, and Icecast's HTML
// admin pages sending a browser to the dashboard while the XML commands keep answering XML.
import { describe, expect, it } from 'vitest';
import { meResponse, publicConfig, status } from '../../src/api/schemas.js';
import { ADMIN_PASSWORD, antennaFixture } from '../helpers/antenna.js';
import { API_KEY, PROJECT, startAppwriteStandIn } from '../helpers/appwrite-stand-in.js';
import { waitFor } from '../helpers/programme.js';

const ADMIN = 'Basic ' + Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64');
const SMALL = { mounts: [{ mount: '/listen/live.mp3', codec: 'mp3', bitrate: 128_000 }], hlsTiers: [{ name: 'aac_64k', bitrate: 64_000 }] };
const fx = antennaFixture();

async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${fx.t.antenna.ports.http}${path}`, { headers, redirect: 'manual' });
}

describe('the API the pages use', () => {
  it('/api/config is public and carries no secret; /api/me says who signed in; the status has peak and RMS per input', async () => {
    await fx.start(
      { ...SMALL, stationName: 'Radio Valley', stationDescription: 'news & music', returnHoldSeconds: 0 },
      { emergencyTone: 660, record: false },
    );
    const cfg = publicConfig.parse(await (await get('/api/config')).json());
    expect(cfg).toEqual({
      station: { name: 'Radio Valley', description: 'news & music', genre: 'various', url: '' },
      silenceThresholdDb: -50,
      appwrite: null,
    });
    expect((await get('/api/me')).status).toBe(401);
    expect(meResponse.parse(await (await get('/api/me', { authorization: ADMIN })).json())).toEqual({
      kind: 'admin',
      name: 'admin',
      roles: [],
      canWrite: true,
    });

    fx.source('primary', { frequency: 440 });
    await waitFor(() => fx.t.antenna.mixer.onAir === 'primary', 'primary on air');
    await new Promise((r) => setTimeout(r, 500));
    const st = status.parse(await (await get('/api/status', { authorization: ADMIN })).json());
    const p = st.inputs.find((i) => i.id === 'primary');
    // ffmpeg's sine source is at 1/8 scale: RMS ≈ −21 dBFS, peak ≈ −18 dBFS.
    expect(p?.levelDb).toBeGreaterThan(-30);
    expect((p?.peakDb ?? -120) - (p?.levelDb ?? 0)).toBeGreaterThan(2);

    const doc = (await (await get('/api/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/config', '/api/me']));
  });

  it('/api/config names the Appwrite endpoint and project (never the API key); /api/me gives each role', async () => {
    const users = [
      { jwt: 'jwt-owner-1', id: 'owner', email: 'owner@x.test' },
      { jwt: 'jwt-member-1', id: 'member', email: 'member@x.test' },
    ];
    const appwrite = await startAppwriteStandIn(users, [
      { userId: 'owner', teamId: 'team', roles: ['owner'], confirm: true },
      { userId: 'member', teamId: 'team', roles: ['member'], confirm: true },
    ]);
    fx.track({ close: () => appwrite.close() });
    await fx.start(
      {
        ...SMALL,
        appwriteEndpoint: appwrite.endpoint,
        appwriteProject: PROJECT,
        appwriteTeamId: 'team',
        appwriteApiKey: API_KEY,
      },
      { record: false },
    );
    const text = await (await get('/api/config')).text();
    expect(text).not.toContain(API_KEY);
    expect(publicConfig.parse(JSON.parse(text)).appwrite).toEqual({ endpoint: appwrite.endpoint, project: PROJECT });
    const me = async (jwt: string) => meResponse.parse(await (await get('/api/me', { authorization: `Bearer ${jwt}` })).json());
    expect(await me('jwt-owner-1')).toEqual({ kind: 'appwrite', name: 'owner@x.test', roles: ['owner'], canWrite: true });
    expect(await me('jwt-member-1')).toEqual({ kind: 'appwrite', name: 'member@x.test', roles: ['member'], canWrite: false });
  });

  it('a browser opening /admin/, /icecast-admin/ or an Icecast *.xsl page lands on the dashboard; XML commands are untouched', async () => {
    await fx.start(SMALL, { record: false });
    for (const path of ['/admin/', '/admin', '/icecast-admin/', '/admin/stats.xsl', '/icecast-admin/listmounts.xsl']) {
      const r = await get(path);
      expect(r.status, path).toBe(302);
      expect(r.headers.get('location'), path).toBe('/dashboard/');
    }
    const xml = await get('/admin/stats', { authorization: ADMIN });
    expect(xml.status).toBe(200);
    expect(await xml.text()).toMatch(/^<\?xml[^>]*>\s*<icestats>/);
    const unknown = await get('/admin/nosuchcommand', { authorization: ADMIN });
    expect(unknown.status).toBe(400);
  });
});
