import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../helpers/listener.js';
import { SECRETS, startOutputs, type OutputsStack } from '../helpers/outputs-stack.js';

let s: OutputsStack;
let base: string;
const basic = (user: string, pass: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });
const ADMIN = basic('admin', SECRETS.adminPassword);
const SOURCE = basic('source', SECRETS.sourcePassword);

beforeAll(async () => {
  s = await startOutputs({
    mounts: [
      { mount: '/listen/live.mp3', codec: 'mp3', bitrate: 128_000 },
      { mount: '/listen/live-b.mp3', codec: 'mp3', bitrate: 128_000 },
      { mount: '/listen/live.ogg', codec: 'vorbis', quality: 2 },
    ],
  });
  base = `http://127.0.0.1:${s.port}`;
  await new Promise((r) => setTimeout(r, 500));
});
afterAll(async () => {
  await s?.close();
});

describe('/status-json.xsl', () => {
  it('is valid JSON in Icecast 2.4.4 shape', async () => {
    const l = listen(s.port, '/listen/live.mp3');
    await l.waitForBytes(1000);
    const res = await fetch(`${base}/status-json.xsl`);
    expect(res.headers.get('content-type')).toBe('application/json; charset=UTF-8');
    const text = await res.text();
    const j = JSON.parse(text) as { icestats: { server_start_iso8601: string; source: Record<string, unknown>[] } };
    expect(j.icestats.server_start_iso8601).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$/);
    expect(j.icestats.source).toHaveLength(3);
    const mp3 = j.icestats.source.find((x) => x.listenurl === `http://127.0.0.1:${s.port}/listen/live.mp3`);
    expect(mp3).toMatchObject({
      listeners: 1,
      server_type: 'audio/mpeg',
      bitrate: 128,
      title: 'First Title',
      server_name: 'Antenna',
      dummy: null,
    });
    expect(mp3).not.toHaveProperty('total_bytes_sent');
    const ogg = j.icestats.source.find((x) => x.server_type === 'application/ogg');
    expect(ogg).toMatchObject({ subtype: 'Vorbis', audio_samplerate: 44100, audio_bitrate: 96000 });
    expect(Object.keys(mp3 ?? {})).toEqual([...Object.keys(mp3 ?? {})].slice(0, -1).sort().concat('dummy'));
    l.close();
  });
});

