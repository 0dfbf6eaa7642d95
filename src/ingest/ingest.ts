// The ingest stage: raw `net` listeners for the two studio inputs (Icecast and Shoutcast v1 ports),
// one source per input, each decoded to PCM by its own ffmpeg. Reports through typed events only.
import net from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { Secrets } from '../config/secrets.js';
import { AntennaError } from '../errors.js';
import type { AudioFormat, IngestEvents, InputId, SourceProtocol } from '../types/contracts.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { handleConnection, type AcceptedSource, type PortContext } from './connection.js';
import { plainError } from './responses.js';
import { SourceSession } from './session.js';

export interface IngestOptions {
  readonly config: Config;
  readonly secrets: Secrets;
  readonly log: Logger;
  readonly ffmpegPath: string;
}

/** The ports actually bound (config port 0 = ephemeral). A shared port appears under both names. */
export interface IngestPorts {
  readonly primary: number;
  readonly fallback: number;
  readonly primaryShoutcast: number;
  readonly fallbackShoutcast: number;
}

export interface InputSnapshot {
  readonly inputId: InputId;
  readonly state: 'idle' | 'connecting' | 'streaming';
  readonly connectionId?: number;
  readonly remoteAddress?: string;
  readonly userAgent?: string;
  readonly protocol?: SourceProtocol;
  readonly mount?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly format?: AudioFormat;
  readonly bytesIn: number;
  /** Wall-clock ms (Date.now()). */
  readonly connectedAt?: number;
  readonly lastDataAt?: number;
  /** First body byte → first decoded PCM, ms. */
  readonly firstPcmMs?: number;
  /** Last title received by a metadata update for this input. */
  readonly title?: string;
}

export interface IngestSnapshot {
  readonly ports: IngestPorts;
  readonly inputs: Readonly<Record<InputId, InputSnapshot>>;
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

interface InputState {
  current: SourceSession | undefined;
  title: string | undefined;
}

/** ice-* / icy-* / content-type headers as sent: what the status pages show. */
function sourceHeaders(h: ReadonlyMap<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of h) if (k.startsWith('ice-') || k.startsWith('icy-') || k === 'content-type') out[k] = v;
  return out;
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
  const inputs: Record<InputId, InputState> = {
    primary: { current: undefined, title: undefined },
    fallback: { current: undefined, title: undefined },
  };
  const sessions = new Set<SourceSession>();
  const servers: net.Server[] = [];
  /** Every open socket, so close() can end connections still sending their head. */
  const sockets = new Set<net.Socket>();
  const ports: Record<keyof IngestPorts, number> = { primary: 0, fallback: 0, primaryShoutcast: 0, fallbackShoutcast: 0 };
  let nextConnectionId = 1;
  let closing: Promise<void> | undefined;

  const startSource = (req: AcceptedSource): void => {
    const { connectionId } = req;
    const info = {
      inputId: req.inputId,
      connectionId,
      remoteAddress: req.socket.remoteAddress ?? 'unknown',
      userAgent: req.userAgent,
      protocol: req.protocol,
      mount: req.mount,
      headers: sourceHeaders(req.headers),
      connectedAt: Date.now(),
    };
    const slog = req.log.child({ inputId: req.inputId });
    slog.info({ protocol: req.protocol, mount: req.mount, userAgent: req.userAgent, chunked: req.chunked }, 'source connected');
    const session = new SourceSession({
      socket: req.socket,
      info,
      body: req.body,
      chunked: req.chunked,
      sourceTimeoutMs: config.sourceTimeoutS * 1000,
      ffmpegPath: opts.ffmpegPath,
      log: slog,
      events,
      onSocketGone: (s) => {
        if (inputs[s.info.inputId].current === s) inputs[s.info.inputId].current = undefined;
      },
      onClosed: (s) => sessions.delete(s),
    });
    sessions.add(session);
    inputs[req.inputId].current = session;
  };

