// The shared protocol parsers (src/codec): MPEG audio and ADTS frame headers and Ogg pages, on hand-built
// headers with known fields, on the source bodies of the wire captures and on real ffmpeg output.
import { describe, expect, it } from 'vitest';
import { readAdtsHeader } from '../../src/codec/adts.js';
import { readMpegHeader } from '../../src/codec/mpeg.js';
import { readOggPage, type OggPage } from '../../src/codec/ogg.js';
import { adtsFrame, capturedBody, encodeSine, headerChain, mp3Frame, oggPage } from '../helpers/audio-bytes.js';

function pages(b: Buffer): OggPage[] {
  return headerChain(b, readOggPage).map((p) => p.h);
}

describe('MPEG audio headers', () => {
  it('reads MPEG-1 Layer III with and without padding', () => {
    const h = { samples: 1152, sampleRate: 44100, version: 1, layer: 3, kbps: 128 };
    expect(readMpegHeader(mp3Frame())).toMatchObject({ length: 417, ...h });
    expect(readMpegHeader(mp3Frame(true))).toMatchObject({ length: 418, ...h });
    // Padding, bitrate and the CRC bit may change from frame to frame; the key may not.
    expect(readMpegHeader(mp3Frame(true))?.key).toBe(readMpegHeader(mp3Frame())?.key);
    expect(readMpegHeader(Buffer.from([0xff, 0xfa, 0xa0, 0]))?.key).toBe(readMpegHeader(mp3Frame())?.key);
    expect(readMpegHeader(Buffer.from([0xff, 0xfb, 0x94, 0]))?.key).not.toBe(readMpegHeader(mp3Frame())?.key); // 48 kHz
  });

  it.each([
    // [header bytes, length, samples, rate, version, layer]
    ['Layer I, 384k, 44.1 kHz', [0xff, 0xff, 0xc0, 0], 416, 384, 44100, 1, 1],
    ['Layer I, 32k, 32 kHz, padded (4-byte slot)', [0xff, 0xff, 0x1a, 0], 52, 384, 32000, 1, 1],
    ['Layer II, 256k, 44.1 kHz', [0xff, 0xfd, 0xc0, 0], 835, 1152, 44100, 1, 2],
    ['MPEG-2 Layer II, 64k, 22.05 kHz', [0xff, 0xf5, 0x80, 0], 417, 1152, 22050, 2, 2],
    ['MPEG-2 Layer III, 64k, 22.05 kHz', [0xff, 0xf3, 0x80, 0], 208, 576, 22050, 2, 3],
    ['MPEG-2.5 Layer III, 64k, 11.025 kHz', [0xff, 0xe3, 0x80, 0], 417, 576, 11025, 2.5, 3],
  ])('reads %s', (_name, bytes, length, samples, sampleRate, version, layer) => {
    expect(readMpegHeader(Buffer.from(bytes))).toMatchObject({ length, samples, sampleRate, version, layer });
  });

  it.each([
    ['no sync', [0xfe, 0xfb, 0x90, 0]],
    ['reserved version', [0xff, 0xeb, 0x90, 0]],
    ['reserved layer (an ADTS header)', [0xff, 0xf1, 0x50, 0x80]],
    ['free-format bitrate', [0xff, 0xfb, 0x00, 0]],
    ['bad bitrate index', [0xff, 0xfb, 0xf0, 0]],
    ['reserved sample rate', [0xff, 0xfb, 0x9c, 0]],
    ['three bytes', [0xff, 0xfb, 0x90]],
  ])('rejects %s', (_name, bytes) => {
    expect(readMpegHeader(Buffer.from(bytes))).toBeUndefined();
  });

  it.each(['darkice1.3__ffmpeg.46', 'butt0.1.37_icecast__ffmpeg.62', 'liquidsoap2.1.3_outputs__ffmpeg.47'])(
    'walks the frames of the %s capture',
    (name) => {
      const frames = headerChain(capturedBody(name), readMpegHeader);
      expect(frames.length).toBeGreaterThanOrEqual(2);
      for (const { h } of frames) expect(h).toMatchObject({ version: 1, layer: 3, kbps: 128, sampleRate: 44100, key: frames[0]?.h.key });
    },
  );

  it.each([
    ['Layer III', ['-c:a', 'libmp3lame', '-b:a', '96k', '-id3v2_version', '0', '-f', 'mp3'], 3, 96],
    ['Layer II', ['-c:a', 'mp2', '-b:a', '192k', '-f', 'mp2'], 2, 192],
  ])('walks every frame of real %s from ffmpeg to the last byte', (_name, args, layer, kbps) => {
    const b = encodeSine(args);
    const frames = headerChain(b, readMpegHeader);
    const last = frames[frames.length - 1];
    expect((last?.at ?? 0) + (last?.h.length ?? 0)).toBe(b.length);
    for (const { h } of frames) expect(h).toMatchObject({ layer, kbps, sampleRate: 44100, samples: 1152, key: frames[0]?.h.key });
  });
});

