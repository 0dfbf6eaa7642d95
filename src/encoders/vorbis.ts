// libvorbis's encoder (Debian's `libvorbisenc2` and `libvorbis0a`, the libraries ffmpeg's `libvorbis`
// encoder wraps), called inside Node through koffi as LAME and libfdk-aac are (src/encoders/lame.ts
// says why). Set up as ffmpeg 5.1's `-c:a libvorbis -q:a Q` sets it up (`vorbis_encode_setup_vbr` at
// Q / 10, nothing else changed), fed the same floats (s16 / 32,768), so its packets are ffmpeg's
// (test/unit/native-codecs.test.ts compares the decoded audio). Packets are put into Ogg pages here,
// one page per ~40 ms of audio as ffmpeg's muxer was told to (`-page_duration`), so the pages leave as
// they did and src/codec/vorbis-chain.ts chains them per title exactly as before.
import { pagesFor } from '../codec/vorbis-chain.js';
import { CHANNELS, SAMPLE_RATE } from '../types/pcm.js';
import { loadNative, NativeCodecError, type Koffi, type KoffiFunction } from './native.js';

export const VORBIS_SONAME = 'libvorbis.so.0';
export const VORBISENC_SONAME = 'libvorbisenc.so.2';

/**
 * Bytes reserved for each of libvorbis's state structs. The encoder only ever reaches them through
 * pointers, so room to spare is safe; on x86-64 and arm64 (codec.h, 1.3.x) they take 56 (vorbis_info),
 * 32 (vorbis_comment), 144 (vorbis_dsp_state) and ~192 (vorbis_block) bytes.
 */
const STATE_BYTES = 1024;

interface Api {
  readonly koffi: Koffi;
  readonly infoInit: KoffiFunction;
  readonly infoClear: KoffiFunction;
  readonly initVbr: KoffiFunction;
  readonly commentInit: KoffiFunction;
  readonly commentClear: KoffiFunction;
  readonly analysisInit: KoffiFunction;
  readonly blockInit: KoffiFunction;
  readonly blockClear: KoffiFunction;
  readonly dspClear: KoffiFunction;
  readonly headerout: KoffiFunction;
  readonly buffer: KoffiFunction;
  readonly wrote: KoffiFunction;
  readonly blockout: KoffiFunction;
  readonly analysis: KoffiFunction;
  readonly addblock: KoffiFunction;
  readonly flushpacket: KoffiFunction;
}

export interface VorbisLibrary {
  readonly name: string;
  /** `quality` on ffmpeg's and oggenc's scale, −1 to 10. */
  open(quality: number, pageSamples: number): VorbisEncoder;
}

interface OggPacket {
  packet: unknown;
  bytes: number;
  granulepos: bigint | number;
}

let packetType: string | undefined;
function declareTypes(koffi: Koffi): string {
  if (packetType) return packetType;
  koffi.struct('ogg_packet', {
    packet: 'void *',
    bytes: 'long',
    b_o_s: 'long',
    e_o_s: 'long',
    granulepos: 'int64_t',
    packetno: 'int64_t',
  });
  packetType = 'ogg_packet';
  return packetType;
}

/** Loads both libraries and proves they encode (1 s of silence must give Ogg pages). Throws NativeCodecError saying why not. */
export async function loadVorbis(): Promise<VorbisLibrary> {
  const { koffi, lib } = await loadNative(VORBIS_SONAME, 'libvorbis0a');
  const enc = (await loadNative(VORBISENC_SONAME, 'libvorbisenc2')).lib;
  const packet = declareTypes(koffi);
  const api: Api = {
    koffi,
    infoInit: lib.func('void vorbis_info_init(void *vi)'),
    infoClear: lib.func('void vorbis_info_clear(void *vi)'),
    initVbr: enc.func('int vorbis_encode_init_vbr(void *vi, long channels, long rate, float quality)'),
    commentInit: lib.func('void vorbis_comment_init(void *vc)'),
    commentClear: lib.func('void vorbis_comment_clear(void *vc)'),
    analysisInit: lib.func('int vorbis_analysis_init(void *vd, void *vi)'),
    blockInit: lib.func('int vorbis_block_init(void *vd, void *vb)'),
    blockClear: lib.func('int vorbis_block_clear(void *vb)'),
    dspClear: lib.func('void vorbis_dsp_clear(void *vd)'),
    headerout: lib.func(
      `int vorbis_analysis_headerout(void *vd, void *vc, _Out_ ${packet} *id, _Out_ ${packet} *comment, _Out_ ${packet} *setup)`,
    ),
    buffer: lib.func('void *vorbis_analysis_buffer(void *vd, int vals)'),
    wrote: lib.func('int vorbis_analysis_wrote(void *vd, int vals)'),
    blockout: lib.func('int vorbis_analysis_blockout(void *vd, void *vb)'),
    analysis: lib.func('int vorbis_analysis(void *vb, void *op)'),
    addblock: lib.func('int vorbis_bitrate_addblock(void *vb)'),
    flushpacket: lib.func(`int vorbis_bitrate_flushpacket(void *vd, _Out_ ${packet} *op)`),
  };
  const library: VorbisLibrary = {
    name: `${VORBIS_SONAME} + ${VORBISENC_SONAME}`,
    open: (quality, pageSamples) => new VorbisEncoder(api, quality, pageSamples),
  };
  const probe = library.open(6, 1764);
  try {
    const out = Buffer.concat(probe.encode(Buffer.alloc(SAMPLE_RATE * CHANNELS * 2)));
    if (out.length === 0 || out.toString('latin1', 0, 4) !== 'OggS')
      throw new NativeCodecError(`${library.name} gave no Ogg page for 1 s of input`);
  } finally {
    probe.close();
  }
  return library;
}

