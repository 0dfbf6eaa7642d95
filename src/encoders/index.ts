// The encoders stage: every distinct codec + bitrate/quality encoded once, fed from the programme and
// watched by the supervisor. Mounts and HLS tiers that ask for the same spec share one encode
// (acquire()). Which encodes share an ffmpeg process is the layout: `shared` (default) runs every
// encode in one process, fed one PCM pipe (Vorbis titles are chained in Node, so nothing restarts on
// a title); `isolated` runs one process per encode, so a crash takes one mount instead of several,
// for more CPU (measured in `npm run bench -- encoders`; the README has the figures).
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import type { EncodedStream, EncoderSpec, ProgrammeSource } from '../types/contracts.js';
import { encoderKey, encoderSpecOf } from '../types/encoder-spec.js';
import type { EncoderEvents, SupervisedEngine } from '../types/events.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { Encoder, type EncoderOptions, type EncoderSnapshot } from './encoder.js';
import type { FdkAacLibrary } from './fdk-aac.js';
import { FdkEncoder } from './fdk-encoder.js';
import { encodesNatively, type NativeCodecs } from './native-run.js';

export { type EncoderSnapshot } from './encoder.js';

export type EncoderLayout = 'shared' | 'isolated';

export interface EncodersOptions {
  readonly config: Pick<Config, 'mounts'>;
  /** Encodes known at start beyond the mounts' (the HLS tiers), so the layout can place them too. */
  readonly extraSpecs?: readonly EncoderSpec[];
  readonly layout?: EncoderLayout;
  readonly aacCoder?: EncoderOptions['aacCoder'];
  /** When set, every AAC encode runs in Node with libfdk-aac (one FdkEncoder each) instead of in ffmpeg. */
  readonly fdkAac?: FdkAacLibrary;
  /**
   * When set, the MP3 (CBR) and Vorbis (quality) encodes run in Node with LAME and libvorbis, laid out
   * as ffmpeg's would be (`shared`: one unit for all of them), instead of in ffmpeg.
   */
  readonly native?: NativeCodecs;
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

/** Which specs share a process, in order, each spec once (pure; unit-tested). */
export function planProcesses(specs: readonly EncoderSpec[], layout: EncoderLayout): EncoderSpec[][] {
  const unique = new Map<string, EncoderSpec>();
  for (const s of specs) {
    const clean = encoderSpecOf(s);
    if (!unique.has(encoderKey(clean))) unique.set(encoderKey(clean), clean);
  }
  const all = [...unique.values()];
  if (layout === 'isolated') return all.map((s) => [s]);
  return all.length > 0 ? [all] : [];
}

/** What createEncoders runs an encode in: an Encoder (one or more encodes, in an ffmpeg child or in-process) or an FdkEncoder. */
type EncodeUnit = Pick<Encoder, 'key' | 'events' | 'output' | 'write' | 'snapshot' | 'restart' | 'close'> & {
  readonly engine: SupervisedEngine;
};

/** Starts the encodes of every configured mount (and extraSpecs); resolves when all of them are running. */
export async function createEncoders(opts: EncodersOptions): Promise<Encoders> {
  const log = opts.log;
  const events = new TypedEmitter<EncoderEvents>(log);
  /** Started or starting processes, by the key of each spec they encode: a second acquire() waits for the same start. */
  const starting = new Map<string, Promise<EncodeUnit>>();
  const encoders = new Set<EncodeUnit>();
  const unwatch: (() => void)[] = [];
  let closed = false;

  const inProcess = (spec: EncoderSpec): boolean => opts.fdkAac !== undefined && spec.codec === 'aac';
  const native = (spec: EncoderSpec): boolean => encodesNatively(spec, opts.native);

  const startProcess = (specs: readonly EncoderSpec[]): Promise<EncodeUnit> => {
    const fdk = opts.fdkAac;
    const created: Promise<EncodeUnit> =
      fdk && specs.length === 1 && inProcess(specs[0] as EncoderSpec)
        ? FdkEncoder.create({ spec: specs[0] as EncoderSpec, library: fdk, log, initialMeta: opts.programme.currentMeta })
        : Encoder.create({
            specs,
            ...(opts.native && specs.every(native) ? { native: opts.native } : {}),
            ffmpegPath: opts.ffmpegPath,
            log,
            initialMeta: opts.programme.currentMeta,
            ...(opts.maxQueueBytes !== undefined ? { maxQueueBytes: opts.maxQueueBytes } : {}),
            ...(opts.oggPageDurationUs !== undefined ? { oggPageDurationUs: opts.oggPageDurationUs } : {}),
            ...(opts.aacCoder !== undefined ? { aacCoder: opts.aacCoder } : {}),
          });
    const p = created.then(async (enc) => {
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
            engine: enc.engine,
            subscribe: (h) => [enc.events.on('started', (e) => h.started(e.pid)), enc.events.on('died', (d) => h.died(d))],
            restart: () => enc.restart(),
          },
          enc.snapshot()[0]?.pid,
        ),
      );
      encoders.add(enc);
      return enc;
    });
    const keys = specs.map((s) => encoderKey(s));
    for (const k of keys) starting.set(k, p);
    // A failed first start is the caller's error; forget it so a later acquire() can try again.
    p.catch(() => keys.forEach((k) => starting.delete(k)));
    return p;
  };

  const acquire = async (spec: EncoderSpec): Promise<EncodedStream> => {
    const key = encoderKey(encoderSpecOf(spec));
    // A spec nobody declared at start gets a process of its own (nothing running is restarted for it).
    const enc = await (starting.get(key) ?? startProcess([encoderSpecOf(spec)]));
    const out = enc.output(key);
    if (!out) throw new Error(`encoder ${enc.key} has no output ${key}`);
    return out;
  };

  // One subscription for all encoders: the mixer calls one function per chunk, whatever the count.
  const unsubscribe = opts.programme.subscribe((chunk) => {
    for (const enc of encoders) enc.write(chunk);
  });

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    unsubscribe();
    for (const off of unwatch.splice(0)) off();
    await Promise.allSettled(starting.values());
    await Promise.all([...encoders].map((e) => e.close()));
    encoders.clear();
    events.removeAllListeners();
  };

  const all = [...opts.config.mounts, ...(opts.extraSpecs ?? [])].map((s) => encoderSpecOf(s));
  // In-process AAC encodes are one unit each (nothing to share: no process, no pipe); the in-process MP3
  // and Vorbis encodes follow the layout (one death takes what shares its unit); ffmpeg takes the rest.
  const layout = opts.layout ?? 'shared';
  const plan = [
    ...planProcesses(
      all.filter((s) => !inProcess(s) && !native(s)),
      layout,
    ),
    ...planProcesses(all.filter(native), layout),
    ...planProcesses(all.filter(inProcess), 'isolated'),
  ];
  try {
    await Promise.all(plan.map((specs) => startProcess(specs)));
  } catch (err) {
    await close();
    throw err;
  }
  log.info(
    {
      processes: [...encoders].filter((e) => e.engine === 'ffmpeg').map((e) => e.key),
      inProcess: [...encoders].filter((e) => e.engine !== 'ffmpeg').map((e) => e.key),
      layout: opts.layout ?? 'shared',
    },
    'encoders running',
  );

  return {
    acquire: (spec) => (closed ? Promise.reject(new Error('encoders are closed')) : acquire(spec)),
    events,
    snapshot: () => [...encoders].flatMap((e) => e.snapshot()),
    close,
  };
}
