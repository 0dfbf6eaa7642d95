// LAME (libmp3lame, Debian's `libmp3lame0`, the library ffmpeg's `libmp3lame` encoder wraps), called
// inside Node through koffi as libfdk-aac is (src/encoders/fdk-aac.ts). Issue 12: with AAC in Node, the
// ffmpeg child left encoding MP3 and Vorbis cost ~1 % of a core of its own besides the codecs (process,
// pipes, muxers) and Node a pipe write per mixer frame and a read per output burst. In-process the
// codec's work is all that is left.
//
// The encode is set up exactly as ffmpeg 5.1's `-c:a libmp3lame -b:a N` sets it up (CBR, joint stereo,
// LAME's own default quality, bit reservoir on, no Xing frame), so the bitstream is the one ffmpeg's
// encoder gives, byte for byte (test/unit/native-codecs.test.ts compares them).
import { CHANNELS, SAMPLE_RATE } from '../types/pcm.js';
import { loadNative, NativeCodecError, type Koffi, type KoffiFunction } from './native.js';

/** The soname Debian's libmp3lame0 installs. */
export const LAME_SONAME = 'libmp3lame.so.0';

const JOINT_STEREO = 1;
const VBR_OFF = 0;

interface Api {
  readonly koffi: Koffi;
  readonly init: KoffiFunction;
  readonly setInt: Readonly<Record<string, KoffiFunction>>;
  readonly initParams: KoffiFunction;
  readonly encode: KoffiFunction;
  readonly close: KoffiFunction;
}

export interface LameLibrary {
  readonly name: string;
  open(bitrate: number): LameEncoder;
}

/** Loads the library and proves it encodes (1 s of silence must give MP3 frames). Throws NativeCodecError saying why not. */
export async function loadLame(name: string = LAME_SONAME): Promise<LameLibrary> {
  const { koffi, lib } = await loadNative(name, 'libmp3lame0');
  const setter = (fn: string): KoffiFunction => lib.func(`int ${fn}(void *gfp, int value)`);
  const api: Api = {
    koffi,
    init: lib.func('void *lame_init()'),
    setInt: Object.fromEntries(
      [
        'lame_set_num_channels',
        'lame_set_in_samplerate',
        'lame_set_out_samplerate',
        'lame_set_mode',
        'lame_set_VBR',
        'lame_set_brate',
        'lame_set_bWriteVbrTag',
        'lame_set_disable_reservoir',
      ].map((fn) => [fn, setter(fn)]),
    ),
    initParams: lib.func('int lame_init_params(void *gfp)'),
    encode: lib.func('int lame_encode_buffer_interleaved(void *gfp, void *pcm, int samples, void *mp3buf, int size)'),
    close: lib.func('int lame_close(void *gfp)'),
  };
  const library: LameLibrary = { name, open: (bitrate) => new LameEncoder(api, bitrate) };
  const probe = library.open(128_000);
  try {
    const out = Buffer.concat(probe.encode(Buffer.alloc(SAMPLE_RATE * CHANNELS * 2)));
    if (out.length === 0 || out[0] !== 0xff) throw new NativeCodecError(`${name} gave no MP3 frame for 1 s of input`);
  } finally {
    probe.close();
  }
  return library;
}

/** Samples per channel staged per call: a mixer chunk is 882; larger ones loop. */
const STAGE_FRAMES = 4096;

/**
 * One CBR MP3 encode: 44.1 kHz stereo s16 in, MP3 frames out (LAME returns whole frames; a call may
 * return none while its first frames fill). Buffers are allocated once in native memory.
 */
export class LameEncoder {
  readonly #api: Api;
  #gfp: unknown;
  readonly #natives: unknown[] = [];
  readonly #stage: Int16Array;
  readonly #stagePtr: unknown;
  readonly #out: Buffer;
  readonly #outPtr: unknown;
  #closed = false;

  constructor(api: Api, bitrate: number) {
    this.#api = api;
    const k = api.koffi;
    this.#gfp = api.init();
    if (!this.#gfp) throw new NativeCodecError('lame_init failed');
    try {
      const settings: [string, number][] = [
        ['lame_set_num_channels', CHANNELS],
        ['lame_set_mode', JOINT_STEREO],
        ['lame_set_in_samplerate', SAMPLE_RATE],
        ['lame_set_out_samplerate', SAMPLE_RATE],
        ['lame_set_VBR', VBR_OFF],
        ['lame_set_brate', Math.round(bitrate / 1000)],
        ['lame_set_bWriteVbrTag', 0],
        ['lame_set_disable_reservoir', 0],
      ];
      for (const [fn, v] of settings) check(api.setInt[fn]?.(this.#gfp, v), `${fn}(${v})`);
      check(api.initParams(this.#gfp), 'lame_init_params');
      const alloc = (type: string, n: number): unknown => {
        const p: unknown = k.alloc(type, n);
        this.#natives.push(p);
        return p;
      };
      this.#stagePtr = alloc('int16_t', STAGE_FRAMES * CHANNELS);
      this.#stage = new Int16Array(k.view(this.#stagePtr, STAGE_FRAMES * CHANNELS * 2));
      // lame.h: worst case 1.25 × samples + 7,200 bytes.
      const outBytes = Math.ceil(1.25 * STAGE_FRAMES) + 7200;
      this.#outPtr = alloc('uint8_t', outBytes);
      this.#out = Buffer.from(k.view(this.#outPtr, outBytes));
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Encodes interleaved stereo s16 and returns the MP3 bytes completed (whole frames). Throws NativeCodecError on a library error. */
  encode(pcm: Buffer): Buffer[] {
    if (this.#closed) throw new NativeCodecError('encoder closed');
    const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length >> 1);
    const out: Buffer[] = [];
    for (let at = 0; at < samples.length; at += STAGE_FRAMES * CHANNELS) {
      const part = samples.subarray(at, Math.min(samples.length, at + STAGE_FRAMES * CHANNELS));
      this.#stage.set(part);
      const n = this.#api.encode(this.#gfp, this.#stagePtr, part.length / CHANNELS, this.#outPtr, this.#out.length) as number;
      if (n < 0) throw new NativeCodecError(`lame_encode_buffer_interleaved failed: ${n}`, n);
      if (n > 0) out.push(Buffer.from(this.#out.subarray(0, n)));
    }
    return out;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#gfp) this.#api.close(this.#gfp);
    this.#gfp = null;
    for (const p of this.#natives.splice(0)) this.#api.koffi.free(p);
  }
}

function check(code: unknown, what: string): void {
  if (code !== 0) throw new NativeCodecError(`${what} failed: ${String(code)}`, Number(code));
}
