// Icecast 2.4.4's admin commands with their XML bodies (reference §3.2), mounted under /admin and
// /icecast-admin. Commands that reach into the pipeline go through the injected AdminActions.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { Secrets } from '../config/secrets.js';
import type { Mount } from './mount.js';
import { iceResponse, listClientsXml, listMountsXml, statsXml, type StatsTree } from './stats.js';
import { contentType, errorPage } from './wire.js';

export interface AdminActions {
  /** killsource: disconnect the studio source feeding the programme. False if none was connected. */
  kickSource(mount: string): boolean | Promise<boolean>;
  /** metadata: set the on-air title (it reaches every mount, in sync with the audio). */
  setTitle(title: string, mount: string): void;
}

export interface AdminOptions {
  readonly config: Config;
  readonly secrets: Secrets;
  readonly log: Logger;
  readonly mounts: ReadonlyMap<string, Mount>;
  readonly statsTree: () => StatsTree;
  readonly listenUrl: (mount: string) => string;
  readonly actions: AdminActions | undefined;
}

type Role = 'admin' | 'source' | 'relay';

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Roles the request's Basic credentials grant. */
function roles(req: FastifyRequest, secrets: Secrets): Set<Role> {
  const out = new Set<Role>();
  const m = /^Basic\s+(\S+)/i.exec(req.headers.authorization ?? '');
  if (!m) return out;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return out;
  const user = decoded.slice(0, colon);
  const pass = decoded.slice(colon + 1);
  if (user === 'admin' && same(pass, secrets.adminPassword)) out.add('admin');
  if (user === 'source' && same(pass, secrets.sourcePassword)) out.add('source');
  if (user === 'relay' && same(pass, secrets.relayPassword)) out.add('relay');
  return out;
}

/**
 * The query decoded in the charset the client names (`charset=ISO-8859-1` from some encoders), not
 * always UTF-8; `+` is a space as in forms.
 */
export function parseQuery(rawUrl: string): Map<string, string> {
  const q = rawUrl.includes('?') ? rawUrl.slice(rawUrl.indexOf('?') + 1) : '';
  const pairs = q
    .split('&')
    .filter(Boolean)
    .map((p) => {
      const eq = p.indexOf('=');
      return eq < 0 ? [p, ''] : [p.slice(0, eq), p.slice(eq + 1)];
    }) as [string, string][];
  const bytes = (s: string): Buffer => {
    const out: number[] = [];
    const src = Buffer.from(s.replace(/\+/g, ' '), 'latin1');
    for (let i = 0; i < src.length; i++) {
      const c = src[i] as number;
      const hex = c === 0x25 ? src.toString('latin1', i + 1, i + 3) : '';
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        out.push(Number.parseInt(hex, 16));
        i += 2;
      } else out.push(c);
    }
    return Buffer.from(out);
  };
  const charsetPair = pairs.find(([k]) => k.toLowerCase() === 'charset');
  const latin1 = charsetPair ? /^(iso-?8859-?1|latin-?1)$/i.test(bytes(charsetPair[1]).toString('latin1')) : false;
  const out = new Map<string, string>();
  for (const [k, v] of pairs) out.set(bytes(k).toString('latin1'), bytes(v).toString(latin1 ? 'latin1' : 'utf8'));
  return out;
}

