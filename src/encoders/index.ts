// The encoders stage: one supervised ffmpeg per distinct codec + bitrate/quality, fed from the
// programme. Mounts and HLS tiers that ask for the same spec share one encoder (acquire()).
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { EncodedStream, EncoderSpec, ProgrammeSource } from '../types/contracts.js';
import { encoderSpecOf } from '../types/encoder-spec.js';
import { Encoder, encoderKey, type EncoderEvents, type EncoderSnapshot } from './encoder.js';

export { encoderKey, type EncoderSnapshot, type EncoderEvents } from './encoder.js';

export interface EncodersOptions {
  readonly config: Pick<Config, 'mounts'>;
  readonly log: Logger;
  readonly ffmpegPath: string;
  readonly programme: ProgrammeSource;
  /** Stdin bound per encoder (default 2 s of PCM); past it the encoder is stalled and restarted. */
  readonly maxQueueBytes?: number;
  /**
   * Ogg page duration (default 40 ms: about two Vorbis packets a page). Measured on loopback: 100 ms
   * pages made the Ogg mounts ~70 ms later than MP3 320k; 40 ms makes them no later, for ~5 kbit/s of
   * page headers.
   */
  readonly oggPageDurationUs?: number;
}

export interface Encoders {
  /**
   * The shared encoder for `spec`, started if it is not running yet (key = codec + bitrate, or
   * codec + quality when no bitrate). Same spec → same EncodedStream; e.g. HLS's
   * `acquire({ codec: 'aac', bitrate: 128_000 })` shares `/listen/live.aac`'s encoder. Chunks are whole
   * frames (MP3, ADTS) or whole Ogg pages, each with the OnAirMeta of its audio; `generation` bumps
   * when the bitstream restarts (encoder restart, or for Ogg a new chain on a title change).
   * Encoders live until close(); there is no release.
   */
  acquire(spec: EncoderSpec): EncodedStream;
  snapshot(): EncoderSnapshot[];
  /** Died / started events of every encoder, for the status API. */
  on<K extends keyof EncoderEvents & string>(event: K, fn: (payload: EncoderEvents[K]) => void): () => void;
  close(): Promise<void>;
}

/** Starts an encoder for every configured mount; resolves when all of them are running. */
export async function createEncoders(opts: EncodersOptions): Promise<Encoders> {
  const log = opts.log.child({ component: 'encoders' });
  const encoders = new Map<string, Encoder>();
  const observers: { event: string; fn: (p: never) => void }[] = [];
  let closed = false;

  const make = (spec: EncoderSpec): { enc: Encoder; ready: Promise<void> } => {
    const enc = new Encoder({
      spec: encoderSpecOf(spec),
      ffmpegPath: opts.ffmpegPath,
      log,
      initialMeta: opts.programme.currentMeta,
      ...(opts.maxQueueBytes !== undefined ? { maxQueueBytes: opts.maxQueueBytes } : {}),
      ...(opts.oggPageDurationUs !== undefined ? { oggPageDurationUs: opts.oggPageDurationUs } : {}),
    });
    for (const o of observers) enc.events.on(o.event, o.fn as (p: unknown) => void);
    encoders.set(enc.key, enc);
    return { enc, ready: enc.start() };
  };

  const readies: Promise<void>[] = [];
  for (const m of opts.config.mounts) {
    const spec = encoderSpecOf(m);
    if (!encoders.has(encoderKey(spec))) readies.push(make(spec).ready);
  }

  // One subscription for all encoders: the mixer calls one function per chunk, whatever the count.
  const unsubscribe = opts.programme.subscribe((chunk) => {
    for (const enc of encoders.values()) enc.write(chunk);
  });

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    unsubscribe();
    await Promise.all([...encoders.values()].map((e) => e.close()));
    encoders.clear();
  };

  try {
    await Promise.all(readies);
  } catch (err) {
    await close();
    throw err;
  }
  log.info({ encoders: [...encoders.keys()] }, 'encoders running');

  return {
    acquire(spec) {
      const existing = encoders.get(encoderKey(spec));
      if (existing) return existing;
      if (closed) throw new Error('encoders are closed');
      // Started in the background: a spawn failure is reported as a death and retried with backoff.
      const { enc, ready } = make(spec);
      ready.catch(() => undefined);
      return enc;
    },
    snapshot: () => [...encoders.values()].map((e) => e.snapshot()),
    on(event, fn) {
      const entry = { event, fn: fn as (p: never) => void };
      observers.push(entry);
      const offs = [...encoders.values()].map((e) => e.events.on(event, fn));
      return () => {
        observers.splice(observers.indexOf(entry), 1);
        for (const off of offs) off();
      };
    },
    close,
  };
}
