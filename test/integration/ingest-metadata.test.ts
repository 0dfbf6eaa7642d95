// Metadata updates on the source ports, replayed from the captures (libshout, Liquidsoap, BUTT in both
// modes): Icecast's exact replies, titles decoded in every charset seen, routed to the right input.
import { describe, expect, it } from 'vitest';
import { clientSegments, serverSegments } from '../fixtures/captures/load.js';
import { rawExchange, startShoutcastClient, startSourceClient } from '../helpers/source-client.js';
import { ADMIN_PASSWORD, pcmOf, ingestFixture, SOURCE_PASSWORD, type Recorded } from './ingest-harness.js';

const { ingest, track } = ingestFixture();

const noDate = (b: Buffer): string => b.toString('latin1').replace(/Date: [^\r]*/, 'Date: X');
const request = (name: string): Buffer => clientSegments(name)[0] as Buffer;
const captured = (name: string): string => noDate(serverSegments(name)[0] as Buffer);

async function waitStreaming(rec: Recorded, n: number): Promise<void> {
  await rec.waitFor(
    `${n} sources decoding`,
    () => rec.all('source-connected').length >= n && rec.all('source-connected').every((c) => pcmOf(rec, c.info.connectionId) > 0),
  );
}

describe('ingest metadata updates', () => {
  it("BUTT Icecast mode: raw UTF-8 title, routed by mount even when sent to the other input's port", async () => {
    const rec = await ingest();
    const a = startSourceClient({ port: rec.ingest.ports.primary, password: SOURCE_PASSWORD, mount: '/butt.mp3' });
    const b = startSourceClient({ port: rec.ingest.ports.fallback, password: SOURCE_PASSWORD, mount: '/other.mp3' });
    track(a);
    track(b);
    await waitStreaming(rec, 2);
    const reply = await rawExchange(rec.ingest.ports.fallback, request('butt0.1.37_icecast__ffmpeg.64'));
    expect(noDate(reply)).toBe(captured('butt0.1.37_icecast__ffmpeg.64'));
    expect(rec.all('metadata')).toEqual([{ inputId: 'primary', title: 'Bütt Song - Title' }]);
    expect(rec.ingest.snapshot().inputs.primary.title).toBe('Bütt Song - Title');
  });

  it('libshout: 401 without credentials, then success (empty song)', async () => {
    const rec = await ingest();
    expect(noDate(await rawExchange(rec.ingest.ports.primary, request('ezstream1.0.2_libshout2.4.6__ffmpeg.44')))).toBe(
      captured('ezstream1.0.2_libshout2.4.6__ffmpeg.44'),
    );
    expect(rec.all('metadata')).toHaveLength(0);
    expect(noDate(await rawExchange(rec.ingest.ports.primary, request('ezstream1.0.2_libshout2.4.6__ffmpeg.45')))).toBe(
      captured('ezstream1.0.2_libshout2.4.6__ffmpeg.45'),
    );
    expect(rec.all('metadata')).toEqual([{ inputId: 'primary', title: '' }]);
  });

  it('Liquidsoap: UTF-8 with charset; with no source on that mount the port decides the input', async () => {
    const rec = await ingest();
    const reply = await rawExchange(rec.ingest.ports.fallback, request('liquidsoap2.1.3_outputs__ffmpeg.54'));
    expect(noDate(reply)).toBe(captured('liquidsoap2.1.3_outputs__ffmpeg.54'));
    expect(rec.all('metadata')).toEqual([{ inputId: 'fallback', title: 'Ärtist - Tïtle One' }]);
  });

  it('Shoutcast admin.cgi at the base port goes to the Shoutcast source (BUTT raw UTF-8, Liquidsoap Latin-1)', async () => {
    const rec = await ingest();
    const sc = await startShoutcastClient({ port: rec.ingest.ports.fallbackShoutcast, password: SOURCE_PASSWORD });
    track(sc);
    await waitStreaming(rec, 1);
    const reply = await rawExchange(rec.ingest.ports.primary, request('butt0.1.37_shoutcast__ffmpeg.59'));
    expect(noDate(reply)).toBe(captured('butt0.1.37_shoutcast__ffmpeg.59'));
    expect(rec.all('metadata')[0]).toEqual({ inputId: 'fallback', title: 'Bütt SC Song' });
    await rawExchange(rec.ingest.ports.fallback, request('liquidsoap2.1.3_icy__ffmpeg.55'));
    expect(rec.all('metadata')[1]).toEqual({ inputId: 'fallback', title: 'Ärtist - Tïtle One' });
  });

  it('admin credentials work; wrong ones get 401; other modes get "No such action"', async () => {
    const rec = await ingest();
    const get = (target: string, user: string, pw: string): Buffer =>
      Buffer.from(`GET ${target} HTTP/1.0\r\nAuthorization: Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}\r\n\r\n`);
    const ok = await rawExchange(
      rec.ingest.ports.primary,
      get('/admin/metadata?mode=updinfo&mount=/x&title=T&artist=A', 'admin', ADMIN_PASSWORD),
    );
    expect(ok.toString()).toContain('<message>Metadata update successful</message><return>1</return>');
    expect(rec.all('metadata')).toEqual([{ inputId: 'primary', title: 'A - T' }]);
    expect((await rawExchange(rec.ingest.ports.primary, get('/admin/metadata?mode=updinfo&song=x', 'admin', 'nope'))).toString()).toMatch(
      /^HTTP\/1\.0 401 /,
    );
    expect((await rawExchange(rec.ingest.ports.primary, get('/admin.cgi?pass=nope&mode=updinfo&song=x', 'x', 'y'))).toString()).toMatch(
      /^HTTP\/1\.0 401 /,
    );
    const other = await rawExchange(rec.ingest.ports.primary, get('/admin/metadata?mode=other&song=x', 'source', SOURCE_PASSWORD));
    expect(other.toString()).toContain('<message>No such action</message><return>0</return>');
    expect(rec.all('metadata')).toHaveLength(1);
  });
});
