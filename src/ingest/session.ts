// One accepted source connection: body bytes (de-chunked if needed) → format sniff → its own decoder
// (an ffmpeg child, or in-process for MP3: decoder.ts) → `pcm` events. Owns the socket and the decoder; reports connect/disconnect/decoder faults.
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { fault } from '../errors.js';
import type { AudioFormat, DisconnectReason, IngestEvents, SourceInfo } from '../types/contracts.js';
import type { TypedEmitter } from '../util/typed-emitter.js';
import { Dechunker } from './chunked.js';
import { startDecoder, type Mp3DecoderSetting, type PcmDecoder } from './decoder.js';
import type { DecoderReport } from './decoder-record.js';
import { SNIFF_LIMIT, sniffFormat } from './sniff.js';

export type SessionState = 'sniffing' | 'starting' | 'streaming' | 'closing' | 'closed';

/** Input fed to a decoder without any PCM coming out before we call the stream undecodable. */
const GARBAGE_BYTES = 64 * 1024;
const GARBAGE_MS = 5_000;
/** How long a decoder may take to flush after its source left before it is killed. */
const DRAIN_TIMEOUT_MS = 3_000;

export interface SessionOptions {
  readonly socket: Socket;
  readonly info: Omit<SourceInfo, 'format'>;
  readonly body: Buffer;
  readonly chunked: boolean;
  readonly sourceTimeoutMs: number;
  readonly ffmpegPath: string;
  readonly mp3Decoder: Mp3DecoderSetting;
  readonly log: Logger;
  readonly events: TypedEmitter<IngestEvents>;
  /** Called once, as soon as the socket is gone: the input is free for a new source from then on. */
  readonly onSocketGone: (session: SourceSession) => void;
  /** Called once everything is over (decoder reaped, events emitted). */
  readonly onClosed?: (session: SourceSession) => void;
  /** The decoder started, exited or failed: the input's decoder record for the status panel. */
  readonly onDecoder?: (report: DecoderReport) => void;
}

export class SourceSession {
  readonly info: Omit<SourceInfo, 'format'>;
  #format: AudioFormat = 'unknown';
  #state: SessionState = 'sniffing';
  #bytesIn = 0;
  /** performance.now() of the last byte received (connect time until then). */
  #lastDataAt = performance.now();
  #lastDataWall = Date.now();
  #streamingSince = 0;
  #firstByteAt = 0;
  #firstPcmMs: number | undefined;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #paused = false;
  #connectedEmitted = false;
  #decoder: PcmDecoder | undefined;
  /** Settles once a decoder start has finished (or failed), so close() can reap it either way. */
  #decoderReady: Promise<PcmDecoder | undefined> | undefined;
  readonly #dechunker: Dechunker | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #opts: SessionOptions;
  readonly #log: Logger;
  #closing: Promise<void> | undefined;

  private constructor(opts: SessionOptions) {
    this.#opts = opts;
    this.info = opts.info;
    this.#log = opts.log;
    this.#dechunker = opts.chunked ? new Dechunker() : undefined;
  }

