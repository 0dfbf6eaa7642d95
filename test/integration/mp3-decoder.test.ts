// The in-process MP3 decoder (src/ingest/mp3-decoder.ts) against ffmpeg's: real MP3 from ffmpeg's LAME,
// fed in the odd-sized pieces a socket delivers, must come out as the same audio (sample for sample,
// once aligned), whole stereo samples, mono spread to both channels; garbage is survived and resynced;
// a rate it cannot take ends it with a failure; and only 44.1 kHz MPEG-1 Layer III is sent to it.
import { spawnSync } from 'node:child_process';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decoderArgs } from '../../src/ffmpeg/args.js';
import { resolveFfmpegPath } from '../../src/ffmpeg/path.js';
import { decodesInProcess, startDecoder, type PcmDecoder } from '../../src/ingest/decoder.js';
import { goertzel, leftChannel, sinePcm } from '../helpers/tones.js';

const ffmpeg = resolveFfmpegPath(process.env.FFMPEG_PATH);
const log = pino({ level: 'silent' });

function run(args: string[], input?: Buffer): Buffer {
  const r = spawnSync(ffmpeg, args, { input, maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${r.stderr.toString()}`);
  return r.stdout;
}

/** `ms` of a sine as MP3 from ffmpeg's LAME, as a live source sends it (no Xing/LAME header frame). */
function mp3Of(freq: number, ms: number, opts: { rate?: number; channels?: number; kbps?: number } = {}): Buffer {
  const rate = opts.rate ?? 44_100;
  // prettier-ignore
  return run([
    '-hide_banner', '-loglevel', 'error', '-f', 's16le', '-ar', '44100', '-ac', '2', '-i', 'pipe:0',
    '-ar', String(rate), '-ac', String(opts.channels ?? 2), '-c:a', 'libmp3lame', '-b:a', `${opts.kbps ?? 128}k`,
    '-write_xing', '0', '-id3v2_version', '0', '-f', 'mp3', 'pipe:1',
  ], sinePcm(freq, ms, 0.5, 44_100));
}

/** A decoder for the MP3 that starts with `head`, and the PCM it delivers (copied: valid only during the call). */
async function collecting(head: Buffer, mp3Decoder: 'auto' | 'ffmpeg' = 'auto'): Promise<{ decoder: PcmDecoder; out: Buffer[] }> {
  const out: Buffer[] = [];
  const decoder = await startDecoder({ ffmpegPath: ffmpeg, format: 'mp3', head, mp3Decoder, log, onPcm: (p) => out.push(Buffer.from(p)) });
  return { decoder, out };
}

/** Feeds `bytes` in pieces of 1..1500 bytes (a fixed pseudo-random sequence) and collects the PCM. */
async function decodeAll(bytes: Buffer, mp3Decoder: 'auto' | 'ffmpeg' = 'auto'): Promise<{ pcm: Buffer; decoder: PcmDecoder }> {
  const { decoder, out } = await collecting(bytes.subarray(0, 8192), mp3Decoder);
  let seed = 7;
  for (let i = 0; i < bytes.length;) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const n = 1 + (seed % 1500);
    decoder.write(bytes.subarray(i, i + n));
    i += n;
  }
  decoder.endInput();
  await decoder.exited;
  return { pcm: Buffer.concat(out), decoder };
}

afterEach(() => vi.restoreAllMocks());

describe('which MP3 is decoded in-process', () => {
  it('MPEG-1 Layer III at 44.1 kHz only; 48 kHz, 22.05 kHz (MPEG-2) and ffmpeg-only setting go to ffmpeg', async () => {
    expect(decodesInProcess(mp3Of(440, 300))).toBe(true);
    expect(decodesInProcess(mp3Of(440, 300, { channels: 1, kbps: 64 }))).toBe(true);
    expect(decodesInProcess(mp3Of(440, 300, { rate: 48_000 }))).toBe(false);
    expect(decodesInProcess(mp3Of(440, 300, { rate: 22_050, kbps: 64 }))).toBe(false);
    expect(decodesInProcess(Buffer.alloc(4000, 0xaa))).toBe(false);

    const a = await decodeAll(mp3Of(440, 300));
    expect(a.decoder.engine).toBe('mpg123');
    expect(a.decoder.pid).toBeUndefined();
    const b = await decodeAll(mp3Of(440, 300, { rate: 48_000 }));
    expect(b.decoder.engine).toBe('ffmpeg');
    expect(b.decoder.pid).toBeGreaterThan(0);
    const c = await decodeAll(mp3Of(440, 300), 'ffmpeg');
    expect(c.decoder.engine).toBe('ffmpeg');
  });
});

describe('in-process MP3 decoding', () => {
  it('gives the audio ffmpeg gives, sample for sample once aligned, in whole stereo samples', async () => {
    const mp3 = mp3Of(1000, 3000);
    const { pcm, decoder } = await decodeAll(mp3);
    const exit = await decoder.exited;
    expect(exit).toMatchObject({ code: 0, requested: true });
    expect(pcm.length % 4).toBe(0);
    const reference = run(decoderArgs('mp3'), mp3);
    // Both decode every frame; neither trims LAME's delay on a stream without a LAME header.
    expect(Math.abs(pcm.length - reference.length)).toBeLessThanOrEqual(1152 * 4);
    const ours = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2);
    const theirs = new Int16Array(reference.buffer, reference.byteOffset, reference.length / 2);
    let worst = 0;
    for (let i = 4410 * 2; i < 4410 * 2 + 88_200; i++) worst = Math.max(worst, Math.abs((ours[i] ?? 0) - (theirs[i] ?? 0)));
    expect(worst).toBeLessThanOrEqual(1); // float decoders rounding to s16: at most one step apart

    const left = leftChannel(pcm.subarray(44_100 * 4, 88_200 * 4));
    expect(goertzel(left, 1000, 44_100)).toBeGreaterThan(100 * goertzel(left, 440, 44_100));
  });

  it('spreads a mono stream to both channels', async () => {
    const { pcm } = await decodeAll(mp3Of(440, 1000, { channels: 1, kbps: 64 }));
    expect(pcm.length).toBeGreaterThan(40_000 * 4);
    for (let i = 20_000; i < 21_000; i++) expect(pcm.readInt16LE(i * 4)).toBe(pcm.readInt16LE(i * 4 + 2));
  });

  it('survives garbage without a word on stderr, counts it for the watchdog, and resyncs on the next frames', async () => {
    const stderr = vi.spyOn(process.stderr, 'write');
    const errors = vi.spyOn(console, 'error');
    const good = mp3Of(440, 2000);
    const { decoder, out } = await collecting(good);
    decoder.write(good.subarray(0, 8000));
    const before = Buffer.concat(out).length;
    expect(before).toBeGreaterThan(0);
    let seed = 1;
    const garbage = Buffer.alloc(64 * 1024);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (seed = (seed * 48271) % 2147483647) & 0xff;
    // Sync-like bytes too: 0xFF 0xFB is an MPEG-1 Layer III header start.
    for (let i = 0; i < garbage.length; i += 997) garbage.writeUInt16BE(0xfffb, i);
    for (let i = 0; i < garbage.length; i += 1000) decoder.write(garbage.subarray(i, i + 1000));
    expect(decoder.running).toBe(true);
    const afterGarbage = Buffer.concat(out).length;
    // Chance frames inside random bytes may decode to a little noise; the stream's own frames resume.
    decoder.write(good.subarray(8000));
    expect(Buffer.concat(out).length - afterGarbage).toBeGreaterThan(44_100 * 4);
    expect(decoder.inSinceLastPcm).toBeLessThan(2000);
    decoder.endInput();
    expect(await decoder.exited).toMatchObject({ code: 0, requested: true });
    expect(errors).not.toHaveBeenCalled();
    expect(stderr).not.toHaveBeenCalled();
  });

  it('paces a source faster than real time: a 10 s burst, then at most twice real time', async () => {
    const mp3 = mp3Of(440, 20_000);
    const before = performance.now();
    const { decoder, out } = await collecting(mp3);
    const seconds = (): number => Buffer.concat(out).length / 4 / 44_100;
    let at = 0;
    let ok = true;
    for (; at < mp3.length && ok; at += 16_384) ok = decoder.write(mp3.subarray(at, at + 16_384));
    // It asks for a pause once the burst is spent (one 16 KB write, ~1 s of 128k audio, may go past it).
    expect(ok).toBe(false);
    expect(seconds()).toBeGreaterThan(10);
    expect(seconds()).toBeLessThan(11.2);
    const decodedMs = seconds() * 1000;
    await new Promise<void>((resolve) => decoder.onDrain(resolve));
    // Not before the budget (10 s + 2 × the time since it started) covers what was decoded.
    expect(performance.now() - before).toBeGreaterThanOrEqual((decodedMs - 10_000) / 2 - 2);
    // Then it takes more, and pauses again.
    for (ok = true; at < mp3.length && ok; at += 16_384) ok = decoder.write(mp3.subarray(at, at + 16_384));
    expect(ok).toBe(false);
    expect(seconds() * 1000).toBeGreaterThan(decodedMs);
    await decoder.stop();
    expect(decoder.running).toBe(false);
  });

  it('counts bytes that decode to nothing, for the session watchdog', async () => {
    const decoder = await startDecoder({
      ffmpegPath: ffmpeg,
      format: 'mp3',
      head: mp3Of(440, 300),
      mp3Decoder: 'auto',
      log,
      onPcm: () => undefined,
    });
    for (let i = 0; i < 70; i++) decoder.write(Buffer.alloc(1024, 0x00));
    expect(decoder.inSinceLastPcm).toBe(70 * 1024);
    expect(decoder.lastPcmAt).toBe(0);
    await decoder.stop();
    expect(decoder.running).toBe(false);
  });

  it('ends with a failure, not with wrong-speed audio, when the stream changes to a rate it does not resample', async () => {
    const first = mp3Of(440, 1000);
    const { decoder, out } = await collecting(first);
    decoder.write(first);
    const before = Buffer.concat(out).length;
    decoder.write(mp3Of(440, 2000, { rate: 48_000 }));
    const exit = await decoder.exited;
    expect(exit.requested).toBe(false);
    expect(exit.code).toBe(1);
    expect(exit.stderrTail.join(' ')).toMatch(/48000 Hz/);
    // Nothing at the wrong rate was delivered, and writes after the end are ignored.
    expect(Buffer.concat(out).length).toBeLessThanOrEqual(before + 1152 * 4);
    expect(decoder.write(first)).toBe(true);
  });
});
