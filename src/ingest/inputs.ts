// The two studio inputs: which source session feeds each, its last title, who may take an input
// (a free one, or one whose source stalled), and the per-input snapshot the status pages show.
import type { Logger } from 'pino';
import type { IngestEvents, InputId } from '../types/contracts.js';
import type { TypedEmitter } from '../util/typed-emitter.js';
import type { AcceptedSource } from './connection.js';
import type { InputSnapshot } from './ingest.js';
import type { Mp3DecoderSetting } from './decoder.js';
import { DecoderRecord } from './decoder-record.js';
import { SourceSession } from './session.js';

export interface InputsOptions {
  readonly events: TypedEmitter<IngestEvents>;
  readonly stallMs: number;
  readonly sourceTimeoutMs: number;
  readonly ffmpegPath: string;
  readonly mp3Decoder: Mp3DecoderSetting;
  readonly log: Logger;
}

interface InputState {
  current: SourceSession | undefined;
  title: string | undefined;
  readonly decoder: DecoderRecord;
}

/** ice-* / icy-* / content-type headers as sent: what the status pages show. */
function sourceHeaders(h: ReadonlyMap<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of h) if (k.startsWith('ice-') || k.startsWith('icy-') || k === 'content-type') out[k] = v;
  return out;
}

export class Inputs {
  readonly #opts: InputsOptions;
  readonly #inputs: Record<InputId, InputState> = {
    primary: { current: undefined, title: undefined, decoder: new DecoderRecord() },
    fallback: { current: undefined, title: undefined, decoder: new DecoderRecord() },
  };
  /** Every session still running, including replaced ones playing out, so close() reaps them all. */
  readonly #sessions = new Set<SourceSession>();

  constructor(opts: InputsOptions) {
    this.#opts = opts;
  }

  /** True when the input may take a new source now (free, or its source stalled and was replaced). */
  claim(inputId: InputId, log: Logger): boolean {
    const cur = this.#inputs[inputId].current;
    if (!cur) return true;
    if (cur.idleMs <= this.#opts.stallMs) return false;
    log.warn(
      { inputId, oldConnection: cur.info.connectionId, idleMs: Math.round(cur.idleMs) },
      'replacing the stalled source on this input with the new connection',
    );
    void cur.close('replaced');
    return true;
  }

  start(req: AcceptedSource): void {
    const info = {
      inputId: req.inputId,
      connectionId: req.connectionId,
      remoteAddress: req.socket.remoteAddress ?? 'unknown',
      userAgent: req.userAgent,
      protocol: req.protocol,
      mount: req.mount,
      headers: sourceHeaders(req.headers),
      connectedAt: Date.now(),
    };
    const slog = req.log.child({ inputId: req.inputId });
    slog.info({ protocol: req.protocol, mount: req.mount, userAgent: req.userAgent, chunked: req.chunked }, 'source connected');
    const session = SourceSession.start({
      socket: req.socket,
      info,
      body: req.body,
      chunked: req.chunked,
      sourceTimeoutMs: this.#opts.sourceTimeoutMs,
      ffmpegPath: this.#opts.ffmpegPath,
      mp3Decoder: this.#opts.mp3Decoder,
      log: slog,
      events: this.#opts.events,
      onSocketGone: (s) => {
        if (this.#inputs[s.info.inputId].current === s) this.#inputs[s.info.inputId].current = undefined;
      },
      onClosed: (s) => this.#sessions.delete(s),
      onDecoder: (report) => this.#inputs[req.inputId].decoder.report(report),
    });
    this.#sessions.add(session);
    this.#inputs[req.inputId].current = session;
  }

  /**
   * Applies a (cleaned) title to the input whose source it names: the one Shoutcast source, or the one
   * streaming to `mount`; else the input of the port it arrived on. Returns the input it went to.
   */
  setTitle(kind: 'icecast' | 'shoutcast', mount: string | undefined, title: string, portInput: InputId): InputId {
    const matches = (['primary', 'fallback'] as const).filter((id) => {
      const cur = this.#inputs[id].current;
      return cur !== undefined && (kind === 'shoutcast' ? cur.info.protocol === 'shoutcast' : cur.info.mount === mount);
    });
    const inputId = matches.length === 1 && matches[0] ? matches[0] : portInput;
    this.#inputs[inputId].title = title;
    this.#opts.events.emit('metadata', { inputId, title });
    return inputId;
  }

  /** Disconnects the input's current source (reason 'kicked'); false if none was connected. */
  async kick(inputId: InputId): Promise<boolean> {
    const cur = this.#inputs[inputId].current;
    if (!cur) return false;
    this.#opts.log.info({ inputId, connectionId: cur.info.connectionId }, 'kicking source');
    await cur.close('kicked');
    return true;
  }

  snapshot(inputId: InputId): InputSnapshot {
    const { current: s, title } = this.#inputs[inputId];
    const decoder = this.#inputs[inputId].decoder.snapshot(Date.now(), s?.info.connectionId);
    if (!s) return { inputId, state: 'idle', bytesIn: 0, ...(title === undefined ? {} : { title }), decoder };
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
      decoder,
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#sessions].map((s) => s.close('shutdown')));
  }
}
