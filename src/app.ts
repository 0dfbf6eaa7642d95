// The composition root: builds every component from the frozen config, wires ingest → mixer →
// encoders → outputs, and closes them in reverse order. Nothing else constructs components.
import type { Logger } from 'pino';
import type { Config } from './config/load.js';
import type { Secrets } from './config/secrets.js';
import { resolveFfmpegPath } from './ffmpeg/path.js';
import { createIngest, type Ingest, type IngestPorts, type IngestSnapshot } from './ingest/index.js';
import type { MixerEvents, MixerSnapshot } from './mixer/events.js';
import { createMixer, type Mixer } from './mixer/mixer.js';
import type { IngestEvents } from './types/contracts.js';
import type { TypedEmitter } from './util/typed-emitter.js';

export interface AntennaPorts extends IngestPorts {
  readonly http: number;
}

export interface AntennaSnapshot {
  readonly ingest: IngestSnapshot;
  readonly mixer: MixerSnapshot;
}

/** What observers (api, analytics, tests) may use: events and read-only snapshots. */
export interface Antenna {
  readonly ports: AntennaPorts;
  readonly mixer: Pick<Mixer, 'subscribe' | 'currentMeta' | 'onAir'>;
  readonly events: { readonly ingest: TypedEmitter<IngestEvents>; readonly mixer: TypedEmitter<MixerEvents> };
  snapshot(): AntennaSnapshot;
  close(): Promise<void>;
}

export interface AntennaOptions {
  readonly config: Config;
  readonly secrets: Secrets;
  readonly log: Logger;
}

type Closer = { readonly name: string; readonly close: () => Promise<void> };

export async function createAntenna(opts: AntennaOptions): Promise<Antenna> {
  const { config, secrets, log } = opts;
  const ffmpegPath = resolveFfmpegPath(config.ffmpegPath);
  const closers: Closer[] = [];
  const closeAll = async (): Promise<void> => {
    // Reverse order of construction: outputs first, so no listener sees a half-torn pipeline.
    for (const c of closers.splice(0).reverse()) {
      try {
        await c.close();
      } catch (err) {
        log.error({ err, component: c.name }, 'close failed');
      }
    }
  };

  try {
    const mixer = await createMixer({ config, log: log.child({ component: 'mixer' }), ffmpegPath });
    closers.push({ name: 'mixer', close: () => mixer.close() });

    const ingest: Ingest = await createIngest({ config, secrets, log: log.child({ component: 'ingest' }), ffmpegPath });
    closers.push({ name: 'ingest', close: () => ingest.close() });
    wireIngest(ingest, mixer);

    let closed: Promise<void> | undefined;
    return {
      ports: { ...ingest.ports, http: 0 },
      mixer,
      events: { ingest: ingest.events, mixer: mixer.events },
      snapshot: () => ({ ingest: ingest.snapshot(), mixer: mixer.snapshot() }),
      close: () => (closed ??= closeAll()),
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

function wireIngest(ingest: Ingest, mixer: Mixer): void {
  ingest.events.on('source-connected', ({ inputId, info }) => mixer.sourceConnected(inputId, info));
  ingest.events.on('pcm', ({ inputId, connectionId, pcm }) => mixer.pushPcm(inputId, connectionId, pcm));
  ingest.events.on('source-disconnected', ({ inputId, info, reason }) => mixer.sourceDisconnected(inputId, info.connectionId, reason));
  ingest.events.on('metadata', ({ inputId, title }) => mixer.setTitle(inputId, title));
}
