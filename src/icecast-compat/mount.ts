// One listener mount: a bounded ring of immutable encoded chunks shared by every listener, burst on
// connect, ICY interleaving, slow-listener drops. No per-listener timers or per-chunk closures:
// every write happens in the encoder's output callback, one pass over the listeners.
import type { Logger } from 'pino';
import type { MountConfig } from '../config/load.js';
import type { EncodedChunk, EncodedStream, OnAirMeta } from '../types/contracts.js';
import type { ListenerEvents, ListenerInfo } from '../types/events.js';
import type { TypedEmitter } from '../util/typed-emitter.js';
import { SAMPLE_RATE } from '../types/pcm.js';
import { OggEpochs, type OggEpoch } from './ogg-rebase.js';
import { ICY_EMPTY, icyBlock } from './wire.js';

interface Entry {
  readonly data: Buffer;
  readonly meta: OnAirMeta;
  readonly generation: number;
  readonly samples: number;
  /** Ogg header pages (BOS, comment, setup) of `generation`. */
  readonly header: boolean;
}

/**
 * Where a listener's bytes go: the raw socket of an HTTP/1.x response (taken over from Fastify), or the
 * HTTP/2 stream of an h2 request. Both are Writables whose writableLength is the bytes not yet sent, so
 * the fan-out loop and the slow-listener bound are the same for both (and a socket is used as is).
 */
export interface ListenerSink {
  write(data: Buffer): boolean;
  cork(): void;
  uncork(): void;
  readonly writableLength: number;
  destroy(): void;
}

export interface Listener {
  readonly id: number;
  readonly sink: ListenerSink;
  /** 1 for HTTP/1.x (ICY possible), 2 for HTTP/2 (no ICY: titles reach h2 players through the API). */
  readonly httpVersion: 1 | 2;
  /** One write's cost by transport (WRITE_COST): sets the mount's batch size. */
  readonly writeCost: number;
  readonly ip: string;
  readonly userAgent: string;
  readonly connectedAt: number;
  /** ICY interval, or 0 for no ICY metadata. */
  readonly metaint: number;
  /** Audio bytes left before the next ICY block. */
  untilMeta: number;
  /** Title of the last ICY block sent (undefined: none sent yet, so the first block is never empty). */
  lastTitle: string | undefined;
  bytesSent: number;
  mount: Mount | undefined;
  /** Ogg mounts: the granule rebase this listener shares with those who tuned in at about the same time. */
  oggEpoch: OggEpoch | undefined;
}

export type DropReason = 'slow' | 'closed' | 'killed' | 'shutdown';

export interface MountOptions {
  readonly config: MountConfig;
  readonly stream: EncodedStream;
  readonly log: Logger;
  readonly queueBytes: number;
  readonly burstSeconds: number;
  /** Called when a listener leaves, whatever the reason (for global counts). */
  readonly onLeave: (l: Listener, reason: DropReason) => void;
  /** Where listeners arriving and leaving are reported. */
  readonly events: TypedEmitter<ListenerEvents>;
}

/**
 * What one write to a listener costs next to one to a plain HTTP socket: the main thread's time per
 * write measured with `npm run bench -- tls` (2026-11-30; CPU per 1,000 listeners above idle over
 * their writes a second) was ~7–11 µs plain, ~18–22 µs HTTPS/1.1 (a TLS record each) and ~27–33 µs
 * over h2 (nghttp2 framing, a TLS record, and a second write request per session).
 */
export const WRITE_COST = { plain: 1, tls: 2, h2: 4 } as const;

/**
 * Listener writes are batched by what a pass over the listeners costs (their WRITE_COST summed): with
 * few, every frame goes out at once (latency is the product); with more, the batch doubles with each
 * doubling of the audience, so the main thread makes at most ~20,000 plain writes a second up to 8,000
 * listeners (25,000 at 10,000), where a frame per write would be 380,000. Each write costs the same
 * whatever its size (its syscall, ~7–14 µs), so at 5,000 listeners 200 ms batches held the main thread
 * in `write()` for about a third of its time; with 400 ms the whole server's CPU there fell by a third,
 * and at 10,000 by half (README, *Listener fan-out*). Weighing listeners by their transport matters because h2 listeners counted as plain ones
 * were written 20 times a second up to 2,000 of them, which alone took the whole main thread while 500
 * h2 listeners a second connected (`npm run bench -- tls`). Listeners hold seconds of burst, so 400 ms
 * at the edge is never heard.
 */
