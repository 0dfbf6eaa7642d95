// Icecast 2.4.4's admin commands with their XML bodies (reference §3.2), mounted under /admin and
// /icecast-admin: one handler per command. Commands that reach into the pipeline go through the
// injected AdminActions; failed logins are logged and slowed down by the shared AuthGuard.
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Secrets } from '../config/secrets.js';
import type { AuthGuard } from '../util/auth-guard.js';
import { basicCredentials, queryText, safeEqual } from '../util/request.js';
import { cleanTitle } from '../util/text.js';
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
  readonly secrets: Secrets;
  readonly log: Logger;
  readonly auth: AuthGuard;
  readonly mounts: ReadonlyMap<string, Mount>;
  /** The stats tree with listen URLs under `origin` (the scheme, host and port the asker came in by). */
  readonly statsTree: (origin: string) => StatsTree;
  readonly actions: AdminActions | undefined;
}

type Role = 'admin' | 'source' | 'relay';

/** One admin request, parsed once: who asks, about which mount, with which parameters. */
interface Ask {
  readonly q: ReadonlyMap<string, string>;
  readonly who: ReadonlySet<Role>;
  readonly mountName: string | undefined;
  readonly mount: Mount | undefined;
  /** Commands on one mount also take that mount's (source) credentials. */
  readonly mountAuth: boolean;
  /** Public origin for URLs in the answer (https when the request came over HTTPS). */
  readonly origin: string;
}

