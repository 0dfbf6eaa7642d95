// Fraunhofer's FDK AAC encoder (libfdk-aac, Debian's non-free `libfdk-aac2`), called inside Node through
// koffi's FFI when the machine has the library. Issue 12: ffmpeg's native AAC encoder was the largest
// share of the always-on cost (two `twoloop` encodes and a `fast` one, 2.9 s of CPU per minute of music
// and 3.7 s on a steady tone, where `fast` re-encodes each frame up to six times); FDK encodes the same
// three at the same bitrates in ~1.5 s and ~1.2 s (README, *AAC encoder*). No compiler is needed:
// koffi ships prebuilt, and the library is loaded by its soname at start, so a machine without it runs
// ffmpeg's encoder as before.
//
// The encoder runs on the event loop (~0.2 ms per 20 ms frame per encode) and only ever sees the
// mixer's own PCM, never network input. A crash in it would take the process, where an ffmpeg child's
// would take only its encodes: `ANTENNA_AAC_ENCODER=ffmpeg` keeps AAC in the child.
import { AntennaError } from '../errors.js';
import { CHANNELS, SAMPLE_RATE } from '../types/pcm.js';
import { loadNative, NativeCodecError, type Koffi, type KoffiFunction } from './native.js';

/** The soname Debian's libfdk-aac2 installs (fdk-aac 2.x). */
export const FDK_AAC_SONAME = 'libfdk-aac.so.2';

/** aacenc_lib.h's parameters and constants that Antenna sets. */
const PARAM = {
  AOT: 0x0100,
  BITRATE: 0x0101,
  SAMPLERATE: 0x0103,
  CHANNELMODE: 0x0106,
  AFTERBURNER: 0x0200,
  TRANSMUX: 0x0300,
} as const;
const AOT_AAC_LC = 2;
const MODE_2 = 2; // stereo, L R
const TT_MP4_ADTS = 2;
const IN_AUDIO_DATA = 0;
const OUT_BITSTREAM_DATA = 3;
/** Input samples (per channel × channels) staged per call: a mixer chunk is 1,764; larger ones loop. */
const STAGE_SAMPLES = 8192;

/** An error the library returned (its AACENC_ERROR code), or a failure to load it. */
export class FdkAacError extends NativeCodecError {
  constructor(message: string, code?: number) {
    super(message, code);
    this.name = 'FdkAacError';
  }
}

interface Api {
  readonly koffi: Koffi;
  readonly open: KoffiFunction;
  readonly setParam: KoffiFunction;
  readonly encode: KoffiFunction;
  readonly info: KoffiFunction;
  readonly close: KoffiFunction;
}

/** A loaded library: opens encoders. */
export interface FdkAacLibrary {
  /** What was loaded (the soname, or the path given). */
  readonly name: string;
  open(bitrate: number): FdkAacEncoder;
}

/**
 * Loads koffi and the library and proves they encode (one second of silence must give ADTS frames), so a
 * broken install is found at start, not at the first frame. Throws FdkAacError saying why not.
 */
export async function loadFdkAac(name: string = FDK_AAC_SONAME): Promise<FdkAacLibrary> {
  const { koffi, lib } = await loadNative(name, 'libfdk-aac2 (non-free)', (m) => new FdkAacError(m));
  // Declared once per process: koffi's type names are global.
  const declared = declareTypes(koffi);
  const api: Api = {
    koffi,
    open: lib.func('int aacEncOpen(_Out_ void **handle, uint32_t modules, uint32_t maxChannels)'),
    setParam: lib.func('int aacEncoder_SetParam(void *handle, int param, uint32_t value)'),
    encode: lib.func('int aacEncEncode(void *handle, void *inDesc, void *outDesc, void *inArgs, void *outArgs)'),
    info: lib.func(`int aacEncInfo(void *handle, _Out_ ${declared.info} *info)`),
    close: lib.func('int aacEncClose(_Inout_ void **handle)'),
  };
  const library: FdkAacLibrary = { name, open: (bitrate) => new FdkAacEncoder(api, bitrate) };
  const probe = library.open(128_000);
  try {
    const frames = probe.encode(Buffer.alloc(SAMPLE_RATE * CHANNELS * 2));
    if (frames.length === 0 || frames[0]?.[0] !== 0xff) throw new FdkAacError(`${name} gave no ADTS frame for 1 s of input`);
  } finally {
    probe.close();
  }
  return library;
}