export function batchSamples(writeCost: number): number {
  if (writeCost <= 200) return 1;
  if (writeCost <= 1000) return Math.round(SAMPLE_RATE / 20);
  if (writeCost <= 2000) return Math.round(SAMPLE_RATE / 10);
  if (writeCost <= 4000) return Math.round(SAMPLE_RATE / 5);
  return Math.round(SAMPLE_RATE * 0.4);
}

/** WRITE_COST written per turn of the event loop: 500 plain listeners (~7 ms of write syscalls), 125 over h2. */
const FANOUT_SLICE = 500;
/** Passes waiting at most (each holds a copy of the listener list). */
const MAX_JOBS = 8;

export class Mount {
  readonly path: string;
  readonly config: MountConfig;
  readonly listeners = new Set<Listener>();
  readonly startedAt = Date.now();
  readonly #log: Logger;
  readonly #opts: MountOptions;
  readonly #ring: Entry[] = [];
  #ringBytes = 0;
  /** Ogg header pages per generation still referenced by the ring (plus the current one). */
  readonly #oggHeaders = new Map<number, Buffer[]>();
  /** Ogg: which rebase a new listener gets, so VLC sees granules start near 0 (see ogg-rebase.ts). */
  readonly oggEpochs = new OggEpochs();
  /** Passes over the listeners still being written, oldest first (see #append). */
  readonly #jobs: { entry: Entry; targets: Listener[]; next: number }[] = [];
  #draining = false;
  #pending: EncodedChunk[] = [];
  #pendingSamples = 0;
  #icy: { title: string; block: Buffer } | undefined;
  #unsubscribe: () => void = () => undefined;
  peak = 0;
  slowListeners = 0;
  bytesSent = 0;
  bytesIn = 0;
  meta: OnAirMeta | undefined;
  #generation = -1;
  /** WRITE_COST of the listeners here, summed. */
  #writeCost = 0;

  private constructor(opts: MountOptions) {
    this.#opts = opts;
    this.config = opts.config;
    this.path = opts.config.mount;
    this.#log = opts.log.child({ mount: this.path });
  }

  /** A mount taking its encoder's output from now on; listeners may attach once it resolves. */
  static create(opts: MountOptions): Promise<Mount> {
    const m = new Mount(opts);
    m.#unsubscribe = opts.stream.subscribe((c) => m.#onChunk(c));
    return Promise.resolve(m);
  }

  get isOgg(): boolean {
    return this.config.codec === 'vorbis';
  }

  /**
   * Takes a listener: a new arrival (`arriving`) gets `head` (HTTP/1: the raw response head; h2 has sent
   * its HEADERS frame already) and the burst in one corked write. A listener moved here by moveclients
   * arrives with neither.
   */
  attach(l: Listener, head: Buffer | undefined, arriving = head !== undefined): void {
    l.mount = this;
    this.listeners.add(l);
    this.#writeCost += l.writeCost;
    if (this.listeners.size > this.peak) this.peak = this.listeners.size;
    if (arriving) this.#opts.events.emit('listener-connected', { ...this.#info(l), at: Date.now() });
    l.sink.cork();
    if (head) l.sink.write(head);
    if (arriving) this.#burst(l);
    process.nextTick(() => l.sink.uncork());
  }

  /** Removes a listener without closing it (moveclients); returns false if it was not here. */
  detach(l: Listener): boolean {
    if (l.mount !== this) return false;
    this.listeners.delete(l);
    this.#writeCost -= l.writeCost;
    l.mount = undefined;
    if (l.oggEpoch) this.oggEpochs.leave(l.oggEpoch);
    l.oggEpoch = undefined;
    return true;
  }