describe('ADTS headers', () => {
  it('reads length, header length, samples, rate, channels and object type', () => {
    expect(readAdtsHeader(adtsFrame(300))).toMatchObject({
      length: 300,
      headerLength: 7,
      samples: 1024,
      sampleRate: 44100,
      channelConfig: 2,
      objectType: 2,
    });
    const crc = adtsFrame(300);
    crc[1] = 0xf0; // protection_absent = 0: a CRC follows the 7 header bytes
    expect(readAdtsHeader(crc)).toMatchObject({ headerLength: 9, key: readAdtsHeader(adtsFrame(300))?.key });
    const blocks = adtsFrame(300);
    blocks[6] = 0xfc | 2; // three raw data blocks
    expect(readAdtsHeader(blocks)?.samples).toBe(3 * 1024);
    expect(readAdtsHeader(Buffer.concat([Buffer.alloc(5), adtsFrame(100)]), 5)?.length).toBe(100);
  });

  it('rejects what is not a valid header', () => {
    const bad = (edit: (b: Buffer) => void, len = 300): Buffer => {
      const b = adtsFrame(len);
      edit(b);
      return b;
    };
    expect(readAdtsHeader(bad((b) => (b[1] = 0xf3)))).toBeUndefined(); // layer bits set: an MPEG header
    expect(readAdtsHeader(bad((b) => (b[2] = (1 << 6) | (13 << 2))))).toBeUndefined(); // reserved sample rate
    expect(readAdtsHeader(adtsFrame(6))).toBeUndefined(); // shorter than its own header
    expect(readAdtsHeader(bad((b) => (b[1] = 0xf0), 8))).toBeUndefined(); // shorter than header + CRC
    expect(readAdtsHeader(adtsFrame(300).subarray(0, 6))).toBeUndefined();
    expect(readMpegHeader(adtsFrame(300))).toBeUndefined();
    expect(readAdtsHeader(mp3Frame())).toBeUndefined();
  });

  it('walks every frame of real ffmpeg AAC to the last byte', () => {
    const b = encodeSine(['-c:a', 'aac', '-b:a', '64k', '-ar', '48000', '-f', 'adts']);
    const frames = headerChain(b, readAdtsHeader);
    const last = frames[frames.length - 1];
    expect((last?.at ?? 0) + (last?.h.length ?? 0)).toBe(b.length);
    const first = frames[0]?.h;
    expect(first).toMatchObject({ sampleRate: 48000, channelConfig: 2, objectType: 2, samples: 1024, headerLength: 7 });
    for (const { h } of frames) expect(h.key).toBe(first?.key);
    // Half a second plus the encoder's priming and flush: about 0.5 s × 48 kHz / 1024 frames.
    expect(frames.length).toBeGreaterThanOrEqual(24);
  });
});

describe('Ogg pages', () => {
  it('reads flags, granule, serial, sequence and packets (a 255 lacing value continues a packet)', () => {
    const p = oggPage({ bos: true, granule: 4410n, serial: 7, seq: 3, packets: [100, 600, 255] });
    expect(readOggPage(p)).toEqual({ length: p.length, bos: true, eos: false, granule: 4410n, serial: 7, pageSeq: 3, packets: 3 });
  });

  it('says "incomplete" for a cut page and "not a page" for other bytes', () => {
    const p = oggPage({ granule: 0n, serial: 1, seq: 0, packets: [300] });
    expect(readOggPage(p.subarray(0, 3))).toBeUndefined();
    expect(readOggPage(p.subarray(0, 20))).toBeUndefined();
    expect(readOggPage(p.subarray(0, p.length - 1))).toBeUndefined();
    expect(readOggPage(Buffer.from('OggX and more bytes than a page header'))).toBeNull();
    expect(readOggPage(Buffer.from('ID3\x04'))).toBeNull();
    const v1 = Buffer.from(p);
    v1[4] = 1; // stream structure version 1 does not exist
    expect(readOggPage(v1)).toBeNull();
  });

  it.each(['ffmpeg5.1_ogg_without_content_type__ffmpeg.37', 'liquidsoap2.1.3_outputs__ffmpeg.50'])(
    'reads the first pages of the %s capture',
    (name) => {
      const b = capturedBody(name);
      const ps = pages(b);
      expect(ps[0]).toMatchObject({ bos: true, granule: 0n, pageSeq: 0, packets: 1, length: 58 });
      expect(ps.every((p) => p.serial === ps[0]?.serial)).toBe(true);
      // The capture stops after 1500 bytes: the page after the last whole one is incomplete, not garbage.
      expect(
        readOggPage(
          b,
          ps.reduce((n, p) => n + p.length, 0),
        ),
      ).toBeUndefined();
    },
  );

  it('walks every page of real ffmpeg Vorbis to the end of the stream', () => {
    const b = encodeSine(['-c:a', 'libvorbis', '-f', 'ogg']);
    const ps = pages(b);
    expect(ps.reduce((n, p) => n + p.length, 0)).toBe(b.length);
    expect(ps.map((p) => p.pageSeq)).toEqual(ps.map((_, i) => i));
    expect(ps[0]?.bos).toBe(true);
    expect(ps[ps.length - 1]?.eos).toBe(true);
    // Vorbis granules count samples: the last one is the stream's length, 0.5 s at 44.1 kHz.
    expect(ps[ps.length - 1]?.granule).toBe(22050n);
  });
});
