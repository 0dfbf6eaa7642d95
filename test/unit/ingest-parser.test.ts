// The source-port parsers fed with every captured client request (test/fixtures/captures: real bytes
// from ffmpeg, libshout/ezstream, DarkIce, BUTT and Liquidsoap talking to Icecast 2.4.4).
import { describe, expect, it } from 'vitest';
import { Dechunker } from '../../src/ingest/chunked.js';
import {
  firstLine,
  isRequestLine,
  parseRequestHead,
  parseShoutcastHeaders,
  parseShoutcastPassword,
  splitTarget,
} from '../../src/ingest/head-parser.js';
import { parseMetadataQuery } from '../../src/ingest/metadata.js';
import { basicCredentials } from '../../src/util/request.js';
import { captureNames, clientSegments } from '../fixtures/captures/load.js';

const MAX = 16_384;

/** Feeds segments one by one, as they arrived, until the head is complete. */
function headFrom(segments: Buffer[]) {
  let buf = Buffer.alloc(0);
  for (const [i, seg] of segments.entries()) {
    buf = Buffer.concat([buf, seg]);
    const r = parseRequestHead(buf, MAX);
    if (r.status === 'complete') return { ...r, segmentsUsed: i + 1 };
    expect(r.status).toBe('incomplete');
  }
  throw new Error('head never completed');
}

const HTTP_CAPTURES = captureNames().filter((n) => !n.includes('__icy.'));

describe('request head parser on every captured HTTP request', () => {
  it.each(HTTP_CAPTURES)('%s', (name) => {
    const segs = clientSegments(name);
    const r = headFrom(segs);
    expect(['SOURCE', 'PUT', 'GET', 'OPTIONS']).toContain(r.value.method);
    expect(r.value.version).toMatch(/^(HTTP\/1\.[01]|ICE\/1\.0)$/);
    // Whatever came after the head in the same packet is body, byte for byte.
    const whole = Buffer.concat(segs.slice(0, r.segmentsUsed));
    expect(whole.subarray(whole.length - r.body.length).equals(r.body)).toBe(true);
  });

  it('is never complete before the blank line, whichever byte the head is split at', () => {
    for (const name of ['darkice1.3__ffmpeg.46', 'ffmpeg5.1_put__ffmpeg.35', 'liquidsoap2.1.3_outputs__ffmpeg.49']) {
      const full = headFrom(clientSegments(name));
      const bytes = Buffer.concat(clientSegments(name)).subarray(
        0,
        full.value ? Buffer.concat(clientSegments(name).slice(0, full.segmentsUsed)).length - full.body.length : 0,
      );
      for (let cut = 1; cut < bytes.length; cut++) expect(parseRequestHead(bytes.subarray(0, cut), MAX).status).toBe('incomplete');
      expect(parseRequestHead(bytes, MAX).status).toBe('complete');
    }
  });

  it('ffmpeg legacy SOURCE: HTTP/1.1, audio in the same packet as the head', () => {
    const r = headFrom(clientSegments('ffmpeg5.1_legacy_source__ffmpeg.36'));
    expect(r.value.method).toBe('SOURCE');
    expect(r.value.version).toBe('HTTP/1.1');
    expect(r.body.length).toBe(880);
    expect(r.body.subarray(0, 3).toString()).toBe('ID3');
    expect(basicCredentials(r.value.headers.get('authorization'))).toEqual({ user: 'source', password: 'hackme' });
  });

  it('ffmpeg PUT: Expect 100-continue, mixed-case header names', () => {
    const r = headFrom(clientSegments('ffmpeg5.1_put__ffmpeg.35'));
    expect(r.value.method).toBe('PUT');
    expect(r.value.target).toBe('/ff.mp3');
    expect(r.value.headers.get('expect')).toBe('100-continue');
    expect(r.value.headers.get('ice-name')).toBe('Test Name');
    expect(r.value.headers.get('ice-url')).toBe('http://example.org');
    expect(r.body.length).toBe(0);
  });

  it('DarkIce: bare-LF header lines, head split mid-value across two packets', () => {
    const segs = clientSegments('darkice1.3__ffmpeg.46');
    expect(parseRequestHead(segs[0] as Buffer, MAX).status).toBe('incomplete');
    const r = headFrom(segs);
    expect(r.segmentsUsed).toBe(2);
    expect(r.value.version).toBe('HTTP/1.0');
    expect(r.value.headers.get('content-type')).toBe('audio/mpeg');
    expect(r.value.headers.get('ice-url')).toBe('http://dark.example');
    expect(r.value.headers.get('ice-genre')).toBe('DarkGenre');
    expect(r.value.headers.get('user-agent')).toBe('DarkIce/1.3 (http://code.google.com/p/darkice/)');
  });

  it('libshout probe: OPTIONS *, GET /admin/!POKE, SOURCE without credentials', () => {
    expect(headFrom(clientSegments('ezstream1.0.2_libshout2.4.6__ffmpeg.38')).value).toMatchObject({ method: 'OPTIONS', target: '*' });
    expect(headFrom(clientSegments('ezstream1.0.2_libshout2.4.6__ffmpeg.39')).value).toMatchObject({
      method: 'GET',
      target: '/admin/!POKE',
    });
    const probe = headFrom(clientSegments('ezstream1.0.2_libshout2.4.6__ffmpeg.40')).value;
    expect(probe.method).toBe('SOURCE');
    expect(probe.headers.has('authorization')).toBe(false);
    expect(probe.headers.get('content-length')).toBe('0');
  });

  it('Liquidsoap chunked PUT: empty Host header kept as empty', () => {
    const r = headFrom(clientSegments('liquidsoap2.1.3_outputs__ffmpeg.49'));
    expect(r.value.headers.get('host')).toBe('');
    expect(r.value.headers.get('transfer-encoding')).toBe('chunked');
  });

  it('reports too-large heads at the limit and bad request lines', () => {
    const big = Buffer.from('SOURCE /x HTTP/1.0\r\nX-Pad: ' + 'a'.repeat(2000));
    expect(parseRequestHead(big, 1024).status).toBe('too-large');
    expect(parseRequestHead(Buffer.from('SOURCE /x HTTP/1.0\r\nA: b\r\n\r\n'), 10).status).toBe('too-large');
    expect(parseRequestHead(Buffer.from('hello there\r\n\r\n'), MAX).status).toBe('bad');
  });
});

