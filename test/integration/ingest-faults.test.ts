// What goes wrong on source ports, with real clients on loopback: bad passwords, a busy input, stalls,
// silence on the wire, garbage audio, oversized or missing heads, too many connections.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { clientSegments, serverSegments } from '../fixtures/captures/load.js';
import { rawExchange, startShoutcastClient, startSourceClient } from '../helpers/source-client.js';
import { pcmOf, sleep, ingestFixture, SOURCE_PASSWORD, type Recorded } from './ingest-harness.js';

const { ingest, track } = ingestFixture();

const sourceHead = (password = SOURCE_PASSWORD, extra = ''): string =>
  `SOURCE /live HTTP/1.0\r\nAuthorization: Basic ${Buffer.from(`source:${password}`).toString('base64')}\r\nContent-Type: audio/mpeg\r\n${extra}\r\n`;

async function streaming(rec: Recorded, n = 1) {
  return rec.waitFor(`${n} source(s) with PCM`, () => {
    const c = rec.all('source-connected')[n - 1];
    return c && pcmOf(rec, c.info.connectionId) > 0 ? c.info : undefined;
  });
}

describe('ingest faults', () => {
  it('wrong password: 401 with WWW-Authenticate, the ffmpeg client gives up', async () => {
    const rec = await ingest();
    const reply = (await rawExchange(rec.ingest.ports.primary, sourceHead('nope'))).toString();
    expect(reply).toMatch(/^HTTP\/1\.0 401 Authentication Required\r\n/);
    expect(reply).toContain('WWW-Authenticate: Basic realm="Icecast2 Server"\r\n');
    const src = track(startSourceClient({ port: rec.ingest.ports.primary, password: 'wrong' }));
    const exit = await src.exited;
    expect(exit.code).not.toBe(0);
    expect(rec.all('rejected').every((r) => r.code === 'SOURCE_AUTH_FAILED')).toBe(true);
    expect(rec.all('source-connected')).toHaveLength(0);
  });

  it('wrong Shoutcast password: closed without a word, as Icecast does', async () => {
    const rec = await ingest();
    await expect(startShoutcastClient({ port: rec.ingest.ports.primaryShoutcast, password: 'nope' })).rejects.toThrow(/closed/);
    expect(rec.all('rejected')[0]?.code).toBe('SOURCE_AUTH_FAILED');
  });

  it('busy input: 403 Mountpoint in use, the first source plays on', async () => {
    const rec = await ingest();
    track(startSourceClient({ port: rec.ingest.ports.primary, password: SOURCE_PASSWORD }));
    const first = await streaming(rec);
    const reply = (await rawExchange(rec.ingest.ports.primary, sourceHead())).toString();
    expect(reply).toMatch(/^HTTP\/1\.0 403 Forbidden\r\n/);
    expect(reply.endsWith('\r\n\r\nMountpoint in use')).toBe(true);
    expect(rec.all('rejected')[0]?.code).toBe('SOURCE_MOUNT_IN_USE');
    const before = pcmOf(rec, first.connectionId);
    await sleep(300);
    expect(pcmOf(rec, first.connectionId)).toBeGreaterThan(before);
    expect(rec.all('source-disconnected')).toHaveLength(0);
  });

  it('a stalled source (TCP open, no data past stallMs) is replaced by a new connection', async () => {
    const rec = await ingest({ stallMs: 300 });
    const old = track(startSourceClient({ port: rec.ingest.ports.primary, password: SOURCE_PASSWORD, frequency: 440 }));
    const first = await streaming(rec);
    old.pause();
    await sleep(800);
    track(startSourceClient({ port: rec.ingest.ports.primary, password: SOURCE_PASSWORD, frequency: 880 }));
    const second = await streaming(rec, 2);
    expect(second.connectionId).not.toBe(first.connectionId);
    const gone = await rec.waitFor('old source replaced', () => rec.all('source-disconnected')[0]);
    expect(gone).toMatchObject({ reason: 'replaced', info: { connectionId: first.connectionId } });
    expect(rec.ingest.snapshot().inputs.primary.connectionId).toBe(second.connectionId);
    old.resume();
  });

  it('a source that sends nothing for sourceTimeoutS is dropped (source-timeout)', async () => {
    const rec = await ingest({ sourceTimeoutS: 1 });
    const src = track(startSourceClient({ port: rec.ingest.ports.primary, password: SOURCE_PASSWORD }));
    await streaming(rec);
    src.pause();
    const gone = await rec.waitFor('source-timeout', () => rec.all('source-disconnected')[0], 5000);
    expect(gone.reason).toBe('source-timeout');
    expect(rec.ingest.snapshot().inputs.primary.state).toBe('idle');
    src.resume();
  });

  it('garbage audio ends that connection only; the other input keeps decoding', async () => {
    const rec = await ingest();
    track(startSourceClient({ port: rec.ingest.ports.fallback, password: SOURCE_PASSWORD }));
    const other = await streaming(rec);
    // Unsniffable bytes: refused once the sniff limit is reached.
    const unsniffable = await rawExchange(rec.ingest.ports.primary, [sourceHead(), randomBytes(70_000)], { gapMs: 20 });
    expect(unsniffable.toString()).toBe('HTTP/1.0 200 OK\r\n\r\n');
    await rec.waitFor('unsupported format', () => rec.all('decoder-error').find((e) => e.fault.code === 'SOURCE_UNSUPPORTED_FORMAT'));
    // Sniffs as Ogg, but ffmpeg cannot decode it: the decoder dies and the connection ends.
    const fakeOgg = Buffer.concat([Buffer.from('OggS'), randomBytes(30_000)]);
    await rawExchange(rec.ingest.ports.primary, [sourceHead(), fakeOgg], { gapMs: 20, timeoutMs: 8000 });
    const failed = await rec.waitFor('decoder failure', () => rec.all('decoder-error').find((e) => e.fault.code === 'DECODER_FAILED'));
    expect(failed.inputId).toBe('primary');
    const before = pcmOf(rec, other.connectionId);
    await sleep(300);
    expect(pcmOf(rec, other.connectionId)).toBeGreaterThan(before);
    expect(rec.ingest.snapshot().inputs.fallback.state).toBe('streaming');
  });

  it('oversized head: 431 and a log line, connection closed', async () => {
    const rec = await ingest({ maxHeaderBytes: 1024 });
    const reply = (await rawExchange(rec.ingest.ports.primary, sourceHead(SOURCE_PASSWORD, `X-Pad: ${'a'.repeat(2000)}\r\n`))).toString();
    expect(reply).toMatch(/^HTTP\/1\.0 431 /);
    expect(rec.all('rejected')[0]?.code).toBe('SOURCE_HEADER_TOO_LARGE');
  });

  it('a client that connects and sends nothing: 408 after the header timeout', async () => {
    const rec = await ingest({ headerTimeoutMs: 300 });
    const t0 = Date.now();
    const reply = (await rawExchange(rec.ingest.ports.primary, [])).toString();
    expect(reply).toMatch(/^HTTP\/1\.0 408 /);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(rec.all('rejected')[0]?.code).toBe('SOURCE_HEADER_TIMEOUT');
  });

  it('at the per-port cap the oldest idle connection is closed, never the newcomer (issue 13 §2)', async () => {
    const rec = await ingest({ maxSourceConnections: 2 });
    const idle = [0, 1].map(() => net.connect(rec.ingest.ports.primary, '127.0.0.1'));
    track({ kill: async () => idle.forEach((s) => s.destroy()) });
    await Promise.all(idle.map((s) => new Promise((r) => s.once('connect', r))));
    const firstClosed = new Promise((r) => idle[0]?.once('close', r));
    await sleep(100);
    const src = track(startSourceClient({ port: rec.ingest.ports.primary, password: SOURCE_PASSWORD }));
    await streaming(rec);
    await firstClosed;
    expect(idle[1]?.destroyed).toBe(false);
    expect(src.proc.exitCode).toBeNull();
    expect(rec.ingest.snapshot().connections[0]?.shed).toBeGreaterThanOrEqual(1);
  });

  it("BUTT's status polls on the source port get Icecast's 404", async () => {
    const rec = await ingest();
    for (const n of [57, 58, 63]) {
      const name = n === 63 ? 'butt0.1.37_icecast__ffmpeg.63' : `butt0.1.37_shoutcast__ffmpeg.${n}`;
      const reply = await rawExchange(rec.ingest.ports.primary, clientSegments(name)[0] as Buffer);
      const expected = serverSegments('butt0.1.37_shoutcast__ffmpeg.57')[0] as Buffer;
      expect(reply.toString().replace(/Date: [^\r]*/, '')).toBe(expected.toString().replace(/Date: [^\r]*/, ''));
    }
  });

  it('kick and close report their reasons', async () => {
    const rec = await ingest();
    track(startSourceClient({ port: rec.ingest.ports.primary, password: SOURCE_PASSWORD }));
    track(startSourceClient({ port: rec.ingest.ports.fallback, password: SOURCE_PASSWORD }));
    await streaming(rec, 2);
    expect(await rec.ingest.kick('primary')).toBe(true);
    expect(rec.all('source-disconnected')[0]?.reason).toBe('kicked');
    expect(await rec.ingest.kick('primary')).toBe(false);
    await rec.ingest.close();
    expect(rec.all('source-disconnected')[1]).toMatchObject({ reason: 'shutdown', inputId: 'fallback' });
    await rec.ingest.close(); // idempotent
  });
});
