// The encoders stage: one ffmpeg per distinct codec + bitrate/quality, fed from the programme and
// watched by the supervisor. Mounts and HLS tiers that ask for the same spec share one encoder (acquire()).
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import type { EncodedStream, EncoderSpec, ProgrammeSource } from '../types/contracts.js';
import { encoderKey, encoderSpecOf } from '../types/encoder-spec.js';
import type { EncoderEvents } from '../types/events.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { Encoder, type EncoderSnapshot } from './encoder.js';

export { type EncoderSnapshot } from './encoder.js';

export interface EncodersOptions {
  readonly config: Pick<Config, 'mounts'>;
  readonly log: Logger;
  readonly ffmpegPath: string;
  readonly programme: ProgrammeSource;
  /** Decides restarts of encoders that die (one supervisor for the whole process). */
  readonly supervisor: Supervisor;
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
  acquire(spec: EncoderSpec): Promise<EncodedStream>;
  /** Every encoder's `started`, `died` and `stalled`, for the composition root to pass on. */
  readonly events: TypedEmitter<EncoderEvents>;
  snapshot(): EncoderSnapshot[];
  close(): Promise<void>;
}

/** Starts an encoder for every configured mount; resolves when all of them are running. */
export async function createEncoders(opts: EncodersOptions): Promise<Encoders> {
  const log = opts.log;
  const events = new TypedEmitter<EncoderEvents>(log);
  /** Started or starting, by key: a second acquire() of a spec waits for the same start. */
  const starting = new Map<string, Promise<Encoder>>();
  const encoders = new Map<string, Encoder>();
  const unwatch: (() => void)[] = [];
  let closed = false;

  const start = (spec: EncoderSpec): Promise<Encoder> => {
    const clean = encoderSpecOf(spec);
    const key = encoderKey(clean);
    const existing = starting.get(key);
    if (existing) return existing;
    const p = Encoder.create({
      spec: clean,
      ffmpegPath: opts.ffmpegPath,
      log,
      initialMeta: opts.programme.currentMeta,
      ...(opts.maxQueueBytes !== undefined ? { maxQueueBytes: opts.maxQueueBytes } : {}),
      ...(opts.oggPageDurationUs !== undefined ? { oggPageDurationUs: opts.oggPageDurationUs } : {}),
    }).then(async (enc) => {
      if (closed) {
        await enc.close();
        throw new Error('encoders are closed');
      }
      enc.events.on('started', (e) => events.emit('started', e));
      enc.events.on('died', (e) => events.emit('died', e));
      enc.events.on('stalled', (e) => events.emit('stalled', e));
      unwatch.push(
        opts.supervisor.watch(
          {
            name: enc.key,
            kind: 'encoder',
            subscribe: (h) => [enc.events.on('started', (e) => h.started(e.pid)), enc.events.on('died', (d) => h.died(d))],
            restart: () => enc.restart(),
          },
          enc.snapshot().pid,
        ),
      );
      encoders.set(key, enc);
      return enc;
    });
    starting.set(key, p);
    // A failed first start is the caller's error; forget it so a later acquire() can try again.
    p.catch(() => starting.delete(key));
    return p;
  };

  // One subscription for all encoders: the mixer calls one function per chunk, whatever the count.
  const unsubscribe = opts.programme.subscribe((chunk) => {
    for (const enc of encoders.values()) enc.write(chunk);
  });

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    unsubscribe();
    for (const off of unwatch.splice(0)) off();
    await Promise.allSettled(starting.values());
    await Promise.all([...encoders.values()].map((e) => e.close()));
    encoders.clear();
    events.removeAllListeners();
  };

  try {
    await Promise.all(opts.config.mounts.map((m) => start(m)));
  } catch (err) {
    await close();
    throw err;
  }
  log.info({ encoders: [...encoders.keys()] }, 'encoders running');

  return {
    acquire: (spec) => (closed ? Promise.reject(new Error('encoders are closed')) : start(spec)),
    events,
    snapshot: () => [...encoders.values()].map((e) => e.snapshot()),
    close,
  };
}