describe('Shoutcast v1 password line', () => {
  it('BUTT: password and headers in one packet, before OK2', () => {
    const seg = clientSegments('butt0.1.37_shoutcast__icy.5')[0] as Buffer;
    expect(isRequestLine(firstLine(seg) ?? '')).toBe(false);
    const pw = parseShoutcastPassword(seg, MAX);
    if (pw.status !== 'complete') throw new Error(pw.status);
    expect(pw.value).toBe('hackme');
    const h = parseShoutcastHeaders(pw.body, MAX);
    if (h.status !== 'complete') throw new Error(h.status);
    expect(h.value.get('icy-name')).toBe('Info');
    expect(h.value.get('icy-br')).toBe('128');
    expect(h.value.get('content-type')).toBe('audio/mpeg');
    expect(h.body.length).toBe(0);
  });

  it('Liquidsoap ICY: password alone, headers after OK2', () => {
    for (const name of ['liquidsoap2.1.3_icy__icy.4', 'liquidsoap2.1.3_outputs__icy.3']) {
      const [pwSeg, headSeg] = clientSegments(name) as [Buffer, Buffer];
      const pw = parseShoutcastPassword(pwSeg, MAX);
      expect(pw).toMatchObject({ status: 'complete', value: 'hackme' });
      expect(parseShoutcastHeaders(headSeg.subarray(0, 10), MAX).status).toBe('incomplete');
      const h = parseShoutcastHeaders(headSeg, MAX);
      if (h.status !== 'complete') throw new Error(h.status);
      expect(h.value.get('content-type')).toBe('audio/mpeg');
    }
  });

  it('accepts \\r\\r\\n, \\r\\n and \\n terminators', () => {
    for (const t of ['\r\r\n', '\r\n', '\n'])
      expect(parseShoutcastPassword(Buffer.from(`pw${t}icy-br:1\r\n\r\n`), MAX)).toMatchObject({ value: 'pw' });
    expect(parseShoutcastPassword(Buffer.from('pw'), MAX).status).toBe('incomplete');
  });

  it('tells request lines from passwords', () => {
    expect(isRequestLine('SOURCE /m ICE/1.0')).toBe(true);
    expect(isRequestLine('GET /admin/!POKE HTTP/1.1')).toBe(true);
    expect(isRequestLine('hackme')).toBe(false);
    expect(isRequestLine('pass word with spaces')).toBe(false);
  });
});

