// Turns one encoder's continuous Ogg Vorbis stream into a chained stream (RFC 3533 §4, Vorbis I §A.2):
// a new logical stream, with the title in its comment header, wherever the caller asks for a new
// title. Pure protocol code: pages in, pages out.
//
// Why here and not in ffmpeg: Ogg carries the title only in a chain's comment header, and ffmpeg can
// write one only when it starts. Re-chaining used to mean a new ffmpeg per title, which kept Vorbis out
// of the process that encodes every other mount (issue 12 measured one process for all seven encodes
// at 10.6 % of a core against 12.4 % for two). Every chain here reuses the encoder's own identification
// and setup headers, so its audio packets decode unchanged under the new serial: the only cost is the
// one packet a Vorbis decoder spends on overlap at the start of any chain (≤ 23 ms), as with a restart.
import { oggCrc, readOggPage } from './ogg.js';

export interface ChainedPage {
  readonly data: Buffer;
  /** A chain's header page (identification, comment, setup): replayed to listeners joining it. */
  readonly header: boolean;
  /** Index of the chain the page belongs to, from 0. */
  readonly chain: number;
}

const HEADER_PACKETS = 3;
const COMMENT = Buffer.from('\x03vorbis', 'latin1');

/** Ogg pages for whole `packets` (each page ≤ 255 segments), all with `granule`; the last page ends the last packet. */
export function pagesFor(packets: readonly Buffer[], serial: number, seq: number, granule: bigint, bos: boolean): Buffer[] {
  const pages: Buffer[] = [];
  let lacing: number[] = [];
  let body: Buffer[] = [];
  let continued = false;
  const flush = (nextContinues: boolean): void => {
    pages.push(
      page(
        { serial, seq: seq + pages.length, granule: nextContinues ? -1n : granule, bos: bos && pages.length === 0, eos: false, continued },
        lacing,
        Buffer.concat(body),
      ),
    );
    continued = nextContinues;
    lacing = [];
    body = [];
  };
  for (const p of packets) {
    let left = p.length;
    let off = 0;
    // A packet is 255-byte segments and a final shorter one (0 if its length is a multiple of 255).
    for (;;) {
      const seg = Math.min(255, left);
      // A full page continues onto the next only if its last segment leaves a packet unfinished.
      if (lacing.length === 255) flush(lacing[254] === 255);
      lacing.push(seg);
      body.push(p.subarray(off, off + seg));
      off += seg;
      left -= seg;
      if (seg < 255) break;
    }
    // The identification header is alone on the first page (Vorbis I §A.2).
    if (bos && pages.length === 0) flush(false);
  }
  if (lacing.length > 0) flush(false);
  return pages;
}

interface PageFields {
  readonly serial: number;
  readonly seq: number;
  readonly granule: bigint;
  readonly bos: boolean;
  readonly eos: boolean;
  readonly continued: boolean;
}

function page(f: PageFields, lacing: readonly number[], body: Buffer): Buffer {
  const b = Buffer.alloc(27 + lacing.length + body.length);
  b.write('OggS', 0, 'latin1');
  b[5] = (f.continued ? 0x01 : 0) | (f.bos ? 0x02 : 0) | (f.eos ? 0x04 : 0);
  b.writeBigInt64LE(f.granule, 6);
  b.writeUInt32LE(f.serial, 14);
  b.writeUInt32LE(f.seq, 18);
  b[26] = lacing.length;
  lacing.forEach((l, i) => (b[27 + i] = l));
  body.copy(b, 27 + lacing.length);
  b.writeUInt32LE(oggCrc(b), 22);
  return b;
}

/**
 * A Vorbis comment header carrying `title` (and the encoder's vendor string and other comments, minus
 * any title of its own). Comments are length-prefixed UTF-8, so any title fits as it is.
 */
export function vorbisComment(original: Buffer, title: string): Buffer {
  let vendor: Buffer = Buffer.alloc(0);
  const kept: Buffer[] = [];
  if (original.length >= 15 && original.subarray(0, 7).equals(COMMENT)) {
    const vlen = original.readUInt32LE(7);
    vendor = original.subarray(11, 11 + vlen);
    let i = 11 + vlen;
    const n = i + 4 <= original.length ? original.readUInt32LE(i) : 0;
    i += 4;
    for (let k = 0; k < n && i + 4 <= original.length; k++) {
      const len = original.readUInt32LE(i);
      const c = original.subarray(i + 4, i + 4 + len);
      i += 4 + len;
      if (!/^title=/i.test(c.toString('latin1', 0, Math.min(6, c.length)))) kept.push(c);
    }
  }
  if (title !== '') kept.push(Buffer.from(`TITLE=${title}`, 'utf8'));
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  return Buffer.concat([
    COMMENT,
    u32(vendor.length),
    vendor,
    u32(kept.length),
    ...kept.flatMap((c) => [u32(c.length), c]),
    Buffer.from([1]),
  ]);
}

