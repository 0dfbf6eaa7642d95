import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAdtsHeader } from '../../src/codec/adts.js';
import { readMpegHeader } from '../../src/codec/mpeg.js';
import { readOggPage } from '../../src/codec/ogg.js';
import { decode, listen, toneOf } from '../helpers/listener.js';
import { startOutputs, type OutputsStack } from '../helpers/outputs-stack.js';

let s: OutputsStack;
beforeAll(async () => {
  s = await startOutputs({
    mounts: [
      { mount: '/listen/live.mp3', codec: 'mp3', bitrate: 320_000 },
      { mount: '/listen/live-128.mp3', codec: 'mp3', bitrate: 128_000, maxListeners: 1 },
      { mount: '/listen/live.aac', codec: 'aac', bitrate: 128_000 },
      { mount: '/listen/live-64.aac', codec: 'aac', bitrate: 64_000 },
      { mount: '/listen/live.ogg', codec: 'vorbis', quality: 6 },
      { mount: '/listen/live-96.ogg', codec: 'vorbis', quality: 2 },
    ],
  });
  await new Promise((r) => setTimeout(r, 2500)); // let the rings fill for the burst
});
afterAll(async () => {
  await s?.close();
});

describe('/listen/live.mp3', () => {
  it('answers like Icecast: HTTP/1.0, icy headers, no chunking, no length, frame-aligned burst', async () => {
    const l = listen(s.port, '/listen/live.mp3', { httpVersion: '1.1' });
    const h = await l.head;
    expect(h.statusLine).toBe('HTTP/1.0 200 OK');
    expect(h.headers['content-type']).toBe('audio/mpeg');
    expect(h.headers['icy-br']).toBe('320');
    expect(h.headers['icy-name']).toBe('Antenna');
    expect(h.headers['ice-audio-info']).toBe('ice-bitrate=320;ice-channels=2;ice-samplerate=44100');
    expect(h.headers['transfer-encoding']).toBeUndefined();
    expect(h.headers['content-length']).toBeUndefined();
    expect(h.headers['icy-metaint']).toBeUndefined();
    expect(h.headers['access-control-allow-origin']).toBe('*');
    expect(h.headers['access-control-expose-headers']).toContain('Icy-MetaInt');
    expect(h.rawHead).toContain('\r\nicy-br:320\r\n');
    expect(h.headers['cache-control']).toBe('no-cache, no-store');
    // The burst: about 2 s of 320 kbit/s at once, starting on a frame header.
    await l.waitForBytes(60_000, 3000);
    const b = l.audioBuffer();
    expect(readMpegHeader(b)).toBeDefined();
    l.close();
    const d = await decode(b);
    expect(d.info).toMatchObject({ codec: 'mp3', sampleRate: 44100, kbps: 320 });
    const tone = toneOf(d.pcm.subarray(44100 * 4 * 0.2));
    expect(tone.rms).toBeGreaterThan(0.1);
    expect(Math.abs(tone.hz - 440)).toBeLessThan(15);
  });
});

describe('every mount', () => {
  const cases = [
    ['/listen/live-128.mp3', 'mp3', 128, 'audio/mpeg'],
    ['/listen/live.aac', 'aac', 128, 'audio/aac'],
    ['/listen/live-64.aac', 'aac', 64, 'audio/aac'],
    ['/listen/live.ogg', 'vorbis', 192, 'application/ogg'],
    ['/listen/live-96.ogg', 'vorbis', 96, 'application/ogg'],
  ] as const;
  it.each(cases)('%s decodes as %s at 44.1 kHz from its first byte', async (path, codec, kbps, type) => {
    const l = listen(s.port, path);
    const h = await l.head;
    expect(h.status).toBe(200);
    expect(h.headers['content-type']).toBe(type);
    expect(h.headers['icy-br']).toBe(String(kbps));
    await l.waitForBytes(8000, 5000);
    await new Promise((r) => setTimeout(r, 1000));
    const b = l.audioBuffer();
    l.close();
    if (codec === 'mp3') expect(readMpegHeader(b)).toBeDefined();
    if (codec === 'aac') expect(readAdtsHeader(b)).toBeDefined();
    if (codec === 'vorbis') expect(readOggPage(b)).toMatchObject({ bos: true });
    const d = await decode(b);
    expect(d.info.codec).toBe(codec);
    expect(d.info.sampleRate).toBe(44100);
    if (codec !== 'aac') expect(d.info.kbps).toBe(kbps); // raw ADTS has no nominal bitrate to report
    expect(d.pcm.length).toBeGreaterThan(44100 * 4); // more than a second: the burst plus real time
    expect(toneOf(d.pcm.subarray(d.pcm.length - 44100 * 2)).rms).toBeGreaterThan(0.1);
  });
});

describe('around the stream', () => {
  it('HEAD answers the headers only; OPTIONS answers the CORS preflight', async () => {
    const res = await fetch(`http://127.0.0.1:${s.port}/listen/live.mp3`, { method: 'HEAD', headers: { 'Icy-MetaData': '1' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('icy-metaint')).toBe('16000');
    const pre = await fetch(`http://127.0.0.1:${s.port}/listen/live.mp3`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://x', 'Access-Control-Request-Headers': 'icy-metadata' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-headers')).toContain('Icy-MetaData');
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('unknown mount: Icecast 404 page', async () => {
    const res = await fetch(`http://127.0.0.1:${s.port}/listen/nope.mp3`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('<b>404 - The file you requested could not be found</b>');
  });

  it('max-listeners per mount: 403 "max listeners reached", served again after the listener leaves', async () => {
    const a = listen(s.port, '/listen/live-128.mp3');
    expect((await a.head).status).toBe(200);
    const b = listen(s.port, '/listen/live-128.mp3');
    expect((await b.head).statusLine).toBe('HTTP/1.0 403 Forbidden');
    await b.closed;
    expect(Buffer.concat(b.audio).toString()).toContain('max listeners reached');
    a.close();
    await new Promise((r) => setTimeout(r, 100));
    const c = listen(s.port, '/listen/live-128.mp3');
    expect((await c.head).status).toBe(200);
    c.close();
  });

  it('m3u and xspf playlists point at the mount', async () => {
    const m3u = await fetch(`http://127.0.0.1:${s.port}/listen/live.aac.m3u`);
    expect(m3u.headers.get('content-type')).toBe('audio/x-mpegurl');
    expect(await m3u.text()).toBe(`http://127.0.0.1:${s.port}/listen/live.aac\r\n`);
    const xspf = await fetch(`http://127.0.0.1:${s.port}/listen/live.ogg.xspf`);
    expect(await xspf.text()).toContain(`<location>http://127.0.0.1:${s.port}/listen/live.ogg</location>`);
  });
});
