// The pages people look at: the public station page at / and the operator's dashboard at /dashboard/,
// served from the static build of web/ (npm run build). The pages talk to the server only through the
// public API; this plugin only serves files and fills the station's name into the HTML at request time.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';

export interface PagesOptions {
  readonly config: Pick<Config, 'stationName' | 'stationDescription' | 'stationUrl' | 'appwriteEndpoint'>;
  readonly log: Logger;
  /** The built pages (web/build.ts output); default: dist/web beside this module's build or source. */
  readonly dir?: string | undefined;
}

interface Asset {
  readonly body: Buffer;
  readonly gzip: Buffer | undefined;
  readonly type: string;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
};

/** dist/pages/index.js → dist/web; src/pages/index.ts (tests, tsx) → dist/web at the repository root. */
function defaultDir(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  return [join(here, '..', 'web'), join(here, '..', '..', 'dist', 'web')].find((d) => existsSync(join(d, 'index.html')));
}

/** Escapes text for an HTML text node or a double-quoted attribute. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Fills the `{{name}}` placeholders of a built page (escaped: the station name is the operator's text). */
export function fillPage(html: string, values: Readonly<Record<string, string>>): string {
  return html.replace(/\{\{(\w+)\}\}/g, (m, k: string) => (k in values ? escapeHtml(values[k] ?? '') : m));
}

export function pagesPlugin(opts: PagesOptions): FastifyPluginAsync {
  const log = opts.log.child({ component: 'pages' });
  const dir = opts.dir === undefined ? defaultDir() : existsSync(join(opts.dir, 'index.html')) ? opts.dir : undefined;
  return async (app) => {
    if (!dir) {
      log.warn('the pages are not built (npm run build): / and /dashboard/ answer 503');
      const notBuilt = async (_req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> =>
        reply
          .code(503)
          .type('text/html; charset=utf-8')
          .send('<!doctype html><title>Antenna</title><p>The pages are not built: run <code>npm run build</code>.</p>');
      app.get('/', notBuilt);
      app.get('/dashboard/', notBuilt);
      app.get('/dashboard', async (_req, reply) => reply.redirect('/dashboard/', 301));
      return;
    }
    const values = {
      stationName: opts.config.stationName,
      stationDescription: opts.config.stationDescription,
      stationUrl: opts.config.stationUrl,
    };
    // Read once at start: the build is immutable while the server runs, and no request path ever reaches the disk.
    const station = fillPage(readFileSync(join(dir, 'index.html'), 'utf8'), values);
    const dashboard = fillPage(readFileSync(join(dir, 'dashboard.html'), 'utf8'), values);
    const assets = new Map<string, Asset>();
    const assetDir = join(dir, 'assets');
    for (const name of existsSync(assetDir) ? readdirSync(assetDir) : []) {
      const ext = /\.[a-z]+$/.exec(name)?.[0] ?? '';
      const type = TYPES[ext];
      if (!type) continue;
      const gz = join(assetDir, `${name}.gz`);
      assets.set(name, { body: readFileSync(join(assetDir, name)), gzip: existsSync(gz) ? readFileSync(gz) : undefined, type });
    }
    log.debug({ dir, assets: assets.size }, 'pages loaded');

    // Everything the pages load is our own; hls.js plays blob: media sources from a blob: worker; the
    // dashboard's only other party is the station's Appwrite endpoint.
    const appwrite = opts.config.appwriteEndpoint ? ` ${new URL(opts.config.appwriteEndpoint).origin}` : '';
    const csp = [
      "default-src 'self'",
      // hls.js probes text tracks with a data: URL.
      "media-src 'self' blob: data:",
      "worker-src 'self' blob:",
      "img-src 'self' data:",
      "style-src 'self' 'unsafe-inline'",
      `connect-src 'self'${appwrite}`,
      "object-src 'none'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ].join('; ');
    const html = (body: string) => async (_req: FastifyRequest, reply: FastifyReply) =>
      reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('content-security-policy', csp)
        .header('x-content-type-options', 'nosniff')
        .send(body);
    app.get('/', html(station));
    app.get('/dashboard/', html(dashboard));
    app.get('/dashboard', async (_req, reply) => reply.redirect('/dashboard/', 301));
    app.get('/assets/:name', async (req: FastifyRequest<{ Params: { name: string } }>, reply) => {
      const a = assets.get(req.params.name);
      if (!a) return reply.code(404).type('text/plain').send('not found');
      // Asset names carry a content hash (esbuild's [hash]): a changed file is a new name.
      void reply.type(a.type).header('cache-control', 'public, max-age=31536000, immutable').header('vary', 'accept-encoding');
      if (a.gzip && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) return reply.header('content-encoding', 'gzip').send(a.gzip);
      return reply.send(a.body);
    });
  };
}