export type AacEncoderSetting = 'auto' | 'fdk-aac' | 'ffmpeg';

export interface AacEncoderChoice {
  readonly engine: 'fdk-aac' | 'ffmpeg';
  /** The loaded library when engine is fdk-aac. */
  readonly library?: FdkAacLibrary;
  readonly why: string;
}

/**
 * Who encodes AAC (ANTENNA_AAC_ENCODER): `ffmpeg` as told; `fdk-aac` or fatal; `auto` FDK when it
 * loads and passes its probe, else ffmpeg, saying why.
 */
export async function selectAacEncoder(
  setting: AacEncoderSetting,
  load: () => Promise<FdkAacLibrary> = () => loadFdkAac(),
): Promise<AacEncoderChoice> {
  if (setting === 'ffmpeg') return { engine: 'ffmpeg', why: 'set by ANTENNA_AAC_ENCODER' };
  try {
    const library = await load();
    return {
      engine: 'fdk-aac',
      library,
      why:
        setting === 'fdk-aac'
          ? 'set by ANTENNA_AAC_ENCODER'
          : `${library.name} loaded: about half the CPU of ffmpeg's aac at the same bitrates`,
    };
  } catch (err) {
    const message = (err as Error).message;
    if (setting === 'fdk-aac')
      throw new AntennaError('AAC_ENCODER_UNAVAILABLE', `ANTENNA_AAC_ENCODER=fdk-aac: ${message}`, { fatal: true, cause: err });
    return { engine: 'ffmpeg', why: `no FDK AAC: ${message}` };
  }
}

let typesDeclared: { readonly info: string } | undefined;
function declareTypes(koffi: Koffi): { readonly info: string } {
  if (typesDeclared) return typesDeclared;
  koffi.struct('AACENC_BufDesc', {
    numBufs: 'int',
    bufs: 'void **',
    bufferIdentifiers: 'int *',
    bufSizes: 'int *',
    bufElSizes: 'int *',
  });
  koffi.struct('AACENC_InfoStruct', {
    maxOutBufBytes: 'uint32_t',
    maxAncBytes: 'uint32_t',
    inBufFillLevel: 'uint32_t',
    inputChannels: 'uint32_t',
    frameLength: 'uint32_t',
    nDelay: 'uint32_t',
    nDelayCore: 'uint32_t',
    confBuf: koffi.array('uint8_t', 64),
    confSize: 'uint32_t',
  });
  typesDeclared = { info: 'AACENC_InfoStruct' };
  return typesDeclared;
}

/**
 * One AAC-LC encode: 44.1 kHz stereo s16 in, ADTS frames out, constant bitrate (the library's default
 * mode), afterburner on (its better-sounding, dearer search; Fraunhofer's example encoder's default too),
 * every other parameter the library's default. Every buffer the calls use is allocated once in native
 * memory, so an encode call marshals nothing but four pointers.
 */
export class FdkAacEncoder {
  /** Samples (per channel) the encoder delays its output by. */
  readonly delay: number;
  readonly #api: Api;
  #handle: unknown;
  readonly #natives: unknown[] = [];
  readonly #stage: Int16Array;
  readonly #inArgs: Int32Array;
  readonly #inSize: Int32Array;
  readonly #outArgs: Int32Array;
  readonly #out: Buffer;
  readonly #ptrs: { readonly inDesc: unknown; readonly outDesc: unknown; readonly inArgs: unknown; readonly outArgs: unknown };
  #closed = false;