  const makeContext = (group: Role[], port: number): PortContext => {
    const httpInput = group.find((r) => r.kind === 'http')?.inputId;
    const icyInput = group.find((r) => r.kind === 'icy')?.inputId;
    return {
      port,
      httpInput,
      icyInput,
      maxHeaderBytes: config.maxHeaderBytes,
      headerTimeoutMs: config.headerTimeoutMs,
      sourcePassword: secrets.sourcePassword,
      adminPassword: secrets.adminPassword,
      log: log.child({ port }),
      reject: (remoteAddress, code, message) => events.emit('rejected', { port, remoteAddress, code, message }),
      claim: (inputId, clog) => {
        const cur = inputs[inputId].current;
        if (!cur) return true;
        if (cur.idleMs <= config.stallMs) return false;
        clog.warn(
          { inputId, oldConnection: cur.info.connectionId, idleMs: Math.round(cur.idleMs) },
          'replacing the stalled source on this input with the new connection',
        );
        void cur.close('replaced');
        return true;
      },
      startSource,
      metadata: (kind, mount, title, portInput) => {
        const matches = (['primary', 'fallback'] as const).filter((id) => {
          const cur = inputs[id].current;
          return cur !== undefined && (kind === 'shoutcast' ? cur.info.protocol === 'shoutcast' : cur.info.mount === mount);
        });
        const inputId = matches.length === 1 && matches[0] ? matches[0] : portInput;
        inputs[inputId].title = title;
        events.emit('metadata', { inputId, title });
        return inputId;
      },
    };
  };

  const listen = (group: Role[]): Promise<void> =>
    new Promise((resolve, reject) => {
      let open = 0;
      const server = net.createServer();
      const wanted = group[0]?.port ?? 0;
      server.once('error', (err: NodeJS.ErrnoException) => {
        const names = group.map((r) => r.name).join('/');
        reject(
          new AntennaError(
            err.code === 'EADDRINUSE' ? 'PORT_IN_USE' : 'CONFIG_INVALID',
            `cannot listen on ${config.host}:${wanted} (${names}): ${err.message}`,
            { fatal: true, cause: err },
          ),
        );
      });
      server.listen(wanted, config.host, () => {
        const port = (server.address() as net.AddressInfo).port;
        for (const r of group) ports[r.name] = port;
        const ctx = makeContext(group, port);
        server.on('error', (err) => log.error({ err, port }, 'listener error'));
        server.on('connection', (socket) => {
          socket.setNoDelay(true);
          if (open >= config.maxSourceConnections) {
            ctx.reject(socket.remoteAddress ?? 'unknown', 'SOURCE_BAD_REQUEST', 'too many connections on this port');
            log.warn({ port, open }, 'connection refused: per-port connection limit reached');
            socket.on('error', () => undefined);
            socket.end(plainError(403, 'Icecast connection limit reached'));
            setTimeout(() => socket.destroy(), 1000).unref();
            return;
          }
          open++;
          sockets.add(socket);
          socket.once('close', () => {
            open--;
            sockets.delete(socket);
          });
          handleConnection(socket, ctx, nextConnectionId++);
        });
        servers.push(server);
        log.info({ port, roles: group.map((r) => r.name) }, 'source port listening');
        resolve();
      });
    });

  try {
    for (const group of planListeners(config)) await listen(group);
  } catch (err) {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    throw err;
  }

  const snapshotInput = (inputId: InputId): InputSnapshot => {
    const { current: s, title } = inputs[inputId];
    if (!s) return { inputId, state: 'idle', bytesIn: 0, ...(title === undefined ? {} : { title }) };
    return {
      inputId,
      state: s.state === 'streaming' ? 'streaming' : 'connecting',
      connectionId: s.info.connectionId,
      remoteAddress: s.info.remoteAddress,
      userAgent: s.info.userAgent,
      protocol: s.info.protocol,
      mount: s.info.mount,
      headers: s.info.headers,
      format: s.format,
      bytesIn: s.bytesIn,
      connectedAt: s.info.connectedAt,
      lastDataAt: s.lastDataAt,
      ...(s.firstPcmMs === undefined ? {} : { firstPcmMs: s.firstPcmMs }),
      ...(title === undefined ? {} : { title }),
    };
  };

  return {
    events,
    ports: Object.freeze({ ...ports }),
    snapshot: () => ({ ports: { ...ports }, inputs: { primary: snapshotInput('primary'), fallback: snapshotInput('fallback') } }),
    kick: async (inputId) => {
      const cur = inputs[inputId].current;
      if (!cur) return false;
      log.info({ inputId, connectionId: cur.info.connectionId }, 'kicking source');
      await cur.close('kicked');
      return true;
    },
    close: () => {
      closing ??= (async () => {
        const stopped = Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
        await Promise.all([...sessions].map((s) => s.close('shutdown')));
        for (const socket of sockets) socket.destroy();
        await stopped;
        events.removeAllListeners();
        log.info('ingest closed');
      })();
      return closing;
    },
  };
}