export function adminRoutes(opts: AdminOptions): FastifyPluginAsync {
  const { secrets, mounts } = opts;
  return async (app: FastifyInstance) => {
    const headers = (reply: FastifyReply, type: string): FastifyReply =>
      reply
        .header('content-type', type)
        .header('cache-control', 'no-cache, no-store')
        .header('expires', 'Mon, 26 Jul 1997 05:00:00 GMT')
        .header('pragma', 'no-cache')
        .header('access-control-allow-origin', '*');
    const xml = (reply: FastifyReply, body: string): FastifyReply => headers(reply, 'text/xml; charset=utf-8').send(body);
    const fail = (reply: FastifyReply, code: number, message: string): FastifyReply =>
      headers(reply.code(code), 'text/html; charset=utf-8').send(errorPage(code, message));
    const unauthorized = (reply: FastifyReply): FastifyReply =>
      headers(reply.code(401), 'text/plain; charset=utf-8')
        .header('www-authenticate', 'Basic realm="Icecast2 Server"')
        .send('You need to authenticate\r\n');

    app.get('/:command', async (req: FastifyRequest<{ Params: { command: string } }>, reply) => {
      const command = req.params.command;
      const q = parseQuery(req.raw.url ?? '');
      const who = roles(req, secrets);
      const mountName = q.get('mount');
      const mount = mountName !== undefined ? mounts.get(mountName) : undefined;
      // Global commands need admin; commands on one mount also take that mount's (source) credentials.
      const mountAuth = who.has('admin') || who.has('source');

      switch (command) {
        case 'streamlist.txt':
        case 'streamlist': {
          if (!who.has('relay') && !who.has('admin')) return unauthorized(reply);
          const list = [...mounts.keys()]
            .sort()
            .map((m) => `${m}\r\n`)
            .join('');
          return headers(reply, 'text/plain; charset=utf-8').send(list);
        }
        case 'stats':
        case 'stats.xml': {
          if (mountName !== undefined ? !mountAuth : !who.has('admin')) return unauthorized(reply);
          const tree = opts.statsTree();
          if (mountName === undefined) return xml(reply, statsXml(tree));
          if (!mount) return fail(reply, 400, 'Source does not exist');
          return xml(reply, statsXml({ global: tree.global, sources: tree.sources.filter((s) => s.mount === mountName) }));
        }
        case 'listmounts': {
          if (!who.has('admin')) return unauthorized(reply);
          const now = Date.now();
          return xml(
            reply,
            listMountsXml(
              [...mounts.values()].map((m) => ({
                mount: m.path,
                listeners: m.listeners.size,
                connectedSeconds: Math.floor((now - m.startedAt) / 1000),
                contentType: contentType(m.config.codec),
              })),
            ),
          );
        }
        case 'listclients':
        case 'killclient':
        case 'killsource':
        case 'moveclients':
        case 'metadata':
          break;
        default:
          if (!who.has('admin') && !mountAuth) return unauthorized(reply);
          return fail(reply, 400, 'Unrecognised command');
      }

      if (!mountAuth) return unauthorized(reply);
      if (!mount || mountName === undefined) return fail(reply, 400, 'Source does not exist');
      const now = Date.now();
      switch (command) {
        case 'listclients':
          return xml(
            reply,
            listClientsXml(
              mount.path,
              [...mount.listeners].map((l) => ({
                ip: l.ip,
                userAgent: l.userAgent,
                connectedSeconds: Math.floor((now - l.connectedAt) / 1000),
                id: l.id,
              })),
            ),
          );
        case 'killclient': {
          const id = Number(q.get('id'));
          const l = [...mount.listeners].find((x) => x.id === id);
          if (!l) return xml(reply, iceResponse(`Client ${q.get('id') ?? ''} not found`, false));
          mount.drop(l, 'killed');
          return xml(reply, iceResponse(`Client ${id} removed`, true));
        }
        case 'killsource': {
          const kicked = await (opts.actions?.kickSource(mount.path) ?? false);
          opts.log.info({ mount: mount.path, kicked }, 'admin killsource');
          return xml(reply, iceResponse('Source Removed', true));
        }
        case 'moveclients': {
          const destName = q.get('destination');
          const dest = destName !== undefined ? mounts.get(destName) : undefined;
          if (destName === mount.path) return fail(reply, 400, 'supplied mountpoints are identical');
          if (!dest) return fail(reply, 400, 'No such destination');
          // Same connections, no new headers (as Icecast): the players must cope with the new format.
          for (const l of [...mount.listeners]) if (mount.detach(l)) dest.attach(l, undefined);
          return xml(reply, iceResponse(`Clients moved from ${mount.path} to ${dest.path}`, true));
        }
        case 'metadata': {
          if ((q.get('mode') ?? '') !== 'updinfo') return xml(reply, iceResponse('No such action', false));
          const artist = q.get('artist');
          const title = q.get('title');
          const song = q.get('song') ?? (artist && title ? `${artist} - ${title}` : (title ?? artist));
          if (song === undefined) return xml(reply, iceResponse('No such action', false));
          opts.actions?.setTitle(song, mount.path);
          return xml(reply, iceResponse('Metadata update successful', true));
        }
      }
      return fail(reply, 400, 'Unrecognised command');
    });
  };
}
