// What every audio frame header says, whatever the format (MPEG audio, ADTS): the shape the sniffer,
// the encoder framer and the tests read frames by. Pure protocol code; no pipeline stage is imported.

export interface FrameHeader {
  /** Bytes of the whole frame, header (and padding) included: the next header starts there. */
  readonly length: number;
  /** PCM samples per channel the frame decodes to. */
  readonly samples: number;
  readonly sampleRate: number;
  /** Bits that must repeat in the next frame's header: a chance sync in other bytes rarely repeats them. */
  readonly key: number;
}

/** Reads the frame header at `i` of `b`, or undefined if there is no valid one. */
export type ReadFrameHeader = (b: Buffer, i: number) => FrameHeader | undefined;
