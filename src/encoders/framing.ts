// Cuts an encoder's stdout into whole codec units (MP3 frames, ADTS frames, Ogg pages), so every
// EncodedChunk starts on a boundary a player can start from. Pure: bytes in, units out, no I/O.
import type { Codec } from '../types/contracts.js';

export interface Framed {
  /** Whole units only; a subarray of the input when possible (no copy). */
  readonly data: Buffer;
  readonly frames: number;
  readonly samples: number;
  /** Ogg only: the page starts a logical stream or holds only headers (granule 0). */
  readonly oggHeader: boolean;
  /** Ogg only: the serial of the logical stream. */
  readonly serial: number;
}

/** A remainder larger than this without a valid unit is garbage: dropped, and the framer resyncs. */
const MAX_REMAINDER = 256 * 1024;

const MP3_BITRATES_V1_L3 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0];
const MP3_BITRATES_V2_L3 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0];
const MP3_RATES: Record<number, readonly number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

/** Length and samples of the MPEG Layer III frame at `i`, or undefined if no valid header is there. */
export function mp3FrameAt(b: Buffer, i: number): { len: number; samples: number } | undefined {
  if (i + 4 > b.length) return undefined;
  const b1 = b[i + 1] as number;
  const b2 = b[i + 2] as number;
  if (b[i] !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const version = (b1 >> 3) & 3; // 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5
  const layer = (b1 >> 1) & 3; // 1 = Layer III
  if (version === 1 || layer !== 1) return undefined;
  const kbps = (version === 3 ? MP3_BITRATES_V1_L3 : MP3_BITRATES_V2_L3)[b2 >> 4] ?? 0;
  const rate = MP3_RATES[version]?.[(b2 >> 2) & 3];
  if (kbps === 0 || rate === undefined) return undefined;
  const padding = (b2 >> 1) & 1;
  const coef = version === 3 ? 144 : 72;
  return { len: Math.floor((coef * kbps * 1000) / rate) + padding, samples: version === 3 ? 1152 : 576 };
}

/** Length and samples of the ADTS frame at `i`, or undefined if no valid header is there. */
export function adtsFrameAt(b: Buffer, i: number): { len: number; samples: number } | undefined {
  if (i + 7 > b.length) return undefined;
  if (b[i] !== 0xff || ((b[i + 1] as number) & 0xf6) !== 0xf0) return undefined;
  const len = (((b[i + 3] as number) & 0x03) << 11) | ((b[i + 4] as number) << 3) | ((b[i + 5] as number) >> 5);
  if (len < 7) return undefined;
  return { len, samples: 1024 * (((b[i + 6] as number) & 0x03) + 1) };
}

export interface OggPage {
  readonly len: number;
  readonly bos: boolean;
  readonly eos: boolean;
  readonly granule: bigint;
  readonly serial: number;
  readonly pageSeq: number;
  /** Complete packets ending on this page. */
  readonly packets: number;
}

/** The Ogg page at `i` if all of it is in `b`; undefined if it is incomplete; null if `i` is not a page. */
export function oggPageAt(b: Buffer, i: number): OggPage | undefined | null {
  if (i + 27 > b.length) return b.length - i >= 4 && b.toString('latin1', i, i + 4) !== 'OggS' ? null : undefined;
  if (b.toString('latin1', i, i + 4) !== 'OggS' || b[i + 4] !== 0) return null;
  const nsegs = b[i + 26] as number;
  if (i + 27 + nsegs > b.length) return undefined;
  let body = 0;
  let packets = 0;
  for (let s = 0; s < nsegs; s++) {
    const lace = b[i + 27 + s] as number;
    body += lace;
    if (lace < 255) packets++;
  }
  const len = 27 + nsegs + body;
  if (i + len > b.length) return undefined;
  const flags = b[i + 5] as number;
  return {
    len,
    bos: (flags & 0x02) !== 0,
    eos: (flags & 0x04) !== 0,
    granule: b.readBigInt64LE(i + 6),
    serial: b.readUInt32LE(i + 14),
    pageSeq: b.readUInt32LE(i + 18),
    packets,
  };
}

/** Incremental framer for one encoder run. */
export class Framer {
  #rest: Buffer | undefined;
  #lastGranule = 0n;
  /** Bytes dropped while resyncing (never expected from our own encoders; counted for the snapshot). */
  skipped = 0;

  constructor(private readonly codec: Codec) {}

  push(input: Buffer): Framed[] {
    const b = this.#rest ? Buffer.concat([this.#rest, input]) : input;
    this.#rest = undefined;
    const out = this.codec === 'vorbis' ? this.#ogg(b) : this.#frames(b);
    if (this.#rest && (this.#rest as Buffer).length > MAX_REMAINDER) {
      this.skipped += (this.#rest as Buffer).length;
      this.#rest = undefined;
    }
    return out;
  }

  #frames(b: Buffer): Framed[] {
    const at = this.codec === 'mp3' ? mp3FrameAt : adtsFrameAt;
    const headerLen = this.codec === 'mp3' ? 4 : 7;
    let i = 0;
    let start = -1;
    let frames = 0;
    let samples = 0;
    const out: Framed[] = [];
    while (i < b.length) {
      const f = at(b, i);
      if (f === undefined) {
        if (b.length - i < headerLen) break; // a header cut short: wait for the rest
        // Not a frame: flush what we have and scan to the next sync byte.
        if (frames > 0) out.push({ data: b.subarray(start, i), frames, samples, oggHeader: false, serial: 0 });
        frames = 0;
        samples = 0;
        start = -1;
        const next = b.indexOf(0xff, i + 1);
        const to = next < 0 ? b.length : next;
        this.skipped += to - i;
        i = to;
        continue;
      }
      if (i + f.len > b.length) break;
      if (start < 0) start = i;
      frames++;
      samples += f.samples;
      i += f.len;
    }
    if (frames > 0) out.push({ data: b.subarray(start, i), frames, samples, oggHeader: false, serial: 0 });
    if (i < b.length) this.#rest = Buffer.from(b.subarray(i));
    return out;
  }

  #ogg(b: Buffer): Framed[] {
    const out: Framed[] = [];
    let i = 0;
    while (i < b.length) {
      const p = oggPageAt(b, i);
      if (p === undefined) break;
      if (p === null) {
        const next = b.indexOf('OggS', i + 1, 'latin1');
        const to = next < 0 ? Math.max(i + 1, b.length - 3) : next;
        this.skipped += to - i;
        i = to;
        continue;
      }
      // Header pages: the BOS page and the comment/setup pages, which carry granule 0.
      const header = p.bos || p.granule === 0n;
      if (p.bos) this.#lastGranule = 0n;
      let samples = 0;
      if (!header && p.granule > this.#lastGranule) {
        samples = Number(p.granule - this.#lastGranule);
        this.#lastGranule = p.granule;
      }
      out.push({ data: b.subarray(i, i + p.len), frames: header ? 0 : p.packets, samples, oggHeader: header, serial: p.serial });
      i += p.len;
    }
    if (i < b.length) this.#rest = Buffer.from(b.subarray(i));
    return out;
  }
}