describe('metadata updates as captured', () => {
  const query = (name: string): string => {
    const r = headFrom(clientSegments(name));
    return splitTarget(r.value.target).query;
  };
  it('BUTT Icecast mode: raw UTF-8 in the target, no charset', () => {
    expect(parseMetadataQuery(query('butt0.1.37_icecast__ffmpeg.64'))).toMatchObject({
      mode: 'updinfo',
      mount: '/butt.mp3',
      title: 'Bütt Song - Title',
    });
  });
  it('BUTT Shoutcast mode admin.cgi', () => {
    expect(parseMetadataQuery(query('butt0.1.37_shoutcast__ffmpeg.59'))).toMatchObject({
      mode: 'updinfo',
      pass: 'hackme',
      title: 'Bütt SC Song',
    });
  });
  it('Liquidsoap ICY: Latin-1 percent-encoding without charset', () => {
    expect(parseMetadataQuery(query('liquidsoap2.1.3_icy__ffmpeg.55')).title).toBe('Ärtist - Tïtle One');
  });
  it('Liquidsoap Icecast: UTF-8 with charset=UTF-8, song wins over title/artist', () => {
    expect(parseMetadataQuery(query('liquidsoap2.1.3_outputs__ffmpeg.54'))).toMatchObject({
      mount: '/liq.mp3',
      title: 'Ärtist - Tïtle One',
    });
  });
  it('libshout: escaped mount and charset, empty song', () => {
    expect(parseMetadataQuery(query('ezstream1.0.2_libshout2.4.6__ffmpeg.45'))).toMatchObject({ mount: '/ez.mp3', title: '' });
  });
  it('title + artist without song; explicit Latin-1 charset', () => {
    expect(parseMetadataQuery('mode=updinfo&title=T&artist=A').title).toBe('A - T');
    expect(parseMetadataQuery('mode=updinfo&charset=ISO-8859-1&song=%C3%A9').title).toBe('Ã©');
    expect(parseMetadataQuery('mode=updinfo&song=a+b').title).toBe('a+b');
  });
});

describe('de-chunker', () => {
  it('Liquidsoap chunked PUT body: payload is the MP3 frames', () => {
    const segs = clientSegments('liquidsoap2.1.3_outputs__ffmpeg.49').slice(1, 3);
    const d = new Dechunker();
    const out = Buffer.concat(segs.flatMap((s) => d.push(s)));
    expect(d.error).toBeUndefined();
    expect(out.length).toBe(0x2f5 + 0xac);
    expect(out[0]).toBe(0xff);
  });

  it('gives the same payload whatever the packet boundaries', () => {
    const payload = Buffer.from(Array.from({ length: 3000 }, (_, i) => i & 0xff));
    const wire = Buffer.concat([
      Buffer.from('3E8;ext=1\r\n'),
      payload.subarray(0, 1000),
      Buffer.from('\r\n7d0\r\n'),
      payload.subarray(1000),
      Buffer.from('\r\n0\r\n\r\n'),
    ]);
    for (const step of [1, 2, 7, 100, wire.length]) {
      const d = new Dechunker();
      const parts: Buffer[] = [];
      for (let i = 0; i < wire.length; i += step) parts.push(...d.push(wire.subarray(i, i + step)));
      expect(Buffer.concat(parts).equals(payload)).toBe(true);
      expect(d.done).toBe(true);
    }
  });

  it('reports garbage framing', () => {
    const d = new Dechunker();
    d.push(Buffer.from('zz\r\nhello'));
    expect(d.error).toMatch(/invalid chunk size/);
  });
});