export class VorbisChainer {
  /** The encoder's header packets, as they complete (identification, comment, setup). */
  readonly #headers: Buffer[] = [];
  #partial: Buffer[] = [];
  #chain = -1;
  #title = '';
  #serial: number;
  #seq = 0;
  /** Source granule at the end of the last audio page passed on: the next chain's zero. */
  #lastGranule = 0n;
  #base = 0n;
  #lastOut = 0n;

  /** `serial` of the first chain; each later chain takes the next. */
  constructor(serial: number) {
    this.#serial = (serial - 1) >>> 0;
  }

  get chain(): number {
    return this.#chain;
  }

  /** Title of the current chain. */
  get title(): string {
    return this.#title;
  }

  /** True once the encoder's three header packets have arrived (audio can be passed on). */
  get ready(): boolean {
    return this.#headers.length === HEADER_PACKETS;
  }

  /**
   * One page of the encoder's single-chain stream (`src`, a whole page), to go out under `title`. Header
   * pages are taken in and nothing is returned for them; an audio page comes back rewritten into the
   * current chain, preceded, when `title` differs from the chain's (or no chain has started), by the
   * old chain's end (an empty EOS page) and the new chain's header pages.
   */
  page(src: Buffer, title: string): ChainedPage[] {
    const p = readOggPage(src);
    if (!p) return [];
    if (!this.ready) {
      this.#collect(src);
      return [];
    }
    const continued = ((src[5] ?? 0) & 0x01) !== 0;
    const out: ChainedPage[] = [];
    // A page that continues a packet cannot open a chain: that packet began in the current one.
    if (this.#chain < 0 || (title !== this.#title && !continued)) out.push(...this.#newChain(title));
    const b = Buffer.from(src.subarray(0, p.length));
    b[5] = (b[5] ?? 0) & 0x05; // never BOS: the chain's first page is its identification header
    const g = p.granule;
    if (g >= 0n) {
      this.#lastGranule = g;
      this.#lastOut = g > this.#base ? g - this.#base : 0n;
      b.writeBigInt64LE(this.#lastOut, 6);
    }
    b.writeUInt32LE(this.#serial, 14);
    b.writeUInt32LE(this.#seq++, 18);
    b.writeUInt32LE(0, 22);
    b.writeUInt32LE(oggCrc(b), 22);
    out.push({ data: b, header: false, chain: this.#chain });
    return out;
  }

  #newChain(title: string): ChainedPage[] {
    const out: ChainedPage[] = [];
    if (this.#chain >= 0) {
      // The old chain ends here (its last page went out already): an EOS page with no packet.
      const eos = page(
        { serial: this.#serial, seq: this.#seq, granule: this.#lastOut, bos: false, eos: true, continued: false },
        [],
        Buffer.alloc(0),
      );
      out.push({ data: eos, header: false, chain: this.#chain });
    }
    this.#chain++;
    this.#title = title;
    this.#serial = (this.#serial + 1) >>> 0;
    this.#base = this.#lastGranule;
    const [id, comment, setup] = this.#headers as [Buffer, Buffer, Buffer];
    const idPages = pagesFor([id], this.#serial, 0, 0n, true);
    const rest = pagesFor([vorbisComment(comment, title), setup], this.#serial, idPages.length, 0n, false);
    this.#seq = idPages.length + rest.length;
    for (const data of [...idPages, ...rest]) out.push({ data, header: true, chain: this.#chain });
    return out;
  }

  /** Reassembles header packets from the encoder's header pages (a packet may span pages). */
  #collect(src: Buffer): void {
    const nsegs = src[26] ?? 0;
    let off = 27 + nsegs;
    for (let s = 0; s < nsegs && this.#headers.length < HEADER_PACKETS; s++) {
      const lace = src[27 + s] ?? 0;
      this.#partial.push(src.subarray(off, off + lace));
      off += lace;
      if (lace < 255) {
        this.#headers.push(Buffer.concat(this.#partial));
        this.#partial = [];
      }
    }
  }
}