  constructor(api: Api, bitrate: number) {
    this.#api = api;
    const k = api.koffi;
    const handle: [unknown] = [null];
    check(api.open(handle, 0, CHANNELS), 'aacEncOpen');
    this.#handle = handle[0];
    try {
      const params: [number, number][] = [
        [PARAM.AOT, AOT_AAC_LC],
        [PARAM.SAMPLERATE, SAMPLE_RATE],
        [PARAM.CHANNELMODE, MODE_2],
        [PARAM.BITRATE, bitrate],
        [PARAM.TRANSMUX, TT_MP4_ADTS],
        [PARAM.AFTERBURNER, 1],
      ];
      for (const [p, v] of params) check(api.setParam(this.#handle, p, v), `aacEncoder_SetParam(0x${p.toString(16)}, ${v})`);
      // All four arguments null: apply the parameters.
      check(api.encode(this.#handle, null, null, null, null), 'aacEncEncode (initialise)');
      const info: { maxOutBufBytes: number; nDelay: number } = { maxOutBufBytes: 0, nDelay: 0 };
      check(api.info(this.#handle, info), 'aacEncInfo');
      this.delay = info.nDelay;

      const alloc = (type: string, n: number): unknown => {
        const p: unknown = k.alloc(type, n);
        this.#natives.push(p);
        return p;
      };
      const ints = (values: number[]): { ptr: unknown; view: Int32Array } => {
        const ptr = alloc('int', values.length);
        const view = new Int32Array(k.view(ptr, values.length * 4));
        view.set(values);
        return { ptr, view };
      };
      const stage = alloc('int16_t', STAGE_SAMPLES);
      this.#stage = new Int16Array(k.view(stage, STAGE_SAMPLES * 2));
      const outBytes = Math.max(info.maxOutBufBytes, (6144 / 8) * CHANNELS);
      const out = alloc('uint8_t', outBytes);
      this.#out = Buffer.from(k.view(out, outBytes));
      const desc = (buf: unknown, id: number, size: { ptr: unknown }, elSize: number): unknown => {
        const bufs = alloc('void *', 1);
        k.encode(bufs, 'void *', buf);
        const d = alloc('AACENC_BufDesc', 1);
        k.encode(d, 'AACENC_BufDesc', {
          numBufs: 1,
          bufs,
          bufferIdentifiers: ints([id]).ptr,
          bufSizes: size.ptr,
          bufElSizes: ints([elSize]).ptr,
        });
        return d;
      };
      const inSize = ints([0]);
      this.#inSize = inSize.view;
      const inArgs = ints([0, 0]); // numInSamples, numAncBytes
      const outArgs = ints([0, 0, 0, 0]); // numOutBytes, numInSamples, numAncBytes, bitResState
      this.#inArgs = inArgs.view;
      this.#outArgs = outArgs.view;
      this.#ptrs = {
        inDesc: desc(stage, IN_AUDIO_DATA, inSize, 2),
        outDesc: desc(out, OUT_BITSTREAM_DATA, ints([outBytes]), 1),
        inArgs: inArgs.ptr,
        outArgs: outArgs.ptr,
      };
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /**
   * Encodes interleaved stereo s16 (any whole number of samples) and returns the ADTS frames it
   * completed, each its own Buffer (one per 1,024 samples once the delay is filled). Throws
   * FdkAacError if the library reports an error; the encoder is then unusable.
   */
  encode(pcm: Buffer): Buffer[] {
    if (this.#closed) throw new FdkAacError('encoder closed');
    const frames: Buffer[] = [];
    const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length >> 1);
    let fed = 0;
    let staged = 0;
    for (;;) {
      // Top up the stage with what has not been staged yet.
      const take = Math.min(STAGE_SAMPLES - staged, samples.length - fed);
      if (take > 0) this.#stage.set(samples.subarray(fed, fed + take), staged);
      fed += take;
      staged += take;
      this.#inArgs[0] = staged;
      this.#inSize[0] = staged * 2;
      check(this.#api.encode(this.#handle, this.#ptrs.inDesc, this.#ptrs.outDesc, this.#ptrs.inArgs, this.#ptrs.outArgs), 'aacEncEncode');
      const outBytes = this.#outArgs[0] as number;
      const consumed = this.#outArgs[1] as number;
      if (outBytes > 0) frames.push(Buffer.from(this.#out.subarray(0, outBytes)));
      // The library takes what fits its own buffer; keep the rest at the front of the stage.
      if (consumed < staged) this.#stage.copyWithin(0, consumed, staged);
      staged -= consumed;
      // Done once everything is taken and a call completes no further frame.
      if (fed === samples.length && staged === 0 && outBytes === 0) return frames;
      if (take === 0 && consumed === 0 && outBytes === 0) throw new FdkAacError('aacEncEncode took no input and gave no frame');
    }
  }

  /** Frees the encoder and its buffers; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#handle) this.#api.close([this.#handle]);
    this.#handle = null;
    for (const p of this.#natives.splice(0)) this.#api.koffi.free(p);
  }
}

function check(code: unknown, what: string): void {
  if (code !== 0) throw new FdkAacError(`${what} failed: AACENC_ERROR 0x${Number(code).toString(16)}`, Number(code));
}