  /**
   * Takes over an accepted source's socket. Not async: the socket is already open, and what the session
   * then waits for (the format, the decoder) depends on the client and is reported through events.
   */
  static start(opts: SessionOptions): SourceSession {
    const s = new SourceSession(opts);
    const sock = opts.socket;
    sock.setTimeout(0);
    sock.on('data', (chunk: Buffer) => s.#onData(chunk));
    sock.on('close', () => void s.close('client-closed'));
    sock.on('error', (err) => s.#log.info({ err }, 'source socket error'));
    s.#timer = setInterval(() => s.#check(), Math.min(1000, Math.max(100, opts.sourceTimeoutMs / 4)));
    if (opts.body.length > 0) s.#onData(opts.body);
    return s;
  }

  get state(): SessionState {
    return this.#state;
  }
  get format(): AudioFormat {
    return this.#format;
  }
  get bytesIn(): number {
    return this.#bytesIn;
  }
  /** ms since the last byte arrived. */
  get idleMs(): number {
    return performance.now() - this.#lastDataAt;
  }
  get lastDataAt(): number {
    return this.#lastDataWall;
  }
  /** ms from the first body byte to the first PCM out of the decoder (undefined until then). */
  get firstPcmMs(): number | undefined {
    return this.#firstPcmMs;
  }
  get fullInfo(): SourceInfo {
    return { ...this.info, format: this.#format };
  }

  #onData(chunk: Buffer): void {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    if (this.#bytesIn === 0) this.#firstByteAt = performance.now();
    this.#bytesIn += chunk.length;
    this.#lastDataAt = performance.now();
    this.#lastDataWall = Date.now();
    if (!this.#dechunker) return this.#onPayload(chunk);
    for (const part of this.#dechunker.push(chunk)) this.#onPayload(part);
    if (this.#dechunker.error) this.#fail('SOURCE_BAD_REQUEST', `bad chunked framing: ${this.#dechunker.error}`);
    else if (this.#dechunker.done) void this.close('client-closed');
  }

  #onPayload(data: Buffer): void {
    if (this.#state === 'streaming' && this.#decoder) {
      if (!this.#decoder.write(data)) this.#pauseUntilDrain(this.#decoder);
      return;
    }
    this.#pending.push(data);
    this.#pendingBytes += data.length;
    if (this.#state !== 'sniffing') return;
    const head = this.#pending.length === 1 ? data : Buffer.concat(this.#pending, this.#pendingBytes);
    const format = sniffFormat(head);
    if (format === undefined) return;
    if (format === 'unknown') {
      this.#fail('SOURCE_UNSUPPORTED_FORMAT', `no MP3, AAC, Ogg or FLAC stream found in the first ${SNIFF_LIMIT} bytes`);
      return;
    }
    this.#format = format;
    this.#pending = [head];
    this.#startDecoder(format, head);
  }

  #startDecoder(format: Exclude<AudioFormat, 'unknown'>, head: Buffer): void {
    this.#state = 'starting';
    this.#opts.socket.pause(); // nothing more is read until the decoder can take it
    const t0 = performance.now();
    const { inputId, connectionId } = this.info;
    const onPcm = (pcm: Buffer): void => {
      if (this.#firstPcmMs === undefined) {
        // Latency budget check: first body byte → first PCM (includes sniffing and ffmpeg start-up).
        this.#firstPcmMs = Math.round(performance.now() - this.#firstByteAt);
        this.#log.info({ format, firstPcmMs: this.#firstPcmMs }, 'first PCM from decoder');
      }
      this.#opts.events.emit('pcm', { inputId, connectionId, pcm });
    };
    this.#decoderReady = startDecoder({
      ffmpegPath: this.#opts.ffmpegPath,
      format,
      head,
      mp3Decoder: this.#opts.mp3Decoder,
      log: this.#log.child({ ffmpeg: 'decoder' }),
      onPcm,
    }).then(
      (decoder) => {
        this.#decoder = decoder;
        void decoder.exited.then((exit) => {
          this.#opts.onDecoder?.({ kind: 'exited', connectionId, at: Date.now() });
          if (exit.requested || this.#state === 'closing' || this.#state === 'closed') return;
          // A killed ffmpeg says nothing: no dangling colon then.
          const said = exit.stderrTail.slice(-3).join(' | ');
          this.#fail(
            'DECODER_FAILED',
            `decoder exited (code ${String(exit.code)}, signal ${String(exit.signal)})${said ? `: ${said}` : ''}`,
          );
        });
        if (this.#state !== 'starting') {
          // The source left while ffmpeg was starting and was never announced: nothing to drain.
          void decoder.stop();
          return decoder;
        }
        this.#state = 'streaming';
        this.#streamingSince = performance.now();
        this.#log.info(
          { format, engine: decoder.engine, pid: decoder.pid, startMs: Math.round(performance.now() - t0) },
          'decoder started',
        );
        this.#opts.onDecoder?.({ kind: 'started', connectionId, engine: decoder.engine, pid: decoder.pid, format, at: Date.now() });
        this.#connectedEmitted = true;
        this.#opts.events.emit('source-connected', { inputId, info: this.fullInfo });
        let ok = true;
        for (const b of this.#pending) ok = decoder.write(b) && ok;
        this.#pending = [];
        this.#pendingBytes = 0;
        if (ok) this.#opts.socket.resume();
        else this.#pauseUntilDrain(decoder, true);
        return decoder;
      },
      (err: unknown) => {
        this.#log.error({ err }, 'cannot start decoder');
        this.#fail('FFMPEG_START_FAILED', `cannot start decoder: ${(err as Error).message}`);
        return undefined;
      },
    );
  }

  #pauseUntilDrain(decoder: PcmDecoder, alreadyPaused = false): void {
    if (this.#paused) return;
    this.#paused = true;
    if (!alreadyPaused) this.#opts.socket.pause();
    decoder.onDrain(() => {
      this.#paused = false;
      // A paused source is not idle: restart the idle clock, we were the ones not reading.
      this.#lastDataAt = performance.now();
      if (this.#state === 'streaming') this.#opts.socket.resume();
    });
  }

  #check(): void {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    const now = performance.now();
    if (!this.#paused && this.#state !== 'starting' && now - this.#lastDataAt > this.#opts.sourceTimeoutMs) {
      this.#log.warn({ idleMs: Math.round(now - this.#lastDataAt) }, 'disconnecting source: no data within the source timeout');
      void this.close('source-timeout');
      return;
    }
    const d = this.#decoder;
    if (
      this.#state === 'streaming' &&
      d &&
      d.inSinceLastPcm >= GARBAGE_BYTES &&
      now - Math.max(d.lastPcmAt, this.#streamingSince) > GARBAGE_MS
    ) {
      this.#fail('DECODER_FAILED', `no audio decoded from the last ${d.inSinceLastPcm} bytes (${this.#format})`);
    }
  }

  /** A fault on this connection only: log it, report it, end the connection. */
  #fail(code: Parameters<typeof fault>[0], message: string): void {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    this.#log.warn({ code }, `ending source connection: ${message}`);
    if (code === 'DECODER_FAILED' || code === 'FFMPEG_START_FAILED') {
      const format = this.#format === 'unknown' ? undefined : this.#format;
      this.#opts.onDecoder?.({ kind: 'failed', connectionId: this.info.connectionId, format, code, message, at: Date.now() });
    }
    this.#opts.events.emit('decoder-error', { inputId: this.info.inputId, fault: fault(code, message) });
    void this.close('decoder-failed');
  }

  /**
   * Ends the connection (idempotent). `source-disconnected` is emitted only after the decoder has
   * exited, so every PCM byte it produced has been delivered before it.
   */
  close(reason: DisconnectReason): Promise<void> {
    this.#closing ??= this.#close(reason);
    return this.#closing;
  }

  async #close(reason: DisconnectReason): Promise<void> {
    this.#state = 'closing';
    clearInterval(this.#timer);
    if (!this.#opts.socket.destroyed) this.#opts.socket.destroy();
    this.#opts.onSocketGone(this);
    this.#log.info({ reason, bytesIn: this.#bytesIn, format: this.#format }, 'source disconnected');
    const decoder = this.#decoder ?? (await this.#decoderReady);
    if (decoder) {
      decoder.endInput();
      const timer = setTimeout(() => void decoder.stop(), DRAIN_TIMEOUT_MS);
      await decoder.exited;
      clearTimeout(timer);
    }
    this.#state = 'closed';
    if (this.#connectedEmitted) {
      this.#opts.events.emit('source-disconnected', { inputId: this.info.inputId, info: this.fullInfo, reason });
    }
    this.#opts.onClosed?.(this);
  }
}
