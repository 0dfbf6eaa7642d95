// The first moments of a connection on a source port: read the head (HTTP request or Shoutcast
// password line) within the size and time limits, then hand it on: an HTTP request to routes.ts, a
// Shoutcast v1 source straight to its input.
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ErrorCode } from '../errors.js';
import type { InputId, SourceProtocol } from '../types/contracts.js';
import { safeEqual } from '../util/request.js';
import { firstLine, isRequestLine, parseRequestHead, parseShoutcastHeaders, parseShoutcastPassword } from './head-parser.js';
import * as reply from './responses.js';
import { routeRequest } from './routes.js';

/** What a connection needs from the ingest that owns its port. */
export interface PortContext {
  readonly port: number;
  /** Input whose Icecast (HTTP) sources arrive here. */
  readonly httpInput: InputId | undefined;
  /** Input whose Shoutcast v1 sources (password line) arrive here. */
  readonly icyInput: InputId | undefined;
  readonly maxHeaderBytes: number;
  readonly headerTimeoutMs: number;
  readonly sourcePassword: string;
  readonly adminPassword: string;
  readonly log: Logger;
  reject(remoteAddress: string, code: ErrorCode, message: string): void;
  /** Records a failed login (logged, counted); returns how long to wait before answering it. */
  authFailed(remoteAddress: string, user: string | undefined, path: string): number;
  /** True when the input may take a new source now (free, or its source stalled and was replaced). */
  claim(inputId: InputId, log: Logger): boolean;
  startSource(req: AcceptedSource): void;
  /** Applies a title; returns the input it was applied to. */
  metadata(kind: 'icecast' | 'shoutcast', mount: string | undefined, title: string, portInput: InputId): InputId;
}

export interface AcceptedSource {
  readonly socket: Socket;
  /** The connection's id, used in logs from its first byte and as SourceInfo.connectionId. */
  readonly connectionId: number;
  readonly inputId: InputId;
  readonly protocol: SourceProtocol;
  readonly mount: string;
  readonly userAgent: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
  readonly chunked: boolean;
  readonly log: Logger;
}

/** One connection past its head, as routes.ts sees it. */
export interface Conn {
  readonly socket: Socket;
  readonly ctx: PortContext;
  readonly connectionId: number;
  readonly remote: string;
  readonly log: Logger;
}

/** Sends a final reply and closes; late bytes from the client are read and dropped meanwhile. */
export function finish(socket: Socket, data?: Buffer): void {
  socket.removeAllListeners('data');
  socket.on('data', () => undefined);
  socket.resume();
  if (data) socket.end(data);
  else socket.end();
  // A client that never closes its side must not keep the socket (and the port's slot) forever.
  const timer = setTimeout(() => socket.destroy(), 2000);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/** finish(), `delayMs` later: a failed login from an address that keeps failing waits for its answer. */
export function finishAfter(socket: Socket, delayMs: number, data?: Buffer): void {
  if (delayMs <= 0) return finish(socket, data);
  socket.removeAllListeners('data');
  socket.on('data', () => undefined);
  socket.resume();
  const timer = setTimeout(() => finish(socket, data), delayMs);
  socket.once('close', () => clearTimeout(timer));
}

export function busy(conn: Conn): void {
  conn.log.warn('input busy: refusing a second source');
  conn.ctx.reject(conn.remote, 'SOURCE_MOUNT_IN_USE', 'Mountpoint in use');
  finish(conn.socket, reply.plainError(403, 'Mountpoint in use'));
}

export function handleConnection(socket: Socket, ctx: PortContext, connectionId: number): void {
  const remote = socket.remoteAddress ?? 'unknown';
  const conn: Conn = { socket, ctx, connectionId, remote, log: ctx.log.child({ connectionId, remote }) };
  const { log } = conn;
  let buf: Buffer = Buffer.alloc(0);
  let mode: 'http' | 'icy-password' | 'icy-headers' | undefined;
  let done = false;
  const timer = setTimeout(() => {
    log.warn({ received: buf.length }, 'no complete request head within the header timeout');
    ctx.reject(remote, 'SOURCE_HEADER_TIMEOUT', `no request head within ${ctx.headerTimeoutMs} ms`);
    stop(reply.plainError(408, 'Request header timeout\r\n'));
  }, ctx.headerTimeoutMs);

  /** The head is read (or given up on): no more head parsing, no timeout. */
  const settle = (): void => {
    done = true;
    clearTimeout(timer);
    socket.off('data', onData);
  };
  const stop = (data?: Buffer): void => {
    settle();
    finish(socket, data);
  };
  const tooLarge = (): void => {
    log.warn({ received: buf.length, limit: ctx.maxHeaderBytes }, 'request head too large');
    ctx.reject(remote, 'SOURCE_HEADER_TOO_LARGE', `request head larger than ${ctx.maxHeaderBytes} bytes`);
    stop(reply.plainError(431, 'Request header too large\r\n'));
  };

  socket.on('error', (err) => log.debug({ err }, 'socket error before the head was read'));
  socket.on('close', () => clearTimeout(timer));
  const onData = (chunk: Buffer): void => {
    if (done) return;
    // Bounded: we never hold more than the limit plus one packet before deciding.
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    step();
  };
  socket.on('data', onData);

  const step = (): void => {
    if (mode === undefined) {
      const line = firstLine(buf);
      if (line === undefined) {
        if (buf.length >= ctx.maxHeaderBytes) tooLarge();
        return;
      }
      // One port may serve both: an HTTP request line is an Icecast client, anything else a password.
      mode = isRequestLine(line) || ctx.icyInput === undefined ? 'http' : 'icy-password';
    }
    if (mode === 'http') {
      const r = parseRequestHead(buf, ctx.maxHeaderBytes);
      if (r.status === 'incomplete') return;
      if (r.status === 'too-large') return tooLarge();
      if (r.status === 'bad') {
        log.warn({ reason: r.reason }, 'bad request on source port');
        ctx.reject(remote, 'SOURCE_BAD_REQUEST', r.reason);
        return stop(reply.htmlError(400, 'Bad request'));
      }
      settle();
      return routeRequest(conn, r.value, r.body);
    }
    if (mode === 'icy-password') {
      const r = parseShoutcastPassword(buf, ctx.maxHeaderBytes);
      if (r.status === 'incomplete') return;
      if (r.status !== 'complete') return tooLarge();
      const pw = r.value;
      // Liquidsoap's harbor also takes `user:password` on the line; accept user "source" that way.
      if (!safeEqual(pw, ctx.sourcePassword) && !safeEqual(pw, `source:${ctx.sourcePassword}`)) {
        ctx.reject(remote, 'SOURCE_AUTH_FAILED', 'wrong Shoutcast password');
        const delay = ctx.authFailed(remote, undefined, 'shoutcast password line');
        settle();
        // Icecast answers a wrong Shoutcast password by closing, without a word.
        return finishAfter(socket, delay);
      }
      socket.write(reply.SHOUTCAST_OK);
      mode = 'icy-headers';
      buf = r.body;
      if (buf.length === 0) return;
    }
    const r = parseShoutcastHeaders(buf, ctx.maxHeaderBytes);
    if (r.status === 'incomplete') return;
    if (r.status !== 'complete') return tooLarge();
    settle();
    const inputId = ctx.icyInput as InputId;
    if (!ctx.claim(inputId, log)) return busy(conn);
    ctx.startSource({
      socket,
      connectionId,
      inputId,
      protocol: 'shoutcast',
      mount: '/stream',
      userAgent: r.value.get('user-agent') ?? '',
      headers: r.value,
      body: r.body,
      chunked: false,
      log,
    });
  };
}
