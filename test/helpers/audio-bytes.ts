// Codec bytes for the protocol tests: hand-built MP3/ADTS frames and Ogg pages with known fields, the
// source bodies of the wire captures, and real output of the embedded ffmpeg (as an encoder would send it).
import { execFileSync } from 'node:child_process';
import { encoderArgs } from '../../src/ffmpeg/args.js';
import { resolveFfmpegPath } from '../../src/ffmpeg/path.js';
import { parseRequestHead } from '../../src/ingest/head-parser.js';
import type { EncoderSpec } from '../../src/types/contracts.js';
import { clientSegments } from '../fixtures/captures/load.js';
import { sinePcm } from './tones.js';

/** MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no CRC: 417 bytes (418 with padding) whose payload is `fill`. */
export function mp3Frame(padding = false, fill = 0xaa): Buffer {
  const b = Buffer.alloc(417 + (padding ? 1 : 0), fill);
  b[0] = 0xff;
  b[1] = 0xfb;
  b[2] = 0x90 | (padding ? 0x02 : 0);
  b[3] = 0x64;
  return b;
}

/** An ADTS frame (AAC-LC, 44.1 kHz, stereo, no CRC, one raw block) of `len` bytes whose payload is `fill`. */
export function adtsFrame(len: number, fill = 0): Buffer {
  const b = Buffer.alloc(len, fill);
  b[0] = 0xff;
  b[1] = 0xf1;
  b[2] = (1 << 6) | (4 << 2); // profile LC, sampling index 4 (44.1 kHz)
  b[3] = (2 << 6) | ((len >> 11) & 0x03); // channel configuration 2
  b[4] = (len >> 3) & 0xff;
  b[5] = ((len & 0x07) << 5) | 0x1f;
  b[6] = 0xfc;
  return b;
}

/** An Ogg page holding whole packets of the given sizes (each laced, so 255 × k + r bytes span k + 1 segments). */
export function oggPage(opts: { bos?: boolean; granule: bigint; serial: number; seq: number; packets: number[] }): Buffer {
  const lacing: number[] = [];
  for (const p of opts.packets) {
    let n = p;
    while (n >= 255) {
      lacing.push(255);
      n -= 255;
    }
    lacing.push(n);
  }
  const body = opts.packets.reduce((a, b) => a + b, 0);
  const b = Buffer.alloc(27 + lacing.length + body, 0x22);
  b.write('OggS', 0, 'latin1');
  b[4] = 0;
  b[5] = opts.bos ? 2 : 0;
  b.writeBigInt64LE(opts.granule, 6);
  b.writeUInt32LE(opts.serial, 14);
  b.writeUInt32LE(opts.seq, 18);
  b[26] = lacing.length;
  Buffer.from(lacing).copy(b, 27);
  return b;
}

/** Every header (frame or Ogg page) of a chain starting at `from`, each read where the previous one ends. */
export function headerChain<H extends { readonly length: number }>(
  b: Buffer,
  read: (b: Buffer, i: number) => H | undefined | null,
  from = 0,
): { at: number; h: H }[] {
  const out: { at: number; h: H }[] = [];
  for (let at = from, h = read(b, at); h; at += h.length, h = read(b, at)) out.push({ at, h });
  return out;
}

/** The source body of a wire capture: everything the client sent after its request head. */
export function capturedBody(name: string): Buffer {
  const all = Buffer.concat(clientSegments(name));
  const r = parseRequestHead(all, 16_384);
  if (r.status !== 'complete') throw new Error(`${name}: ${r.status}`);
  return r.body;
}

const ffmpeg = resolveFfmpegPath(undefined);

/** Half a second of a 440 Hz sine through ffmpeg with the given output arguments (codec, container). */
export function encodeSine(codecArgs: string[]): Buffer {
  return execFileSync(
    ffmpeg,
    ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=0.5', '-ac', '2', ...codecArgs, 'pipe:1'],
    { maxBuffer: 8 << 20 },
  );
}

/** What the encoders stage reads from ffmpeg's stdout for `ms` of a sine: the same arguments, PCM on stdin. */
export function encoderOutput(spec: EncoderSpec, ms = 1000): Buffer {
  return execFileSync(ffmpeg, encoderArgs(spec), { input: sinePcm(440, ms), maxBuffer: 8 << 20 });
}
