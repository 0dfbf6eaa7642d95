// hls.js in headless Debian Chromium for the interop suite, driven by playwright-core (never a
// downloaded browser): serves the test page and hls.js over loopback HTTP, opens it against a master
// playlist and reads window.hlsState. Every handle closes its browser, profile dir and page server.
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { tempDir } from './interop-programs.js';
import { REPO_ROOT } from './interop-server.js';

export const CHROMIUM = '/usr/bin/chromium';

/** What test/interop/hls-page/index.html keeps in window.hlsState. */
export interface HlsState {
  readonly supported: boolean;
  readonly hlsVersion?: string;
  readonly playing: boolean;
  readonly currentTime: number;
  readonly latency: number | null;
  readonly targetLatency: number | null;
  readonly drift: number | null;
  readonly level: number | null;
  readonly title: string | null;
  readonly titles: string[];
  readonly lowLatencyActive: boolean;
  readonly partsLoaded: number;
  readonly fragmentsLoaded: number;
  readonly blockingReloads: number;
  readonly errors: { type: string; details: string; fatal: boolean }[];
}

export interface HlsPlayer {
  readonly page: Page;
  state(): Promise<HlsState>;
  /** Evaluates `fn` in the page (e.g. to read hls.js internals). */
  evaluate<T>(fn: () => T): Promise<T>;
  close(): Promise<void>;
}

export interface HlsBrowser {
  open(src: string, opts?: { lowLatency?: boolean; catchUp?: number }): Promise<HlsPlayer>;
  close(): Promise<void>;
}

/** Only these two files are served: the page and hls.js (no path from the request reaches the disk). */
function pageServer(): Promise<Server> {
  const files: Record<string, { path: string; type: string }> = {
    '/test/interop/hls-page/index.html': { path: join(REPO_ROOT, 'test/interop/hls-page/index.html'), type: 'text/html; charset=utf-8' },
    '/node_modules/hls.js/dist/hls.min.js': { path: join(REPO_ROOT, 'node_modules/hls.js/dist/hls.min.js'), type: 'text/javascript' },
  };
  const server = createServer((req, res) => {
    const f = files[(req.url ?? '').split('?')[0] ?? ''];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': f.type, 'cache-control': 'no-cache' }).end(readFileSync(f.path));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

export async function launchHlsBrowser(): Promise<HlsBrowser> {
  const profile = tempDir('chromium-profile');
  const pages = await pageServer();
  let browser: BrowserContext;
  try {
    // A fresh profile per run (playwright passes it as --user-data-dir): nothing carries over between runs.
    browser = await chromium.launchPersistentContext(profile.path, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--autoplay-policy=no-user-gesture-required',
      ],
    });
  } catch (err) {
    pages.close();
    profile.remove();
    throw err;
  }
  const base = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
  let closing: Promise<void> | undefined;
  return {
    async open(src, opts = {}) {
      const page = await browser.newPage();
      const q = new URLSearchParams({ src, lowLatency: opts.lowLatency === false ? '0' : '1', catchUp: String(opts.catchUp ?? 1) });
      await page.goto(`${base}/test/interop/hls-page/index.html?${q.toString()}`);
      return {
        page,
        // Runs in the page (the tsconfig has no DOM lib): read the page's global state as JSON.
        state: () => page.evaluate(() => JSON.parse(JSON.stringify((globalThis as unknown as { hlsState: unknown }).hlsState)) as HlsState),
        evaluate: (fn) => page.evaluate(fn),
        close: () => page.close(),
      };
    },
    close() {
      closing ??= (async () => {
        await browser.close().catch(() => undefined);
        await new Promise<void>((r) => pages.close(() => r()));
        profile.remove();
      })();
      return closing;
    },
  };
}
