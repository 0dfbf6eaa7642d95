// Format sniffing on captured source bodies and on real encoder output from the embedded ffmpeg, and
// the Icecast replies compared byte for byte with what Icecast 2.4.4 sent in the captures.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Dechunker } from '../../src/ingest/chunked.js';
import * as reply from '../../src/ingest/responses.js';
import { SNIFF_LIMIT, sniffFormat } from '../../src/ingest/sniff.js';
import { serverSegments } from '../fixtures/captures/load.js';
import { capturedBody, encodeSine } from '../helpers/audio-bytes.js';

describe('format sniffer', () => {
  it.each([
    ['ffmpeg5.1_put__ffmpeg.35', 'mp3'], // ID3v2 tag, then MPEG frames
    ['ffmpeg5.1_legacy_source__ffmpeg.36', 'mp3'],
    ['darkice1.3__ffmpeg.46', 'mp3'],
    ['ezstream1.0.2_libshout2.4.6__ffmpeg.41', 'mp3'],
    ['butt0.1.37_icecast__ffmpeg.62', 'mp3'],
    ['liquidsoap2.1.3_outputs__ffmpeg.47', 'mp3'],
    ['ffmpeg5.1_ogg_without_content_type__ffmpeg.37', 'ogg'], // labelled audio/mpeg by ffmpeg
    ['liquidsoap2.1.3_outputs__ffmpeg.50', 'ogg'],
  ])('%s → %s', (name, format) => {
    expect(sniffFormat(capturedBody(name))).toBe(format);
  });

  it('Liquidsoap chunked body, de-chunked → mp3', () => {
    const d = new Dechunker();
    expect(sniffFormat(Buffer.concat(d.push(capturedBody('liquidsoap2.1.3_outputs__ffmpeg.49'))))).toBe('mp3');
  });

  it('waits for the confirming second frame', () => {
    const mp3 = capturedBody('darkice1.3__ffmpeg.46');
    expect(sniffFormat(mp3.subarray(0, 200))).toBeUndefined();
    expect(sniffFormat(Buffer.from('ID3'))).toBeUndefined();
  });

  it.each([
    ['mp3', ['-c:a', 'libmp3lame', '-f', 'mp3']],
    ['aac', ['-c:a', 'aac', '-f', 'adts']],
    ['ogg', ['-c:a', 'libvorbis', '-f', 'ogg']],
    ['ogg', ['-c:a', 'libopus', '-ar', '48000', '-f', 'ogg']],
    ['flac', ['-c:a', 'flac', '-f', 'flac']],
  ])('real %s from ffmpeg (%j)', (format, args) => {
    expect(sniffFormat(encodeSine(args))).toBe(format);
  });

  it('random bytes are unknown once the limit is reached, undecided before', () => {
    const junk = randomBytes(SNIFF_LIMIT);
    // Chance syncs in random data are not confirmed by a second frame header.
    expect(sniffFormat(junk.subarray(0, 1000))).toBeUndefined();
    expect(sniffFormat(junk)).toBe('unknown');
    expect(sniffFormat(Buffer.alloc(SNIFF_LIMIT, 0x41))).toBe('unknown');
  });
});

describe('Icecast 2.4.4 replies, byte for byte', () => {
  /** Captured reply with its Date line replaced by ours. */
  function same(ours: Buffer, captured: Buffer): void {
    const date = /Date: [^\r]*\r\n/;
    expect(ours.toString('latin1').replace(date, 'Date: X\r\n')).toBe(captured.toString('latin1').replace(date, 'Date: X\r\n'));
  }
  it('401 to the libshout probe', () => same(reply.unauthorized(), serverSegments('ezstream1.0.2_libshout2.4.6__ffmpeg.40')[0] as Buffer));
  it('400 to GET /admin/!POKE', () =>
    same(reply.htmlError(400, 'Unrecognised command'), serverSegments('ezstream1.0.2_libshout2.4.6__ffmpeg.39')[0] as Buffer));
  it('404 to BUTT /stats and /7.html', () => same(reply.notFound(), serverSegments('butt0.1.37_shoutcast__ffmpeg.57')[0] as Buffer));
  it('metadata XML', () =>
    same(reply.adminXml('Metadata update successful', true), serverSegments('ezstream1.0.2_libshout2.4.6__ffmpeg.45')[0] as Buffer));
  it('admin.cgi HTML', () => same(reply.shoutcastAdminOk(), serverSegments('butt0.1.37_shoutcast__ffmpeg.59')[0] as Buffer));
  it('100 Continue, 200 OK and OK2', () => {
    const [cont, ok] = serverSegments('ffmpeg5.1_put__ffmpeg.35') as [Buffer, Buffer];
    expect(reply.CONTINUE.equals(cont)).toBe(true);
    expect(reply.SOURCE_OK.equals(ok)).toBe(true);
    expect(reply.SHOUTCAST_OK.equals(serverSegments('butt0.1.37_shoutcast__icy.5')[0] as Buffer)).toBe(true);
  });
  it('403 Mountpoint in use carries the common error headers', () => {
    const s = reply.plainError(403, 'Mountpoint in use').toString();
    expect(s.startsWith('HTTP/1.0 403 Forbidden\r\nServer: Icecast 2.4.4\r\nConnection: Close\r\n')).toBe(true);
    expect(s.endsWith('Access-Control-Allow-Origin: *\r\n\r\nMountpoint in use')).toBe(true);
  });
});
