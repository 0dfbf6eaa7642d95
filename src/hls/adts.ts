// Splits an ADTS byte stream into whole frames and reads what HLS needs from their headers
// (sample rate, frame length). Encoders hand over whole frames, but the splitter still resyncs on garbage.

/** Samples in one AAC-LC frame. */
export const AAC_FRAME_SAMPLES = 1024;

const SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350] as const;

export interface AdtsHeader {
  readonly frameLength: number;
  readonly sampleRate: number;
  readonly channelConfig: number;
  /** MPEG-4 audio object type (2 = AAC-LC). */
  readonly objectType: number;
}

/** Parses the 7-byte fixed+variable ADTS header at `offset`, or undefined if none is there. */
export function readAdtsHeader(buf: Buffer, offset = 0): AdtsHeader | undefined {
  if (offset + 7 > buf.length) return undefined;
  const b1 = buf[offset + 1] ?? 0;
  if (buf[offset] !== 0xff || (b1 & 0xf6) !== 0xf0) return undefined; // sync word + layer 00
  const b2 = buf[offset + 2] ?? 0;
  const b3 = buf[offset + 3] ?? 0;
  const b4 = buf[offset + 4] ?? 0;
  const b5 = buf[offset + 5] ?? 0;
  const sampleRate = SAMPLE_RATES[(b2 >> 2) & 0x0f];
  const frameLength = ((b3 & 0x03) << 11) | (b4 << 3) | (b5 >> 5);
  const headerLength = (b1 & 0x01) === 1 ? 7 : 9;
  if (sampleRate === undefined || frameLength < headerLength) return undefined;
  return { frameLength, sampleRate, channelConfig: ((b2 & 0x01) << 2) | (b3 >> 6), objectType: ((b2 >> 6) & 0x03) + 1 };
}

/**
 * Stateful splitter: feed it bytes, get whole frames (zero-copy views of the input where possible).
 * An incomplete tail is kept until the next push; the carry is bounded by the largest ADTS frame (8 KiB).
 */
export class AdtsSplitter {
  #carry: Buffer | undefined;
  #skippedBytes = 0;

  push(data: Buffer): { frames: Buffer[]; header: AdtsHeader | undefined } {
    const buf = this.#carry ? Buffer.concat([this.#carry, data]) : data;
    this.#carry = undefined;
    const frames: Buffer[] = [];
    let header: AdtsHeader | undefined;
    let off = 0;
    while (off + 7 <= buf.length) {
      const h = readAdtsHeader(buf, off);
      if (!h) {
        off++;
        this.#skippedBytes++;
        continue;
      }
      if (off + h.frameLength > buf.length) break;
      frames.push(buf.subarray(off, off + h.frameLength));
      header = h;
      off += h.frameLength;
    }
    if (off < buf.length) this.#carry = Buffer.from(buf.subarray(off)); // copy: do not pin the whole chunk
    return { frames, header };
  }

  /** Bytes thrown away while looking for a sync word (0 on a healthy encoder). */
  get skippedBytes(): number {
    return this.#skippedBytes;
  }

  reset(): void {
    this.#carry = undefined;
  }
}