describe('admin', () => {
  it('asks for credentials like Icecast', async () => {
    const res = await fetch(`${base}/admin/stats`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="Icecast2 Server"');
    expect((await fetch(`${base}/admin/stats`, { headers: SOURCE })).status).toBe(401); // global command: admin only
    expect((await fetch(`${base}/admin/listclients?mount=/listen/live.mp3`, { headers: SOURCE })).status).toBe(200);
  });

  it('stats and listmounts answer 2.4.4 XML, also under /icecast-admin', async () => {
    for (const prefix of ['/admin', '/icecast-admin']) {
      const res = await fetch(`${base}${prefix}/stats`, { headers: ADMIN });
      expect(res.headers.get('content-type')).toBe('text/xml; charset=utf-8');
      const xml = await res.text();
      expect(xml.startsWith('<?xml version="1.0"?>\n<icestats><admin>')).toBe(true);
      expect(xml).toContain('<source mount="/listen/live.mp3">');
      expect(xml).toContain('<max_listeners>unlimited</max_listeners>');
    }
    const lm = await (await fetch(`${base}/admin/listmounts`, { headers: ADMIN })).text();
    expect(lm).toMatch(
      /<source mount="\/listen\/live.ogg"><fallback><\/fallback><listeners>\d+<\/listeners><Connected>\d+<\/Connected><content-type>application\/ogg<\/content-type><\/source>/,
    );
  });

  it('listclients, killclient and moveclients act on real listeners', async () => {
    const a = listen(s.port, '/listen/live.mp3');
    const b = listen(s.port, '/listen/live.mp3');
    await a.waitForBytes(1000);
    await b.waitForBytes(1000);
    const xml = await (await fetch(`${base}/admin/listclients?mount=/listen/live.mp3`, { headers: ADMIN })).text();
    expect(xml).toContain('<Listeners>2</Listeners>');
    expect(xml).toContain('<UserAgent>AntennaTestListener/1.0</UserAgent>');
    const ids = [...xml.matchAll(/<ID>(\d+)<\/ID>/g)].map((m) => Number(m[1]));
    const kill = await (await fetch(`${base}/admin/killclient?mount=/listen/live.mp3&id=${ids[0]}`, { headers: ADMIN })).text();
    expect(kill).toContain(`<message>Client ${ids[0]} removed</message><return>1</return>`);
    expect(await (await fetch(`${base}/admin/killclient?mount=/listen/live.mp3&id=99999`, { headers: ADMIN })).text()).toContain(
      '<message>Client 99999 not found</message><return>0</return>',
    );
    const move = await (
      await fetch(`${base}/admin/moveclients?mount=/listen/live.mp3&destination=/listen/live-b.mp3`, { headers: ADMIN })
    ).text();
    expect(move).toContain('Clients moved from /listen/live.mp3 to /listen/live-b.mp3');
    expect(s.icecast.mounts.get('/listen/live-b.mp3')?.listeners.size).toBe(1);
    const at = b.audioBytes() + a.audioBytes();
    await new Promise((r) => setTimeout(r, 600));
    expect(a.audioBytes() + b.audioBytes()).toBeGreaterThan(at); // the moved listener keeps receiving
    expect((await fetch(`${base}/admin/moveclients?mount=/listen/live-b.mp3&destination=/listen/nope`, { headers: ADMIN })).status).toBe(
      400,
    );
    a.close();
    b.close();
  });

  it('metadata and killsource go through the injected actions', async () => {
    const res = await fetch(
      `${base}/admin/metadata?mode=updinfo&mount=%2flisten%2flive%2emp3&charset=UTF%2d8&song=%C3%84rtist%20%2D%20T%C3%AFtle`,
      { headers: SOURCE },
    );
    expect(await res.text()).toBe(
      '<?xml version="1.0"?>\n<iceresponse><message>Metadata update successful</message><return>1</return></iceresponse>\n',
    );
    expect(s.actionsLog).toContain('title /listen/live.mp3 Ärtist - Tïtle');
    await fetch(`${base}/admin/metadata?mode=updinfo&mount=/listen/live.mp3&charset=ISO-8859-1&title=T%EFtle&artist=%C4rtist`, {
      headers: ADMIN,
    });
    expect(s.actionsLog).toContain('title /listen/live.mp3 Ärtist - Tïtle');
    expect(await (await fetch(`${base}/admin/metadata?mode=other&mount=/listen/live.mp3&song=x`, { headers: ADMIN })).text()).toContain(
      'No such action',
    );
    const kill = await (await fetch(`${base}/admin/killsource?mount=/listen/live.mp3`, { headers: ADMIN })).text();
    expect(kill).toContain('<message>Source Removed</message>');
    expect(s.actionsLog).toContain('kick /listen/live.mp3');
    expect((await fetch(`${base}/admin/killsource?mount=/nope`, { headers: ADMIN })).status).toBe(400);
    expect((await fetch(`${base}/admin/frobnicate`, { headers: ADMIN })).status).toBe(400);
  });

  it('streamlist.txt answers an Icecast edge with relay credentials', async () => {
    const l = listen(s.port, '/admin/streamlist.txt', { headers: basic('relay', SECRETS.relayPassword) });
    const h = await l.head;
    expect(h.statusLine.startsWith('HTTP/1.1 200') || h.statusLine.startsWith('HTTP/1.0 200')).toBe(true);
    await l.closed.catch(() => undefined);
    const bodyText = l.audioBuffer().toString();
    expect(bodyText).toBe('/listen/live-b.mp3\r\n/listen/live.mp3\r\n/listen/live.ogg\r\n');
    expect((await fetch(`${base}/admin/streamlist.txt`, { headers: basic('relay', 'wrong') })).status).toBe(401);
  });
});
