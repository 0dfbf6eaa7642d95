// What an HTTP request on a source port asks for: SOURCE/PUT (a studio encoder), an Icecast or
// Shoutcast title update, libshout's probes, BUTT's status polls. Every reply is Icecast 2.4.4's.
import type { InputId } from '../types/contracts.js';
import { basicCredentials, safeEqual } from '../util/request.js';
import { busy, finish, finishAfter, type Conn } from './connection.js';
import { splitTarget, type RequestHead } from './head-parser.js';
import { parseMetadataQuery } from './metadata.js';
import * as reply from './responses.js';

export function routeRequest(conn: Conn, head: RequestHead, body: Buffer): void {
  const { path, query } = splitTarget(head.target);
  const c: Conn = { ...conn, log: conn.log.child({ method: head.method, path: path.slice(0, 200) }) };
  if (head.method === 'SOURCE' || head.method === 'PUT') return sourceRequest(c, head, path, body);
  if (head.method === 'OPTIONS') return finish(c.socket); // Icecast 2.4.4 closes without a reply; libshout copes
  if (head.method !== 'GET' && head.method !== 'HEAD') return finish(c.socket, reply.htmlError(400, 'Unrecognised command'));
  if (path === '/admin/metadata' || path === '/admin/metadata.xsl') return icecastMetadata(c, head, path, query);
  if (path === '/admin.cgi') return shoutcastMetadata(c, path, query);
  // libshout's GET /admin/!POKE probe, and anything else under /admin: Icecast's exact 400.
  if (path.startsWith('/admin/')) return finish(c.socket, reply.htmlError(400, 'Unrecognised command'));
  // BUTT polls /status-json.xsl, /stats and /7.html on the source port: Icecast's 404.
  return finish(c.socket, reply.notFound());
}

/** The input this port's title updates go to when no source names the mount. */
function portInput(c: Conn): InputId {
  return (c.ctx.httpInput ?? c.ctx.icyInput) as InputId;
}

function sourceRequest(c: Conn, head: RequestHead, path: string, body: Buffer): void {
  const { ctx, socket } = c;
  const h = head.headers;
  const cred = basicCredentials(h.get('authorization'));
  if (!cred || cred.user !== 'source' || !safeEqual(cred.password, ctx.sourcePassword) || !path.startsWith('/')) {
    ctx.reject(c.remote, 'SOURCE_AUTH_FAILED', 'authentication required');
    // libshout's probe sends SOURCE without credentials on purpose, expecting exactly this 401: that is
    // no failed login, so it is neither logged as one nor slowed down.
    if (!cred) {
      c.log.info('source without credentials (a probe)');
      return finish(socket, reply.unauthorized());
    }
    return finishAfter(socket, ctx.authFailed(c.remote, cred.user, path), reply.unauthorized());
  }
  if (!ctx.claim(portInput(c), c.log)) return busy(c);
  if (/100-continue/i.test(h.get('expect') ?? '')) socket.write(reply.CONTINUE);
  socket.write(reply.SOURCE_OK);
  ctx.startSource({
    socket,
    connectionId: c.connectionId,
    inputId: portInput(c),
    protocol: head.method === 'PUT' ? 'icecast-put' : 'icecast-source',
    mount: decodeURIComponentSafe(path),
    userAgent: h.get('user-agent') ?? '',
    headers: h,
    body,
    chunked: /chunked/i.test(h.get('transfer-encoding') ?? ''),
    log: c.log,
  });
}

function icecastMetadata(c: Conn, head: RequestHead, path: string, query: string): void {
  const { ctx, socket } = c;
  const cred = basicCredentials(head.headers.get('authorization'));
  const ok =
    cred !== undefined &&
    ((cred.user === 'source' && safeEqual(cred.password, ctx.sourcePassword)) ||
      (cred.user === 'admin' && safeEqual(cred.password, ctx.adminPassword)));
  if (!ok) {
    // libshout asks without credentials first, expecting the 401: only wrong credentials count.
    const delay = cred ? ctx.authFailed(c.remote, cred.user, path) : 0;
    return finishAfter(socket, delay, reply.unauthorized());
  }
  const update = parseMetadataQuery(query);
  if (update.mode !== 'updinfo') return finish(socket, reply.adminXml('No such action', false));
  if (update.title === undefined) return finish(socket, reply.htmlError(400, 'Missing parameter'));
  const inputId = ctx.metadata('icecast', update.mount, update.title, portInput(c));
  c.log.info({ inputId, title: update.title, mount: update.mount }, 'metadata update');
  finish(socket, reply.adminXml('Metadata update successful', true));
}

function shoutcastMetadata(c: Conn, path: string, query: string): void {
  const { ctx, socket } = c;
  const update = parseMetadataQuery(query);
  const pass = update.pass ?? '';
  if (!safeEqual(pass, ctx.sourcePassword) && !safeEqual(pass, ctx.adminPassword)) {
    return finishAfter(socket, ctx.authFailed(c.remote, undefined, path), reply.unauthorized());
  }
  if (update.mode !== 'updinfo') return finish(socket, reply.htmlError(400, 'No such action'));
  if (update.title === undefined) return finish(socket, reply.htmlError(400, 'Missing parameter'));
  const inputId = ctx.metadata('shoutcast', undefined, update.title, portInput(c));
  c.log.info({ inputId, title: update.title }, 'Shoutcast metadata update');
  finish(socket, reply.shoutcastAdminOk());
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(Buffer.from(s, 'latin1').toString('utf8'));
  } catch {
    return s;
  }
}
