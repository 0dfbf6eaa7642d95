// Gives each listener of an Ogg mount a stream whose granule positions start near 0, as if it had
// tuned in when the encoder started: page rewriting, its CRC, and epochs that share the rewrite.
//
// Why: VLC 3.0 takes an Ogg stream's time straight from the granule position (modules/demux/ogg.c,
// Demux(): `p_stream->i_pcr = VLC_TS_0 + Oggseek_GranuleToAbsTimestamp(granule)`, returned by
// DEMUX_GET_TIME), so a listener who joins a chain 30 s after its encoder started is "30 s into" the
// stream from its first page. Its input thread turns `--run-time`/`--stop-time` into a stop time on that
// clock (src/input/input.c, StartTitle() and MainLoopDemux(): `i_time >= i_stop` → EOF), so
// `cvlc --run-time=5` ends the input before the first block is decoded ("buffer deadlock prevented"),
// and ogg.c's first PCR "jitter" (first PCR − 0) prints "Consider increasing access caching variable
// from 1000 to >(ms since the encoder started)". Without those options VLC does play, showing the
// chain's age as elapsed time. Icecast relays pages untouched and fails the same way.
//
// A rebase must differ by join time, so it cannot be done once per chain in the encoder. It is not
// done per listener either: listeners who join within EPOCH_SAMPLES of each other share one epoch
// (one granule/page-sequence offset), whose rewritten copy of each chunk is made once and written to
// all of them. A new chain (generation) starts at granule 0 and is sent unmodified to everyone; VLC
// continues its clock across the chain boundary.
import { oggCrc, readOggPage } from '../codec/ogg.js';
import { SAMPLE_RATE } from '../types/pcm.js';

/** Listeners joining within this many samples of an epoch's origin share it (their first granule ≤ 1 s + one chunk). */
export const EPOCH_SAMPLES = SAMPLE_RATE;
/** Bound on live epochs per mount: past it, newcomers join the newest epoch whatever its age. */
export const MAX_EPOCHS = 256;

/** Length of the whole page at `i`, or 0 where no complete page starts. */
function pageLen(b: Buffer, i: number): number {
  return readOggPage(b, i)?.length ?? 0;
}

/** Granule of the last page in `data` that has one (not -1), and the page sequence of its first page. */
export function pagesSpan(data: Buffer): { firstSeq: number; lastGranule: bigint } | undefined {
  let i = 0;
  let firstSeq = -1;
  let last = -1n;
  for (let len = pageLen(data, 0); len > 0; len = pageLen(data, i)) {
    if (firstSeq < 0) firstSeq = data.readUInt32LE(i + 18);
    const g = data.readBigInt64LE(i + 6);
    if (g >= 0n) last = g;
    i += len;
  }
  return firstSeq < 0 || last < 0n ? undefined : { firstSeq, lastGranule: last };
}

export interface OggRebase {
  /** Subtracted from every granule position (-1, "no packet ends here", is kept). */
  readonly granule: bigint;
  /** Subtracted from every page sequence number (mod 2^32). */
  readonly pageSeq: number;
}

/** A copy of `data` (whole pages) with granules and page sequence numbers rebased and CRCs recomputed. */
export function rebasePages(data: Buffer, by: OggRebase): Buffer {
  const out = Buffer.allocUnsafe(data.length);
  data.copy(out);
  let i = 0;
  for (let len = pageLen(out, 0); len > 0; len = pageLen(out, i)) {
    const g = out.readBigInt64LE(i + 6);
    if (g >= 0n) out.writeBigInt64LE(g > by.granule ? g - by.granule : 0n, i + 6);
    out.writeUInt32LE((out.readUInt32LE(i + 18) - by.pageSeq) >>> 0, i + 18);
    out.writeUInt32LE(0, i + 22);
    out.writeUInt32LE(oggCrc(out, i, i + len), i + 22);
    i += len;
  }
  return out;
}

/** Rebased chunks an epoch keeps while newcomers may still join it: a burst's worth (2 s of 40 ms pages) and more. */
const JOINABLE_VIEWS = 128;

/** Listeners who tuned in to one chain at about the same time, and the rewritten chunks they share. */
export class OggEpoch {
  listeners = 0;
  /** Rebased copies by source chunk. While the epoch is joinable, newcomers' bursts reuse them. */
  readonly #views = new Map<Buffer, Buffer>();
  #joinable = true;

  constructor(
    readonly generation: number,
    readonly by: OggRebase,
  ) {}

  /** The rebased copy of `data`, made once per epoch whatever the number of its listeners. */
  view(data: Buffer): Buffer {
    let out = this.#views.get(data);
    if (out) return out;
    out = rebasePages(data, this.by);
    if (this.#views.size >= (this.#joinable ? JOINABLE_VIEWS : 1)) this.#views.delete(this.#views.keys().next().value as Buffer);
    this.#views.set(data, out);
    return out;
  }

  /** A newer epoch takes the newcomers: keep only the latest copy from now on. */
  close(): void {
    this.#joinable = false;
    while (this.#views.size > 1) this.#views.delete(this.#views.keys().next().value as Buffer);
  }

  /** Drops the cached copies (nobody left). */
  clear(): void {
    this.#views.clear();
  }
}

/** A mount's epochs for its current chain: which one a new listener joins. No I/O, no timers. */
export class OggEpochs {
  #epochs: OggEpoch[] = [];
  /** Newcomers who joined an epoch older than EPOCH_SAMPLES because MAX_EPOCHS were live. */
  overflowJoins = 0;

  /**
   * The epoch for a listener whose first audio page after the headers is `firstAudio` (whole pages)
   * covering `samples`, in chain `generation` with `headerPages` header pages; undefined if the chunk
   * carries no granule (nothing to rebase).
   */
  join(generation: number, firstAudio: Buffer, samples: number, headerPages: number): OggEpoch | undefined {
    const span = pagesSpan(firstAudio);
    if (!span) return undefined;
    const start = span.lastGranule - BigInt(samples);
    this.#epochs = this.#epochs.filter((e) => e.listeners > 0);
    // Epochs of an older chain get no more chunks to rebase: keep no more than their last copy.
    for (const e of this.#epochs) if (e.generation < generation) e.close();
    const newest = this.#epochs.findLast((e) => e.generation === generation);
    const fits = newest !== undefined && start >= newest.by.granule && start - newest.by.granule <= BigInt(EPOCH_SAMPLES);
    let epoch = fits ? newest : undefined;
    const live = this.#epochs.reduce((n, e) => n + (e.generation === generation ? 1 : 0), 0);
    if (!epoch && newest && live >= MAX_EPOCHS && start >= newest.by.granule) {
      // Rare (hundreds of join seconds with listeners still on each): share rather than grow the per-chunk work.
      this.overflowJoins++;
      epoch = newest;
    }
    if (!epoch) {
      newest?.close();
      epoch = new OggEpoch(generation, { granule: start > 0n ? start : 0n, pageSeq: (span.firstSeq - headerPages) >>> 0 });
      this.#epochs.push(epoch);
    }
    epoch.listeners++;
    return epoch;
  }

  leave(epoch: OggEpoch): void {
    epoch.listeners--;
    if (epoch.listeners <= 0) epoch.clear();
  }

  /** Live epochs (for tests and status). */
  get size(): number {
    return this.#epochs.filter((e) => e.listeners > 0).length;
  }
}
