// The ingest stage: raw `net` listeners for the two studio inputs (Icecast and Shoutcast v1 ports,
// port.ts), one source per input (inputs.ts), each decoded to PCM by its own ffmpeg (session.ts).
// Reports through typed events only.
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { Secrets } from '../config/secrets.js';
import { AntennaError } from '../errors.js';
import type { IngestEvents, InputId } from '../types/contracts.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { AuthGuard } from '../util/auth-guard.js';
import type { PortContext } from './connection.js';
import { Inputs } from './inputs.js';
import { listenSourcePort, type SourcePort } from './port.js';
import type { IngestPorts, IngestSnapshot } from '../types/snapshots.js';
export type { IngestPorts, InputSnapshot, IngestSnapshot } from '../types/snapshots.js';

export interface IngestOptions {
  readonly config: Config;
  readonly secrets: Secrets;
  readonly log: Logger;
  readonly ffmpegPath: string;
  /** Failed-login accounting shared with the HTTP admin paths (one is made if absent). */
  readonly auth?: AuthGuard;
}

export interface Ingest {
  readonly events: TypedEmitter<IngestEvents>;
  readonly ports: IngestPorts;
  snapshot(): IngestSnapshot;
  /** Disconnects the input's current source (reason 'kicked'); false if none was connected. */
  kick(inputId: InputId): Promise<boolean>;
  close(): Promise<void>;
}

interface Role {
  readonly kind: 'http' | 'icy';
  readonly inputId: InputId;
  readonly name: keyof IngestPorts;
  readonly port: number;
}

/** Which listeners to open: equal non-zero ports are one listener serving both roles. */
export function planListeners(
  config: Pick<Config, 'primaryPort' | 'fallbackPort' | 'primaryShoutcastPort' | 'fallbackShoutcastPort'>,
): Role[][] {
  const plus1 = (p: number): number => (p === 0 ? 0 : p + 1);
  const roles: Role[] = [
    { kind: 'http', inputId: 'primary', name: 'primary', port: config.primaryPort },
    { kind: 'http', inputId: 'fallback', name: 'fallback', port: config.fallbackPort },
    { kind: 'icy', inputId: 'primary', name: 'primaryShoutcast', port: config.primaryShoutcastPort ?? plus1(config.primaryPort) },
    { kind: 'icy', inputId: 'fallback', name: 'fallbackShoutcast', port: config.fallbackShoutcastPort ?? plus1(config.fallbackPort) },
  ];
  const groups: Role[][] = [];
  for (const role of roles) {
    if (role.port > 65535) throw new AntennaError('CONFIG_INVALID', `${role.name} port ${role.port} is out of range`, { fatal: true });
    const group = role.port === 0 ? undefined : groups.find((g) => g[0]?.port === role.port);
    if (!group) groups.push([role]);
    else if (group.some((r) => r.kind === role.kind)) {
      throw new AntennaError(
        'CONFIG_INVALID',
        `port ${role.port} is configured twice (${group.map((r) => r.name).join(', ')}, ${role.name})`,
        { fatal: true },
      );
    } else group.push(role);
  }
  return groups;
}

export async function createIngest(opts: IngestOptions): Promise<Ingest> {
  const { config, secrets } = opts;
  // The root may already have bound the component (pino would print the key twice).
  const log = opts.log.bindings().component === 'ingest' ? opts.log : opts.log.child({ component: 'ingest' });
  const events = new TypedEmitter<IngestEvents>(log);
  const auth = opts.auth ?? new AuthGuard({ log });
  const inputs = new Inputs({
    events,
    stallMs: config.stallMs,
    sourceTimeoutMs: config.sourceTimeoutS * 1000,
    ffmpegPath: opts.ffmpegPath,
    mp3Decoder: config.mp3Decoder,
    log,
  });
  const listeners: SourcePort[] = [];
  const ports: Record<keyof IngestPorts, number> = { primary: 0, fallback: 0, primaryShoutcast: 0, fallbackShoutcast: 0 };
  let nextConnectionId = 1;
  let closing: Promise<void> | undefined;

  const context = (group: Role[], port: number): PortContext => ({
    port,
    httpInput: group.find((r) => r.kind === 'http')?.inputId,
    icyInput: group.find((r) => r.kind === 'icy')?.inputId,
    maxHeaderBytes: config.maxHeaderBytes,
    headerTimeoutMs: config.headerTimeoutMs,
    sourcePassword: secrets.sourcePassword,
    adminPassword: secrets.adminPassword,
    log: log.child({ port }),
    reject: (remoteAddress, code, message) => events.emit('rejected', { port, remoteAddress, code, message }),
    authFailed: (address, user, path) => auth.failed({ address, user, path, where: port }),
    claim: (inputId, clog) => inputs.claim(inputId, clog),
    startSource: (req) => inputs.start(req),
    metadata: (kind, mount, title, portInput) => inputs.setTitle(kind, mount, title, portInput),
  });

  try {
    for (const group of planListeners(config)) {
      const l = await listenSourcePort({
        host: config.host,
        port: group[0]?.port ?? 0,
        names: group.map((r) => r.name).join('/'),
        maxPending: config.maxSourceConnections,
        maxPendingPerAddress: config.maxSourcePendingPerAddress,
        log,
        context: (port) => context(group, port),
        nextConnectionId: () => nextConnectionId++,
      });
      listeners.push(l);
      for (const r of group) ports[r.name] = l.port;
    }
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    throw err;
  }

  return {
    events,
    ports: Object.freeze({ ...ports }),
    snapshot: () => ({
      ports: { ...ports },
      inputs: { primary: inputs.snapshot('primary'), fallback: inputs.snapshot('fallback') },
      connections: listeners.map((l) => ({ port: l.port, ...l.snapshot() })),
    }),
    kick: (inputId) => inputs.kick(inputId),
    close: () => {
      closing ??= (async () => {
        const stopped = Promise.all(listeners.map((l) => l.close()));
        await inputs.close();
        await stopped;
        events.removeAllListeners();
        log.info('ingest closed');
      })();
      return closing;
    },
  };
}