/** Samples per channel handed to the library per call: a mixer chunk is 882; larger ones loop. */
const STAGE_FRAMES = 4096;

/**
 * One VBR Vorbis encode: 44.1 kHz stereo s16 in, Ogg pages out (the three header pages first, from the
 * first encode() call), serial 1: the chainer gives every chain its own serial.
 */
export class VorbisEncoder {
  readonly #api: Api;
  readonly #vi: unknown;
  readonly #vc: unknown;
  readonly #vd: unknown;
  readonly #vb: unknown;
  readonly #pageSamples: number;
  #open: { info: boolean; comment: boolean; dsp: boolean; block: boolean } = { info: false, comment: false, dsp: false, block: false };
  #headers: Buffer[] | undefined;
  #packets: Buffer[] = [];
  #pageStart = 0n;
  #granule = 0n;
  #seq = 0;
  #closed = false;

  constructor(api: Api, quality: number, pageSamples: number) {
    this.#api = api;
    this.#pageSamples = pageSamples;
    const k = api.koffi;
    const state = (): unknown => {
      const p: unknown = k.alloc('uint8_t', STATE_BYTES);
      new Uint8Array(k.view(p, STATE_BYTES)).fill(0);
      return p;
    };
    this.#vi = state();
    this.#vc = state();
    this.#vd = state();
    this.#vb = state();
    try {
      api.infoInit(this.#vi);
      this.#open.info = true;
      check(api.initVbr(this.#vi, CHANNELS, SAMPLE_RATE, quality / 10), `vorbis_encode_init_vbr(q ${quality})`);
      api.commentInit(this.#vc);
      this.#open.comment = true;
      check(api.analysisInit(this.#vd, this.#vi), 'vorbis_analysis_init');
      this.#open.dsp = true;
      check(api.blockInit(this.#vd, this.#vb), 'vorbis_block_init');
      this.#open.block = true;
      const id = {} as OggPacket;
      const comment = {} as OggPacket;
      const setup = {} as OggPacket;
      check(api.headerout(this.#vd, this.#vc, id, comment, setup), 'vorbis_analysis_headerout');
      this.#headers = pagesFor(
        [id, comment, setup].map((p) => this.#copy(p)),
        1,
        0,
        0n,
        true,
      );
      this.#seq = this.#headers.length;
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Encodes interleaved stereo s16 and returns the Ogg pages completed. Throws NativeCodecError on a library error. */
  encode(pcm: Buffer): Buffer[] {
    if (this.#closed) throw new NativeCodecError('encoder closed');
    const api = this.#api;
    const k = api.koffi;
    const out: Buffer[] = this.#headers ?? [];
    this.#headers = undefined;
    const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length >> 1);
    const frames = samples.length / CHANNELS;
    for (let at = 0; at < frames; at += STAGE_FRAMES) {
      const n = Math.min(STAGE_FRAMES, frames - at);
      const channels = k.decode(api.buffer(this.#vd, n), 'void *', CHANNELS) as unknown[];
      const left = new Float32Array(k.view(channels[0], n * 4));
      const right = new Float32Array(k.view(channels[1], n * 4));
      for (let i = 0, s = at * CHANNELS; i < n; i++, s += CHANNELS) {
        left[i] = (samples[s] as number) / 32768;
        right[i] = (samples[s + 1] as number) / 32768;
      }
      check(api.wrote(this.#vd, n), 'vorbis_analysis_wrote');
      this.#drain(out);
    }
    return out;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const api = this.#api;
    if (this.#open.block) api.blockClear(this.#vb);
    if (this.#open.dsp) api.dspClear(this.#vd);
    if (this.#open.comment) api.commentClear(this.#vc);
    if (this.#open.info) api.infoClear(this.#vi);
    for (const p of [this.#vi, this.#vc, this.#vd, this.#vb]) api.koffi.free(p);
  }

  /** Takes every packet the library has finished, and puts out a page each time ~pageSamples have gathered. */
  #drain(out: Buffer[]): void {
    const api = this.#api;
    while ((api.blockout(this.#vd, this.#vb) as number) === 1) {
      check(api.analysis(this.#vb, null), 'vorbis_analysis');
      check(api.addblock(this.#vb), 'vorbis_bitrate_addblock');
      const op = {} as OggPacket;
      while ((api.flushpacket(this.#vd, op) as number) === 1) {
        this.#packets.push(this.#copy(op));
        this.#granule = BigInt(op.granulepos);
        if (this.#granule - this.#pageStart >= BigInt(this.#pageSamples)) {
          const pages = pagesFor(this.#packets, 1, this.#seq, this.#granule, false);
          this.#seq += pages.length;
          out.push(...pages);
          this.#packets = [];
          this.#pageStart = this.#granule;
        }
      }
    }
  }

  #copy(p: OggPacket): Buffer {
    return Buffer.from(new Uint8Array(this.#api.koffi.view(p.packet, p.bytes)));
  }
}

function check(code: unknown, what: string): void {
  if (typeof code === 'number' && code < 0) throw new NativeCodecError(`${what} failed: ${code}`, code);
}
