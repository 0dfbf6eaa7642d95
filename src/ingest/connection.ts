// The first moments of a connection on a source port: read the head (HTTP request or Shoutcast
// password line) within the size and time limits, then route it — source, metadata update, probe, 404.
import { timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ErrorCode } from '../errors.js';
import type { InputId, SourceProtocol } from '../types/contracts.js';
import {
  basicCredentials,
  firstLine,
  isRequestLine,
  parseRequestHead,
  parseShoutcastHeaders,
  parseShoutcastPassword,
  splitTarget,
  type RequestHead,
} from './head-parser.js';
import { parseMetadataQuery } from './metadata.js';
import * as reply from './responses.js';

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

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Sends a final reply and closes; late bytes from the client are read and dropped meanwhile. */
function finish(socket: Socket, data?: Buffer): void {
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

export function handleConnection(socket: Socket, ctx: PortContext, connectionId: number): void {
  const remote = socket.remoteAddress ?? 'unknown';
  const log = ctx.log.child({ connectionId, remote });
  let buf: Buffer = Buffer.alloc(0);
  let mode: 'http' | 'icy-password' | 'icy-headers' | undefined;
  let done = false;
  const timer = setTimeout(() => {
    log.warn({ received: buf.length }, 'no complete request head within the header timeout');
    ctx.reject(remote, 'SOURCE_HEADER_TIMEOUT', `no request head within ${ctx.headerTimeoutMs} ms`);
    stop(reply.plainError(408, 'Request header timeout\r\n'));
  }, ctx.headerTimeoutMs);

  const stop = (data?: Buffer): void => {
    done = true;
    clearTimeout(timer);
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
      done = true;
      clearTimeout(timer);
      socket.off('data', onData);
      return onRequest(r.value, r.body);
    }
    if (mode === 'icy-password') {
      const r = parseShoutcastPassword(buf, ctx.maxHeaderBytes);
      if (r.status === 'incomplete') return;
      if (r.status !== 'complete') return tooLarge();
      const pw = r.value;
      // Liquidsoap's harbor also takes `user:password` on the line; accept user "source" that way.
      if (!safeEqual(pw, ctx.sourcePassword) && !safeEqual(pw, `source:${ctx.sourcePassword}`)) {
        log.warn('Shoutcast source: wrong password');
        ctx.reject(remote, 'SOURCE_AUTH_FAILED', 'wrong Shoutcast password');
        // Icecast answers a wrong Shoutcast password by closing, without a word.
        return stop();
      }
      socket.write(reply.SHOUTCAST_OK);
      mode = 'icy-headers';
      buf = r.body;
      if (buf.length === 0) return;
    }
    const r = parseShoutcastHeaders(buf, ctx.maxHeaderBytes);
    if (r.status === 'incomplete') return;
    if (r.status !== 'complete') return tooLarge();
    done = true;
    clearTimeout(timer);
    socket.off('data', onData);
    const inputId = ctx.icyInput as InputId;
    if (!ctx.claim(inputId, log)) return busy();
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

  const busy = (): void => {
    log.warn('input busy: refusing a second source');
    ctx.reject(remote, 'SOURCE_MOUNT_IN_USE', 'Mountpoint in use');
    finish(socket, reply.plainError(403, 'Mountpoint in use'));
  };

  const onRequest = (head: RequestHead, body: Buffer): void => {
    const { path, query } = splitTarget(head.target);
    const h = head.headers;
    const rlog = log.child({ method: head.method, path: path.slice(0, 200) });
    if (head.method === 'SOURCE' || head.method === 'PUT') {
      const inputId = (ctx.httpInput ?? ctx.icyInput) as InputId;
      const cred = basicCredentials(h.get('authorization'));
      if (!cred || cred.user !== 'source' || !safeEqual(cred.password, ctx.sourcePassword) || !path.startsWith('/')) {
        // libshout's probe sends SOURCE without credentials on purpose, expecting exactly this 401.
        rlog.info({ hadCredentials: cred !== undefined }, 'source not authenticated');
        ctx.reject(remote, 'SOURCE_AUTH_FAILED', 'authentication required');
        return finish(socket, reply.unauthorized());
      }
      if (!ctx.claim(inputId, rlog)) return busy();
      if (/100-continue/i.test(h.get('expect') ?? '')) socket.write(reply.CONTINUE);
      socket.write(reply.SOURCE_OK);
      const chunked = /chunked/i.test(h.get('transfer-encoding') ?? '');
      const protocol = head.method === 'PUT' ? 'icecast-put' : 'icecast-source';
      ctx.startSource({
        socket,
        connectionId,
        inputId,
        protocol,
        mount: decodeURIComponentSafe(path),
        userAgent: h.get('user-agent') ?? '',
        headers: h,
        body,
        chunked,
        log: rlog,
      });
      return;
    }
    if (head.method === 'OPTIONS') return finish(socket); // Icecast 2.4.4 closes without a reply; libshout copes
    if (head.method !== 'GET' && head.method !== 'HEAD') return finish(socket, reply.htmlError(400, 'Unrecognised command'));
    const portInput = (ctx.httpInput ?? ctx.icyInput) as InputId;
    if (path === '/admin/metadata' || path === '/admin/metadata.xsl') {
      const cred = basicCredentials(h.get('authorization'));
      const ok =
        cred !== undefined &&
        ((cred.user === 'source' && safeEqual(cred.password, ctx.sourcePassword)) ||
          (cred.user === 'admin' && safeEqual(cred.password, ctx.adminPassword)));
      if (!ok) return finish(socket, reply.unauthorized());
      const update = parseMetadataQuery(query);
      if (update.mode !== 'updinfo') return finish(socket, reply.adminXml('No such action', false));
      if (update.title === undefined) return finish(socket, reply.htmlError(400, 'Missing parameter'));
      const inputId = ctx.metadata('icecast', update.mount, update.title, portInput);
      rlog.info({ inputId, title: update.title, mount: update.mount }, 'metadata update');
      return finish(socket, reply.adminXml('Metadata update successful', true));
    }
    if (path === '/admin.cgi') {
      const update = parseMetadataQuery(query);
      const pass = update.pass ?? '';
      if (!safeEqual(pass, ctx.sourcePassword) && !safeEqual(pass, ctx.adminPassword)) return finish(socket, reply.unauthorized());
      if (update.mode !== 'updinfo') return finish(socket, reply.htmlError(400, 'No such action'));
      if (update.title === undefined) return finish(socket, reply.htmlError(400, 'Missing parameter'));
      const inputId = ctx.metadata('shoutcast', undefined, update.title, portInput);
      rlog.info({ inputId, title: update.title }, 'Shoutcast metadata update');
      return finish(socket, reply.shoutcastAdminOk());
    }
    // libshout's GET /admin/!POKE probe, and anything else under /admin: Icecast's exact 400.
    if (path.startsWith('/admin/')) return finish(socket, reply.htmlError(400, 'Unrecognised command'));
    // BUTT polls /status-json.xsl, /stats and /7.html on the source port: Icecast's 404.
    return finish(socket, reply.notFound());
  };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(Buffer.from(s, 'latin1').toString('utf8'));
  } catch {
    return s;
  }
}