/** Roles the request's Basic credentials grant; a wrong password is recorded with the AuthGuard. */
function roles(req: FastifyRequest, opts: AdminOptions): { who: Set<Role>; failedDelayMs: number } {
  const who = new Set<Role>();
  const cred = basicCredentials(req.headers.authorization);
  if (!cred) return { who, failedDelayMs: 0 };
  const { secrets } = opts;
  if (cred.user === 'admin' && safeEqual(cred.password, secrets.adminPassword)) who.add('admin');
  if (cred.user === 'source' && safeEqual(cred.password, secrets.sourcePassword)) who.add('source');
  if (cred.user === 'relay' && safeEqual(cred.password, secrets.relayPassword)) who.add('relay');
  if (who.size > 0) return { who, failedDelayMs: 0 };
  const path = (req.raw.url ?? '').split('?')[0] ?? '';
  return { who, failedDelayMs: opts.auth.failed({ address: req.ip, user: cred.user, path, where: 'http' }) };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function headers(reply: FastifyReply, type: string): FastifyReply {
  return reply
    .header('content-type', type)
    .header('cache-control', 'no-cache, no-store')
    .header('expires', 'Mon, 26 Jul 1997 05:00:00 GMT')
    .header('pragma', 'no-cache')
    .header('access-control-allow-origin', '*');
}
const xml = (reply: FastifyReply, body: string): FastifyReply => headers(reply, 'text/xml; charset=utf-8').send(body);
const fail = (reply: FastifyReply, code: number, message: string): FastifyReply =>
  headers(reply.code(code), 'text/html; charset=utf-8').send(errorPage(code, message));
const unauthorized = (reply: FastifyReply): FastifyReply =>
  headers(reply.code(401), 'text/plain; charset=utf-8')
    .header('www-authenticate', 'Basic realm="Icecast2 Server"')
    .send('You need to authenticate\r\n');

type Handler = (ask: Ask, reply: FastifyReply, opts: AdminOptions) => FastifyReply | Promise<FastifyReply>;

/** Commands on the whole server. */
const GLOBAL: Record<string, Handler> = {
  streamlist: (ask, reply, opts) => {
    if (!ask.who.has('relay') && !ask.who.has('admin')) return unauthorized(reply);
    const list = [...opts.mounts.keys()]
      .sort()
      .map((m) => `${m}\r\n`)
      .join('');
    return headers(reply, 'text/plain; charset=utf-8').send(list);
  },
  stats: (ask, reply, opts) => {
    if (ask.mountName !== undefined ? !ask.mountAuth : !ask.who.has('admin')) return unauthorized(reply);
    const tree = opts.statsTree(ask.origin);
    if (ask.mountName === undefined) return xml(reply, statsXml(tree));
    if (!ask.mount) return fail(reply, 400, 'Source does not exist');
    return xml(reply, statsXml({ global: tree.global, sources: tree.sources.filter((s) => s.mount === ask.mountName) }));
  },
  listmounts: (ask, reply, opts) => {
    if (!ask.who.has('admin')) return unauthorized(reply);
    const now = Date.now();
    const list = [...opts.mounts.values()].map((m) => ({
      mount: m.path,
      listeners: m.listeners.size,
      connectedSeconds: Math.floor((now - m.startedAt) / 1000),
      contentType: contentType(m.config.codec),
    }));
    return xml(reply, listMountsXml(list));
  },
};
GLOBAL['streamlist.txt'] = GLOBAL.streamlist as Handler;
GLOBAL['stats.xml'] = GLOBAL.stats as Handler;

/** Commands on one mount (`mount=`): admin or that mount's source credentials. */
const ON_MOUNT: Record<string, (mount: Mount, ask: Ask, reply: FastifyReply, opts: AdminOptions) => FastifyReply | Promise<FastifyReply>> =
  {
    listclients: (mount, _ask, reply) => {
      const now = Date.now();
      const clients = [...mount.listeners].map((l) => ({
        ip: l.ip,
        userAgent: l.userAgent,
        connectedSeconds: Math.floor((now - l.connectedAt) / 1000),
        id: l.id,
      }));
      return xml(reply, listClientsXml(mount.path, clients));
    },
    killclient: (mount, ask, reply) => {
      const id = Number(ask.q.get('id'));
      const l = [...mount.listeners].find((x) => x.id === id);
      if (!l) return xml(reply, iceResponse(`Client ${ask.q.get('id') ?? ''} not found`, false));
      mount.drop(l, 'killed');
      return xml(reply, iceResponse(`Client ${id} removed`, true));
    },
    killsource: async (mount, _ask, reply, opts) => {
      const kicked = await (opts.actions?.kickSource(mount.path) ?? false);
      opts.log.info({ mount: mount.path, kicked }, 'admin killsource');
      return xml(reply, iceResponse('Source Removed', true));
    },
    moveclients: (mount, ask, reply, opts) => {
      const destName = ask.q.get('destination');
      const dest = destName !== undefined ? opts.mounts.get(destName) : undefined;
      if (destName === mount.path) return fail(reply, 400, 'supplied mountpoints are identical');
      if (!dest) return fail(reply, 400, 'No such destination');
      // Same connections, no new headers (as Icecast): the players must cope with the new format.
      for (const l of [...mount.listeners]) if (mount.detach(l)) dest.attach(l, undefined);
      return xml(reply, iceResponse(`Clients moved from ${mount.path} to ${dest.path}`, true));
    },
    metadata: (mount, ask, reply, opts) => {
      if ((ask.q.get('mode') ?? '') !== 'updinfo') return xml(reply, iceResponse('No such action', false));
      const artist = ask.q.get('artist');
      const title = ask.q.get('title');
      const song = ask.q.get('song') ?? (artist && title ? `${artist} - ${title}` : (title ?? artist));
      if (song === undefined) return xml(reply, iceResponse('No such action', false));
      opts.actions?.setTitle(cleanTitle(song), mount.path);
      return xml(reply, iceResponse('Metadata update successful', true));
    },
  };

/**
 * Icecast's HTML admin pages (its `*.xsl` names): a person opening them, or the bare admin path, in a
 * browser is sent to the dashboard; tools send the XML commands (`stats`, `listmounts`, …) and still
 * get Icecast's XML.
 */
const HTML_PAGES = new Set([
  'stats.xsl',
  'listmounts.xsl',
  'listclients.xsl',
  'moveclients.xsl',
  'updatemetadata.xsl',
  'managerelays.xsl',
  'manageauth.xsl',
  'logs.xsl',
  'index.html',
]);
export const DASHBOARD_PATH = '/dashboard/';

export function adminRoutes(opts: AdminOptions): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.get('/', async (_req, reply) => reply.redirect(DASHBOARD_PATH, 302));
    app.get('/:command', async (req: FastifyRequest<{ Params: { command: string } }>, reply) => {
      const command = req.params.command;
      if (HTML_PAGES.has(command)) return reply.redirect(DASHBOARD_PATH, 302);
      const url = req.raw.url ?? '';
      const q = queryText(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
      const { who, failedDelayMs } = roles(req, opts);
      // An address that keeps guessing waits for each answer; the right password never does.
      if (failedDelayMs > 0) await sleep(failedDelayMs);
      const mountName = q.get('mount');
      const ask: Ask = {
        q,
        who,
        mountName,
        mount: mountName !== undefined ? opts.mounts.get(mountName) : undefined,
        mountAuth: who.has('admin') || who.has('source'),
        origin: app.publicOrigin(req),
      };
      // Own properties only: a command named `constructor` must not find Object.prototype's.
      const global = Object.hasOwn(GLOBAL, command) ? GLOBAL[command] : undefined;
      if (global) return global(ask, reply, opts);
      const onMount = Object.hasOwn(ON_MOUNT, command) ? ON_MOUNT[command] : undefined;
      if (!onMount) {
        if (!ask.mountAuth) return unauthorized(reply);
        return fail(reply, 400, 'Unrecognised command');
      }
      if (!ask.mountAuth) return unauthorized(reply);
      if (!ask.mount) return fail(reply, 400, 'Source does not exist');
      return onMount(ask.mount, ask, reply, opts);
    });
  };
}
