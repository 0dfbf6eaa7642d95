// More of the pages in Debian's headless Chromium against the real server and a real ffmpeg source:
// the dashboard's Appwrite JWT is renewed after 10 minutes (Playwright's clock) and when the API
// refuses it, and an Appwrite session that is gone sends the operator back to sign in with the reason;
// the listener chart's hour, 24-hour and 30-day views over 30 days of history written by the server's
// own ListenerHistory; the station player's three ways to play, each forced in the browser; both pages
// in dark mode. Screenshots go to ANTENNA_SCREENSHOTS_DIR (default dist/screenshots).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ListenerHistory } from '../../src/api/history.js';
import { resolveFfmpegPath } from '../../src/ffmpeg/path.js';
import { PROJECT, startAppwriteStandIn, type AppwriteStandIn } from '../helpers/appwrite-stand-in.js';
import { CHROMIUM } from '../helpers/hls-browser.js';
import { tempDir } from '../helpers/interop-programs.js';
import { logs, REPO_ROOT, startAntenna, type AntennaServer } from '../helpers/interop-server.js';
import { startSourceClient, type ProcessHandle } from '../helpers/source-client.js';

const skip = existsSync(CHROMIUM) ? undefined : `not installed: chromium (.ci/run installs it with apt-get)`;
const TEAM = 'studio-team';
const OWNER = { id: 'u-owner', email: 'owner@station.test', password: 'owner-password', jwt: 'jwt-owner-0123456789' };
const SHOTS = process.env.ANTENNA_SCREENSHOTS_DIR ?? join(REPO_ROOT, 'dist', 'screenshots');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const MINUTE = 60_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** 30 days of listeners as a station sees them: a daily curve peaking in the evening, weekends busier. */
async function writeHistory(dir: string): Promise<void> {
  const h = await ListenerHistory.open({ dir, days: 30, log: pino({ level: 'silent' }) });
  const now = Math.floor(Date.now() / MINUTE) * MINUTE;
  for (let t = now - 30 * 1440 * MINUTE; t < now; t += MINUTE) {
    // Every minute of the last day, every fifteenth before (the 30-day view keeps hourly peaks).
    if (t < now - 1440 * MINUTE && (t / MINUTE) % 15 !== 0) continue;
    const hour = new Date(t).getUTCHours() + new Date(t).getUTCMinutes() / 60;
    const weekend = [0, 6].includes(new Date(t).getUTCDay()) ? 1.3 : 1;
    const curve = Math.max(0, Math.sin(((hour - 8) / 24) * 2 * Math.PI)) * weekend;
    const jitter = (n: number): number => Math.max(0, Math.round(n + Math.sin(t / 7_000_000) * 2));
    h.sample({ '/listen/live.mp3': jitter(4 + 30 * curve), '/listen/live-64.aac': jitter(2 + 12 * curve), hls: jitter(1 + 9 * curve) }, t);
  }
  await h.close();
}

