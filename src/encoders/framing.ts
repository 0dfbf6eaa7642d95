// Cuts an encoder's stdout into whole codec units (MP3 frames, ADTS frames, Ogg pages), so every
// EncodedChunk starts on a boundary a player can start from. Pure: bytes in, units out, no I/O.
import { readAdtsHeader } from '../codec/adts.js';
import type { ReadFrameHeader } from '../codec/frame.js';
import { readMpegHeader } from '../codec/mpeg.js';
import { readOggPage } from '../codec/ogg.js';
import type { Codec, EncodedChunk } from '../types/contracts.js';

/** A run of whole units as the encoder hands it on: the EncodedChunk fields the bytes alone decide. */
export interface Framed extends Pick<EncodedChunk, 'data' | 'frames' | 'samples' | 'frameEnds' | 'oggHeader'> {
  /** Ogg only: the serial of the logical stream. */
  readonly serial: number;
}

/** A remainder larger than this without a valid unit is garbage: dropped, and the framer resyncs. */
const MAX_REMAINDER = 256 * 1024;

/** Our MP3 encoder is LAME: a Layer I/II header in its output is a chance sync, not a frame. */
const readLayer3: ReadFrameHeader = (b, i) => {
  const h = readMpegHeader(b, i);
  return h?.layer === 3 ? h : undefined;
};

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
    const at = this.codec === 'mp3' ? readLayer3 : readAdtsHeader;
    const headerLen = this.codec === 'mp3' ? 4 : 7;
    let i = 0;
    let start = -1;
    let frames = 0;
    let samples = 0;
    let ends: number[] = [];
    const out: Framed[] = [];
    while (i < b.length) {
      const f = at(b, i);
      if (f === undefined) {
        if (b.length - i < headerLen) break; // a header cut short: wait for the rest
        // Not a frame: flush what we have and scan to the next sync byte.
        if (frames > 0) out.push({ data: b.subarray(start, i), frames, samples, frameEnds: ends, oggHeader: false, serial: 0 });
        frames = 0;
        samples = 0;
        ends = [];
        start = -1;
        const next = b.indexOf(0xff, i + 1);
        const to = next < 0 ? b.length : next;
        this.skipped += to - i;
        i = to;
        continue;
      }
      if (i + f.length > b.length) break;
      if (start < 0) start = i;
      frames++;
      samples += f.samples;
      i += f.length;
      ends.push(i - start);
    }
    if (frames > 0) out.push({ data: b.subarray(start, i), frames, samples, frameEnds: ends, oggHeader: false, serial: 0 });
    if (i < b.length) this.#rest = Buffer.from(b.subarray(i));
    return out;
  }

  #ogg(b: Buffer): Framed[] {
    const out: Framed[] = [];
    let i = 0;
    while (i < b.length) {
      const p = readOggPage(b, i);
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
      out.push({
        data: b.subarray(i, i + p.length),
        frames: header ? 0 : p.packets,
        samples,
        frameEnds: [p.length],
        oggHeader: header,
        serial: p.serial,
      });
      i += p.length;
    }
    if (i < b.length) this.#rest = Buffer.from(b.subarray(i));
    return out;
  }
}