  drop(l: Listener, reason: DropReason): void {
    if (!this.detach(l)) return;
    if (reason === 'slow') {
      this.slowListeners++;
      this.#log.info(
        { listener: l.id, ip: l.ip, queued: l.sink.writableLength, httpVersion: l.httpVersion },
        'listener fell too far behind, removing',
      );
    }
    l.sink.destroy();
    this.#opts.onLeave(l, reason);
    const at = Date.now();
    this.#opts.events.emit('listener-disconnected', { ...this.#info(l), at, durationMs: at - l.connectedAt, bytes: l.bytesSent, reason });
  }

  #info(l: Listener): ListenerInfo {
    return { id: `icecast-${l.id}`, protocol: 'icecast', mount: this.path, remoteAddress: l.ip, userAgent: l.userAgent.slice(0, 256) };
  }

  close(): void {
    this.#unsubscribe();
    this.#unsubscribe = () => undefined;
    this.#jobs.length = 0;
    for (const l of [...this.listeners]) this.drop(l, 'shutdown');
  }

  #onChunk(c: EncodedChunk): void {
    this.bytesIn += c.data.length;
    const header = c.oggHeader;
    const first = this.#pending[0];
    if (first && (header || first.generation !== c.generation || first.meta.title !== c.meta.title)) this.#flush();
    if (header) {
      this.#pushHeader(c);
      return;
    }
    this.#pending.push(c);
    this.#pendingSamples += c.samples;
    if (this.#pendingSamples >= batchSamples(this.#writeCost)) this.#flush();
  }

  #pushHeader(c: EncodedChunk): void {
    let pages = this.#oggHeaders.get(c.generation);
    if (!pages) {
      pages = [];
      this.#oggHeaders.set(c.generation, pages);
    }
    // A chain's headers are three packets on two or three pages; anything beyond is not a header.
    if (pages.length < 8) pages.push(c.data);
    this.#append({ data: c.data, meta: c.meta, generation: c.generation, samples: 0, header: true });
  }

  #flush(): void {
    const chunks = this.#pending;
    if (chunks.length === 0) return;
    const first = chunks[0] as EncodedChunk;
    // One copy per batch, shared by every listener of the mount.
    const data = chunks.length === 1 ? first.data : Buffer.concat(chunks.map((c) => c.data));
    const entry: Entry = {
      data,
      meta: chunks[chunks.length - 1]?.meta ?? first.meta,
      generation: first.generation,
      samples: this.#pendingSamples,
      header: false,
    };
    this.#pending = [];
    this.#pendingSamples = 0;
    this.#append(entry);
  }

  #append(e: Entry): void {
    this.meta = e.meta;
    this.#generation = e.generation;
    this.#ring.push(e);
    this.#ringBytes += e.data.length;
    while (this.#ringBytes > this.#opts.queueBytes && this.#ring.length > 1) {
      const old = this.#ring.shift() as Entry;
      this.#ringBytes -= old.data.length;
    }
    if (this.isOgg) this.#pruneHeaders();
    if (this.#jobs.length === 0 && this.#writeCost <= FANOUT_SLICE) {
      for (const l of this.listeners) this.#deliver(l, e);
      return;
    }
    // Thousands of listeners: one pass would hold the event loop for tens of milliseconds (a write
    // syscall each), and every connection arriving meanwhile would wait for its first byte. The pass is
    // cut into slices with the loop free between them. Jobs run in order, so each listener still gets
    // the entries in order; one who arrives mid-pass had this entry in its burst and is not a target.
    this.#jobs.push({ entry: e, targets: [...this.listeners], next: 0 });
    // Bounded: if slices fall this far behind, the backlog is written at once, as before slicing.
    if (this.#jobs.length > MAX_JOBS) while (this.#jobs.length > 0) this.#slice();
    if (!this.#draining && this.#jobs.length > 0) {
      this.#draining = true;
      setImmediate(this.#drain);
    }
  }

  readonly #drain = (): void => {
    this.#slice();
    if (this.#jobs.length > 0) setImmediate(this.#drain);
    else this.#draining = false;
  };

  #slice(): void {
    const job = this.#jobs[0];
    if (!job) return;
    let cost = 0;
    for (; job.next < job.targets.length && cost < FANOUT_SLICE; job.next++) {
      const l = job.targets[job.next] as Listener;
      cost += l.writeCost;
      if (l.mount === this) this.#deliver(l, job.entry);
    }
    if (job.next === job.targets.length) this.#jobs.shift();
  }

  #deliver(l: Listener, e: Entry): void {
    // The socket's own queue is the listener's position in the ring: past the bound it is dropped.
    if (l.sink.writableLength > this.#opts.queueBytes) this.drop(l, 'slow');
    else this.#write(l, e);
  }

  #pruneHeaders(): void {
    const oldest = this.#ring[0]?.generation ?? this.#generation;
    for (const g of this.#oggHeaders.keys()) if (g < oldest && g !== this.#generation) this.#oggHeaders.delete(g);
  }

  /** Sends the last burstSeconds of audio, starting on a frame (MP3/ADTS) or after an Ogg chain's headers. */
  #burst(l: Listener): void {
    const want = this.#opts.burstSeconds * SAMPLE_RATE;
    let i = this.#ring.length;
    let samples = 0;
    while (i > 0 && samples < want) {
      i--;
      samples += (this.#ring[i] as Entry).samples;
    }
    // Never start inside a run of header pages: the whole header set is sent explicitly below.
    while (i < this.#ring.length && (this.#ring[i] as Entry).header) i++;
    if (this.isOgg) {
      const first = this.#ring[i];
      const gen = first?.generation ?? this.#generation;
      const headers = this.#oggHeaders.get(gen) ?? [];
      for (const page of headers) this.#writeAudio(l, page, undefined);
      // Connect-time only: the epoch decides the rebase; later chunks reach it through #write.
      if (first) l.oggEpoch = this.oggEpochs.join(gen, first.data, first.samples, headers.length);
    }
    for (; i < this.#ring.length; i++) this.#write(l, this.#ring[i] as Entry);
  }

  #write(l: Listener, e: Entry): void {
    const epoch = l.oggEpoch;
    // Only this chain's audio pages are rebased; a newer chain starts at granule 0 for everyone.
    if (epoch !== undefined && epoch.generation === e.generation && !e.header) this.#writeAudio(l, epoch.view(e.data), e.meta);
    else this.#writeAudio(l, e.data, e.meta);
  }

  #writeAudio(l: Listener, data: Buffer, meta: OnAirMeta | undefined): void {
    const s = l.sink;
    l.bytesSent += data.length;
    this.bytesSent += data.length;
    if (l.metaint === 0 || meta === undefined) {
      s.write(data);
      return;
    }
    let off = 0;
    while (off < data.length) {
      const n = Math.min(l.untilMeta, data.length - off);
      s.write(off === 0 && n === data.length ? data : data.subarray(off, off + n));
      off += n;
      l.untilMeta -= n;
      if (l.untilMeta === 0) {
        s.write(this.#metaBlock(l, meta.title));
        l.untilMeta = l.metaint;
      }
    }
  }

  /** The ICY block for `title`: a shared buffer, or the 1-byte "unchanged" block. */
  #metaBlock(l: Listener, title: string): Buffer {
    if (l.lastTitle === title) return ICY_EMPTY;
    l.lastTitle = title;
    if (this.#icy?.title !== title) this.#icy = { title, block: icyBlock(title, this.config.charset) };
    this.bytesSent += this.#icy.block.length;
    return this.#icy.block;
  }

  /** WRITE_COST of the listeners here, summed (what the batch size follows). */
  get writeCost(): number {
    return this.#writeCost;
  }

  /** Seconds of audio in the ring (for status and tests). */
  get bufferedSeconds(): number {
    let s = 0;
    for (const e of this.#ring) s += e.samples;
    return s / SAMPLE_RATE;
  }
}