describe.skipIf(skip !== undefined)(`the pages' views in headless Chromium${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let server: AntennaServer | undefined;
  let appwrite: AppwriteStandIn | undefined;
  let browser: Browser | undefined;
  let fallback: ProcessHandle | undefined;
  let data: ReturnType<typeof tempDir>;
  const contexts: BrowserContext[] = [];
  const problems: { page: string; text: string }[] = [];
  const trail: string[] = [];
  const t0 = Date.now();
  const note = (what: string): void => {
    trail.push(`+${((Date.now() - t0) / 1000).toFixed(1)}s ${what.replace(/https?:\/\/[^/]+/, '')}`);
    if (trail.length > 60) trail.shift();
  };
  /** The last requests, the server's auth log lines and the console errors, for a failure message. */
  const diagnosis = (): string =>
    [
      'page requests (last 60):',
      ...trail,
      'server auth log:',
      ...((server as AntennaServer).logs ?? [])
        .filter((l) => /appwrite|auth|sign/i.test(String(l.msg ?? '')))
        .slice(-20)
        .map((l) => `  ${JSON.stringify(l).slice(0, 300)}`),
      'console errors:',
      ...problems.map((p) => `  ${p.page}: ${p.text}`),
    ].join('\n');

  async function newPage(viewport = DESKTOP, opts: { dark?: boolean; init?: string } = {}): Promise<Page> {
    const ctx = await (browser as Browser).newContext({
      viewport,
      deviceScaleFactor: 1,
      isMobile: viewport === PHONE,
      hasTouch: viewport === PHONE,
      colorScheme: opts.dark ? 'dark' : 'light',
    });
    contexts.push(ctx);
    const page = await ctx.newPage();
    if (opts.init) await page.addInitScript(opts.init);
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push({ page: page.url(), text: m.text() });
    });
    page.on('pageerror', (e) => problems.push({ page: page.url(), text: `uncaught: ${e.stack ?? e.message}` }));
    // What the page asked of the API and of Appwrite, and what it got: printed if a test fails.
    page.on('requestfinished', (r) => void r.response().then((res) => note(`${res?.status() ?? '?'} ${r.method()} ${r.url()}`)));
    page.on('requestfailed', (r) => note(`failed ${r.method()} ${r.url()}: ${r.failure()?.errorText ?? ''}`));
    return page;
  }

  /** A test whose failure message carries the diagnosis. */
  const explained = (fn: () => Promise<void>) => async (): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      if (err instanceof Error) err.message += `\n${diagnosis()}`;
      throw err;
    }
  };

  const go = (page: Page, path: string) => page.goto(`${(server as AntennaServer).httpBase}${path}`);

  async function signInAdmin(page: Page): Promise<void> {
    await page.getByRole('button', { name: 'Use the admin password instead' }).click();
    await page.getByLabel('Admin password').fill((server as AntennaServer).adminPassword);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.locator('[data-testid=who]', { hasText: 'admin' }).waitFor({ timeout: 10_000 });
  }

  async function signInOwner(page: Page): Promise<void> {
    await page.getByLabel('E-mail').fill(OWNER.email);
    await page.getByLabel('Password', { exact: true }).fill(OWNER.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.locator('[data-testid=who]', { hasText: OWNER.email }).waitFor({ timeout: 10_000 });
  }

  beforeAll(async () => {
    execFileSync(process.execPath, ['--import', 'tsx', 'web/build.ts'], { cwd: REPO_ROOT, stdio: 'pipe' });
    mkdirSync(SHOTS, { recursive: true });
    appwrite = await startAppwriteStandIn([OWNER], [{ userId: OWNER.id, teamId: TEAM, roles: ['owner'], confirm: true }]);
    data = tempDir('pages-views');
    await writeHistory(join(data.path, 'data', 'history'));
    server = await startAntenna({
      env: {
        ANTENNA_DATA_DIR: join(data.path, 'data'),
        ANTENNA_STATION_NAME: 'Radio Valley',
        ANTENNA_STATION_DESCRIPTION: 'Community radio from the valley',
        ANTENNA_MOUNTS: JSON.stringify([
          { mount: '/listen/live.mp3', codec: 'mp3', bitrate: 128_000 },
          { mount: '/listen/live-64.aac', codec: 'aac', bitrate: 64_000 },
        ]),
        ANTENNA_HLS_TIERS: JSON.stringify([{ name: 'aac_64k', bitrate: 64_000 }]),
        ANTENNA_APPWRITE_ENDPOINT: appwrite.endpoint,
        ANTENNA_APPWRITE_PROJECT: PROJECT,
        ANTENNA_APPWRITE_TEAM_ID: TEAM,
        // Every request asks Appwrite, so a revoked JWT is refused at once.
        ANTENNA_AUTH_CACHE_SECONDS: '0',
      },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--autoplay-policy=no-user-gesture-required',
      ],
    });
    const s = server;
    const since = s.mark();
    fallback = startSourceClient({
      port: s.ports.fallback,
      password: s.sourcePassword,
      frequency: 660,
      ffmpegPath: resolveFfmpegPath(process.env.FFMPEG_PATH),
    });
    await s.waitForLog('fallback connected', logs.sourceConnected('fallback'), 30_000, since);
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await fallback?.kill();
    if (server) {
      const r = await server.stop();
      expect(r.leftovers, 'children still running after Antenna exited').toEqual([]);
    }
    await appwrite?.close();
    data?.remove();
  });

  it(
    'Appwrite sign-in: a new JWT after 10 minutes, used by the API calls; a refused JWT is renewed and the call made again; Appwrite down at renewal keeps the operator signed in',
    explained(async () => {
      const aw = appwrite as AppwriteStandIn;
      const page = await newPage();
      // Fake timers and Date in the page, flowing with real time until fast-forwarded.
      await page.clock.install();
      await go(page, '/dashboard/');
      await signInOwner(page);
      await page.locator('[data-testid=onair][data-tier]').waitFor({ timeout: 10_000 });
      const first = aw.issued.at(-1) as string;
      const checked = (jwt: string): number => aw.requests.filter((r) => r.path === '/v1/account' && r.jwt === jwt).length;
      expect(checked(first), 'the API checked the first JWT with Appwrite').toBeGreaterThan(0);

      // Nine minutes: the JWT is still young enough, nothing new is made.
      const before = aw.issued.length;
      await page.clock.fastForward(9 * MINUTE);
      await sleep(3000);
      expect(aw.issued.length, 'no renewal before 10 minutes').toBe(before);

      // Past ten minutes: the next status read makes a new JWT first and sends it.
      await page.clock.fastForward(2 * MINUTE);
      await expect.poll(() => aw.issued.length, { timeout: 10_000, message: 'a new JWT after 10 minutes' }).toBeGreaterThan(before);
      const second = aw.issued.at(-1) as string;
      expect(second).not.toBe(first);
      await expect.poll(() => checked(second), { timeout: 10_000, message: 'the API calls carry the new JWT' }).toBeGreaterThan(0);
      const oldUses = checked(first);
      await sleep(2500);
      expect(checked(first), 'the old JWT is no longer sent').toBe(oldUses);

      // Appwrite refuses the current JWT early: the API answers 401, the page makes a new JWT and retries.
      note(`revoked ${second}`);
      aw.revokeJwt(second);
      await expect.poll(() => aw.issued.length, { timeout: 10_000, message: 'a 401 makes a new JWT' }).toBeGreaterThan(before + 1);
      const third = aw.issued.at(-1) as string;
      await expect.poll(() => checked(third), { timeout: 10_000, message: 'the call is made again with it' }).toBeGreaterThan(0);
      await sleep(2500);
      expect(await page.locator('[data-testid=who]').textContent(), 'still signed in').toContain(OWNER.email);
      expect(await page.locator('[data-testid=onair][data-tier]').count()).toBe(1);

      // Appwrite answers 500 to everything when the JWT is due: the page says so and keeps the operator
      // signed in (a passing outage is no reason to sign in again), and renews once Appwrite is back.
      const beforeOutage = aw.issued.length;
      aw.failStatus = 500;
      note('Appwrite answers 500');
      await page.clock.fastForward(11 * MINUTE);
      const warn = page.locator('.banner.warn', { hasText: 'could not get a sign-in token from Appwrite' });
      await warn.waitFor({ timeout: 10_000 });
      // The server answers all along: the page must not say it is offline.
      await expect.poll(() => page.locator('[data-testid=offline]').count(), { timeout: 10_000, message: 'no "offline" banner' }).toBe(0);
      await page.screenshot({ path: join(SHOTS, 'dashboard-appwrite-down.png') });
      expect(await page.locator('.signin').count(), 'not sent to sign in').toBe(0);
      aw.failStatus = undefined;
      note('Appwrite answers again');
      await expect
        .poll(() => aw.issued.length, { timeout: 10_000, message: 'renewed once Appwrite answers' })
        .toBeGreaterThan(beforeOutage);
      const fourth = aw.issued.at(-1) as string;
      await expect.poll(() => checked(fourth), { timeout: 10_000, message: 'and used' }).toBeGreaterThan(0);
      await warn.waitFor({ state: 'detached', timeout: 10_000 });
      expect(await page.locator('[data-testid=who]').textContent(), 'still signed in').toContain(OWNER.email);

      // The Appwrite session itself is gone and the JWT refused: no renewal can work, so back to sign in, saying why.
      aw.endSessions();
      aw.revokeJwt(fourth);
      await page.locator('.signin').waitFor({ timeout: 10_000 });
      expect(await page.locator('.signin').textContent()).toContain('Your sign-in has expired: please sign in again.');
      await page.screenshot({ path: join(SHOTS, 'dashboard-signin-expired.png') });
      // The API's 401s and 503s and Appwrite's refusals and 500s are resource errors the browser logs: expected here.
      for (let i = problems.length - 1; i >= 0; i--) if (/status of (401|500|503)/.test(problems[i]?.text ?? '')) problems.splice(i, 1);
    }),
  );

  it('listener chart: the hour (live), 24 hours and 30 days each draw the history', async () => {
    const page = await newPage();
    await go(page, '/dashboard/');
    await signInAdmin(page);
    const card = page.locator('section[aria-labelledby=listeners-label]');
    await card.scrollIntoViewIfNeeded();
    for (const [button, file, points] of [
      ['Hour (live)', 'listeners-1h.png', 30],
      ['24 hours', 'listeners-24h.png', 1000],
      ['30 days', 'listeners-30d.png', 600],
    ] as const) {
      await card.getByRole('button', { name: button }).click();
      expect(await card.getByRole('button', { name: button }).getAttribute('aria-pressed')).toBe('true');
      await expect
        .poll(() => card.locator('[data-testid=chart]').getAttribute('data-points'), {
          timeout: 10_000,
          message: `${button}: history drawn`,
        })
        .toMatch(/^\d+$/);
      await expect
        .poll(async () => Number(await card.locator('[data-testid=chart]').getAttribute('data-points')), { timeout: 10_000 })
        .toBeGreaterThan(points);
      // The legend names each mount and HLS, with the total.
      const legend = await card.locator('.u-legend').textContent();
      for (const name of ['Total', 'live.mp3', 'live-64.aac', 'HLS']) expect(legend, `${button}: legend`).toContain(name);
      await sleep(300);
      await card.screenshot({ path: join(SHOTS, file) });
    }
    const phone = await newPage(PHONE);
    await go(phone, '/dashboard/');
    await signInAdmin(phone);
    const small = phone.locator('section[aria-labelledby=listeners-label]');
    await small.getByRole('button', { name: '30 days' }).click();
    await expect
      .poll(async () => Number(await small.locator('[data-testid=chart]').getAttribute('data-points')), { timeout: 10_000 })
      .toBeGreaterThan(600);
    await small.scrollIntoViewIfNeeded();
    await sleep(300);
    await small.screenshot({ path: join(SHOTS, 'listeners-30d-phone.png') });
    const overflow = await phone.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow, 'nothing wider than the phone').toBeLessThanOrEqual(0);
  });

  it('station player: hls.js with MSE, native HLS without MSE, the MP3 mount with neither (and it plays)', async () => {
    const audioSrc = (page: Page): Promise<string> => page.evaluate<string>('document.querySelector("audio")?.src ?? ""');
    const press = async (page: Page): Promise<void> => {
      await go(page, '/');
      await page.locator('[data-testid=title]').waitFor();
      await page.getByRole('button', { name: 'Play' }).click();
    };
    // MSE present (Chromium as it is): hls.js feeds the <audio> from a MediaSource (a blob: URL).
    const mse = await newPage();
    await press(mse);
    await expect.poll(() => audioSrc(mse), { timeout: 15_000 }).toMatch(/^blob:/);
    await mse.getByRole('button', { name: 'Stop' }).click();

    const noMse = 'delete window.MediaSource; delete window.ManagedMediaSource; delete window.WebKitMediaSource;';
    // No MSE, but the browser says it plays HLS (as iOS Safari does): the playlist goes to the <audio> itself.
    const native = await newPage(PHONE, {
      init: `${noMse}
        const can = HTMLMediaElement.prototype.canPlayType;
        HTMLMediaElement.prototype.canPlayType = function (t) { return /mpegurl/i.test(t) ? 'maybe' : can.call(this, t); };
        HTMLMediaElement.prototype.play = function () { return Promise.resolve(); };`,
    });
    await press(native);
    await expect.poll(() => audioSrc(native), { timeout: 10_000 }).toMatch(/\/hls\/master\.m3u8$/);
    expect(await native.locator('.play-state').textContent()).toContain('native');
    expect(await native.evaluate<boolean>('typeof window.MediaSource === "undefined"')).toBe(true);

    // Neither (this Chromium answers "maybe" for HLS by itself, so that is hidden too): the MP3 mount, which really plays.
    const neither = await newPage(PHONE, {
      init: `${noMse}
        const can = HTMLMediaElement.prototype.canPlayType;
        HTMLMediaElement.prototype.canPlayType = function (t) { return /mpegurl/i.test(t) ? '' : can.call(this, t); };`,
    });
    await press(neither);
    await expect.poll(() => audioSrc(neither), { timeout: 10_000 }).toMatch(/\/listen\/live\.mp3$/);
    const time = (): Promise<number> => neither.evaluate<number>('document.querySelector("audio")?.currentTime ?? 0');
    await expect.poll(time, { timeout: 20_000, message: 'the MP3 mount plays' }).toBeGreaterThan(0.5);
    const from = await time();
    await sleep(3000);
    expect((await time()) - from, 'and keeps playing').toBeGreaterThan(1.5);
    expect(await neither.locator('.play-state').textContent()).toContain('MP3');
    await neither.getByRole('button', { name: 'Stop' }).click();
  });

  it('dark mode: both pages follow the system setting', async () => {
    for (const [viewport, size] of [
      [DESKTOP, 'desktop'],
      [PHONE, 'phone'],
    ] as const) {
      const station = await newPage(viewport, { dark: true });
      await go(station, '/');
      await station.locator('[data-testid=title]').waitFor();
      const bg = await station.evaluate<string>('getComputedStyle(document.body).backgroundColor');
      expect(bg, 'a dark background').toBe('rgb(20, 20, 20)');
      await station.screenshot({ path: join(SHOTS, `station-${size}-dark.png`), fullPage: true });

      const dash = await newPage(viewport, { dark: true });
      await go(dash, '/dashboard/');
      await signInAdmin(dash);
      await dash.locator('[data-testid=input-fallback] [data-testid=input-state]', { hasText: 'Connected' }).waitFor({ timeout: 10_000 });
      await sleep(1500);
      await dash.screenshot({ path: join(SHOTS, `dashboard-${size}-dark.png`), fullPage: size === 'desktop' });
    }
  });

  it('no console errors on any page', () => {
    expect(problems.map((p) => `${p.page}: ${p.text}`)).toEqual([]);
  });
});
