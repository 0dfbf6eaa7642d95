// The /hls/ routes: playlists (no-cache, gzip, LL-HLS blocking reload), segments and parts (cacheable),
// CORS for web players. Everything is looked up in memory by validated numbers and known tier names,
// so no request can name a file: path traversal has nothing to reach.
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { HlsService, Rendered } from './service.js';

const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';
const SEGMENT_TYPE = 'audio/aac';
const MEDIA_RE = /^(\d{1,15})(?:\.(\d{1,4}))?\.aac$/;
const INT_RE = /^\d{1,15}$/;

interface TierParams {
  tier: string;
}
interface MediaParams extends TierParams {
  file: string;
}
type Query = Record<string, string | string[] | undefined>;

function cors(reply: FastifyReply): void {
  reply.header('access-control-allow-origin', '*');
  reply.header('access-control-expose-headers', 'content-length, content-type, date, age');
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export function hlsRoutes(svc: HlsService): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    const targetMs = svc.layout.targetDuration * 1000;

    /** Counts the request towards its listener session (`bytes`: the media it is being sent). */
    const touch = (req: FastifyRequest, mount: string, bytes = 0): void => {
      const sid = first((req.query as Query).sid);
      const userAgent = req.headers['user-agent'] ?? '';
      const key = sid !== undefined && sid !== '' ? `sid:${sid.slice(0, 128)}` : `${req.ip}|${userAgent}`;
      svc.sessions.touch(key, { remoteAddress: req.ip, userAgent, mount, bytes });
    };

    const sendPlaylist = (req: FastifyRequest, reply: FastifyReply, r: Rendered): FastifyReply => {
      cors(reply);
      reply.header('content-type', PLAYLIST_TYPE).header('cache-control', 'no-cache').header('vary', 'accept-encoding');
      if (/\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) return reply.header('content-encoding', 'gzip').send(r.gzip());
      return reply.send(r.text);
    };

    /** Parks a request until `ready`, with a signal aborted when the client goes away. */
    const park = async (req: FastifyRequest, ready: () => boolean, timeoutMs: number): Promise<'ready' | 'gone' | 'busy' | 'timeout'> => {
      const ac = new AbortController();
      const onClose = (): void => ac.abort();
      req.raw.once('close', onClose);
      try {
        const p = svc.waiters.wait(ready, timeoutMs, ac.signal);
        if (!p) return 'busy';
        const r = await p;
        return r === 'ready' ? 'ready' : r === 'timeout' ? 'timeout' : 'gone';
      } finally {
        req.raw.off('close', onClose);
      }
    };

    const unavailable = (reply: FastifyReply, why: string): FastifyReply => {
      cors(reply);
      return reply.code(503).header('retry-after', '1').header('cache-control', 'no-cache').send({ error: 'unavailable', message: why });
    };

    // Parked blocking requests would hold the server's close for up to three target durations: release them.
    app.addHook('preClose', (done) => {
      svc.waiters.close();
      done();
    });

    // The server is closing (or the client left): end the keep-alive connection too, or close() waits for it.
    const shuttingDown = (reply: FastifyReply): FastifyReply => unavailable(reply.header('connection', 'close'), 'shutting down');

    app.options('/hls/*', async (_req, reply) => {
      cors(reply);
      return reply
        .code(204)
        .header('access-control-allow-methods', 'GET, HEAD, OPTIONS')
        .header('access-control-allow-headers', 'range, if-none-match, if-modified-since')
        .header('access-control-max-age', '86400')
        .send();
    });

    app.get('/hls/master.m3u8', async (req, reply) => {
      touch(req, '/hls/master.m3u8');
      return sendPlaylist(req, reply, svc.master());
    });

    app.get<{ Params: TierParams; Querystring: Query }>('/hls/:tier/index.m3u8', async (req, reply) => {
      const tier = svc.tierIndex(req.params.tier);
      if (tier < 0) return notFound(reply);
      touch(req, `/hls/${req.params.tier}/index.m3u8`);
      const msnRaw = first(req.query._HLS_msn);
      const partRaw = first(req.query._HLS_part);
      if (msnRaw === undefined && partRaw !== undefined) return badRequest(reply, '_HLS_part needs _HLS_msn');
      let ready: () => boolean = () => svc.timeline.last !== undefined;
      if (msnRaw !== undefined) {
        if (!INT_RE.test(msnRaw) || (partRaw !== undefined && !INT_RE.test(partRaw)))
          return badRequest(reply, '_HLS_msn/_HLS_part must be integers');
        const msn = Number(msnRaw);
        const part = partRaw === undefined ? undefined : Number(partRaw);
        if (svc.tooFar(msn)) return badRequest(reply, `_HLS_msn=${msn} is more than two segments past the live edge`);
        ready = () => svc.has(msn, part);
      }
      // 8216bis: a blocking request not satisfiable within three target durations gets 503.
      const r = await park(req, ready, 3 * targetMs);
      if (r === 'gone') return shuttingDown(reply);
      if (r === 'busy') return unavailable(reply, 'too many blocked playlist requests');
      if (r === 'timeout') return unavailable(reply, 'the requested part was not published in time');
      return sendPlaylist(req, reply, svc.media(tier));
    });

    app.get<{ Params: MediaParams; Querystring: Query }>('/hls/:tier/:file', async (req, reply) => {
      const tier = svc.tierIndex(req.params.tier);
      const m = MEDIA_RE.exec(req.params.file);
      if (tier < 0 || !m) return notFound(reply);
      const msn = Number(m[1]);
      const part = m[2] === undefined ? undefined : Number(m[2]);
      let bytes = svc.mediaBytes(tier, msn, part);
      if (!bytes && part !== undefined) {
        // A preload-hinted part (or one just after it) is requested before it exists: hold it until published.
        const next = svc.timeline.next;
        const soon = (msn === next.msn && part >= next.part && part < svc.layout.partsPerSegment) || (msn === next.msn + 1 && part === 0);
        if (soon) {
          const r = await park(req, () => svc.mediaBytes(tier, msn, part) !== undefined || svc.has(msn + 1, 0), 3 * targetMs);
          if (r === 'gone') return shuttingDown(reply);
          bytes = svc.mediaBytes(tier, msn, part);
        }
      }
      if (!bytes) return notFound(reply);
      touch(req, `/hls/${req.params.tier}/index.m3u8`, bytes.length);
      cors(reply);
      // Media names are never reused (the sequence persists across restarts), so caches may keep them.
      return reply.header('content-type', SEGMENT_TYPE).header('cache-control', 'public, max-age=3600').send(bytes);
    });
  };
}

function notFound(reply: FastifyReply): FastifyReply {
  cors(reply);
  return reply.code(404).header('cache-control', 'no-cache').send({ error: 'not found' });
}

function badRequest(reply: FastifyReply, message: string): FastifyReply {
  cors(reply);
  return reply.code(400).header('cache-control', 'no-cache').send({ error: 'bad request', message });
}
