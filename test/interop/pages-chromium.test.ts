// The station page and the dashboard in Debian's headless Chromium (playwright-core, never a downloaded
// browser) against the real server with real ffmpeg sources: the station page plays and shows the
// title; the dashboard signs in with the admin password and with Appwrite (the local stand-in speaking
// Appwrite's REST protocol), its level meter follows a tone and silence at ≥ 10 updates a second, a
// killed primary turns the on-air card to the fallback within a second, an upload through the page
// becomes the emergency audio, a read-only member sees no controls, and the page comes back by itself
// after a server restart. No console errors. Screenshots of both pages (desktop and phone) are written
// to ANTENNA_SCREENSHOTS_DIR (default dist/screenshots).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { resolveFfmpegPath } from '../../src/ffmpeg/path.js';
import { makeToneFile } from '../helpers/antenna.js';
import { PROJECT, startAppwriteStandIn, type AppwriteStandIn } from '../helpers/appwrite-stand-in.js';
import { CHROMIUM } from '../helpers/hls-browser.js';
import { freePort, tempDir } from '../helpers/interop-programs.js';
import { logs, REPO_ROOT, startAntenna, type AntennaServer } from '../helpers/interop-server.js';
import { startPcmSource, type PcmSource } from '../helpers/pcm-source.js';
import { startSourceClient, type ProcessHandle } from '../helpers/source-client.js';

const skip = existsSync(CHROMIUM) ? undefined : `not installed: chromium (.ci/run installs it with apt-get)`;
const TITLE = 'Nina Simone - Sinnerman';
const TEAM = 'studio-team';
const OWNER = { id: 'u-owner', email: 'owner@station.test', password: 'owner-password', jwt: 'jwt-owner-0123456789' };
const READER = { id: 'u-reader', email: 'reader@station.test', password: 'reader-password', jwt: 'jwt-reader-0123456789' };
const SHOTS = process.env.ANTENNA_SCREENSHOTS_DIR ?? join(REPO_ROOT, 'dist', 'screenshots');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Console errors and uncaught exceptions of every page opened through `open()`. */
const problems: { page: string; text: string }[] = [];

describe.skipIf(skip !== undefined)(`the pages in headless Chromium${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let server: AntennaServer | undefined;
  let appwrite: AppwriteStandIn | undefined;
  let browser: Browser | undefined;
  let primary: PcmSource | undefined;
  let fallback: ProcessHandle | undefined;
  let data: ReturnType<typeof tempDir>;
  let env: Record<string, string>;
  const contexts: BrowserContext[] = [];
  const ffmpeg = resolveFfmpegPath(process.env.FFMPEG_PATH);

  const admin = (): string => `Basic ${Buffer.from(`admin:${(server as AntennaServer).adminPassword}`).toString('base64')}`;

  async function open(path: string, viewport = DESKTOP): Promise<Page> {
    const ctx = await (browser as Browser).newContext({
      viewport,
      deviceScaleFactor: 1,
      isMobile: viewport === PHONE,
      hasTouch: viewport === PHONE,
    });
    contexts.push(ctx);
    const page = await ctx.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push({ page: page.url(), text: m.text() });
    });
    page.on('pageerror', (e) => problems.push({ page: page.url(), text: `uncaught: ${e.message}` }));
    await page.goto(`${(server as AntennaServer).httpBase}${path}`);
    return page;
  }

  async function signInAdmin(page: Page): Promise<void> {
    // With Appwrite configured the form asks for an account first; the admin password is one click away.
    await page.getByRole('button', { name: 'Use the admin password instead' }).click();
    await page.getByLabel('Admin password').fill((server as AntennaServer).adminPassword);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.locator('[data-testid=who]', { hasText: 'admin' }).waitFor({ timeout: 10_000 });
  }

  async function signInAppwrite(page: Page, user: { email: string; password: string }): Promise<void> {
    await page.getByLabel('E-mail').fill(user.email);
    await page.getByLabel('Password', { exact: true }).fill(user.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.locator('[data-testid=who]', { hasText: user.email }).waitFor({ timeout: 10_000 });
  }

  const meter = (page: Page, input: 'primary' | 'fallback') => page.locator(`[data-testid=input-${input}] [data-testid=meter]`);
  const rms = async (page: Page, input: 'primary' | 'fallback'): Promise<number> =>
    Number(await meter(page, input).getAttribute('data-rms'));

  beforeAll(async () => {
    // The pages are built by the test itself (npm test never depends on a prior build).
    execFileSync(process.execPath, ['--import', 'tsx', 'web/build.ts'], { cwd: REPO_ROOT, stdio: 'pipe' });
    mkdirSync(SHOTS, { recursive: true });
    appwrite = await startAppwriteStandIn(
      [OWNER, READER],
      [
        { userId: OWNER.id, teamId: TEAM, roles: ['owner'], confirm: true },
        { userId: READER.id, teamId: TEAM, roles: ['member'], confirm: true },
      ],
    );
    data = tempDir('pages-chromium');
    // A fixed HTTP port and data dir, so the restarted server is the same URL to the open dashboard.
    env = {
      ANTENNA_HTTP_PORT: String(await freePort()),
      ANTENNA_DATA_DIR: join(data.path, 'data'),
      // The same passwords after the restart: the open dashboard stays signed in.
      ANTENNA_ADMIN_PASSWORD: 'pages-admin-password',
      ANTENNA_SOURCE_PASSWORD: 'pages-source-password',
      ANTENNA_RETURN_HOLD_SECONDS: '0',
      ANTENNA_STATION_NAME: 'Radio Valley',
      ANTENNA_STATION_DESCRIPTION: 'Community radio from the valley: news, music and late-night talk',
      ANTENNA_MOUNTS: JSON.stringify([
        { mount: '/listen/live.mp3', codec: 'mp3', bitrate: 128_000 },
        { mount: '/listen/live-64.aac', codec: 'aac', bitrate: 64_000 },
      ]),
      ANTENNA_HLS_TIERS: JSON.stringify([{ name: 'aac_64k', bitrate: 64_000 }]),
      ANTENNA_APPWRITE_ENDPOINT: appwrite.endpoint,
      ANTENNA_APPWRITE_PROJECT: PROJECT,
      ANTENNA_APPWRITE_TEAM_ID: TEAM,
    };
    server = await startAntenna({ env });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--autoplay-policy=no-user-gesture-required',
      ],
    });
    const s = server;
    const since = s.mark();
    fallback = startSourceClient({ port: s.ports.fallback, password: s.sourcePassword, frequency: 880, codec: 'ogg', ffmpegPath: ffmpeg });
    primary = startPcmSource(ffmpeg, `icecast://source:${s.sourcePassword}@127.0.0.1:${s.ports.primary}/live`, 440);
    await s.waitForLog('primary connected', logs.sourceConnected('primary'), 30_000, since);
    await s.waitForLog('fallback connected', logs.sourceConnected('fallback'), 30_000, since);
    // The title goes to the input on air: wait for the primary to be it.
    for (const end = Date.now() + 20_000; Date.now() < end; await sleep(250)) {
      const np = (await (await fetch(`${s.httpBase}/api/nowplaying`)).json()) as { tier: string };
      if (np.tier === 'primary') break;
    }
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await primary?.kill();
    await fallback?.kill();
    if (server) {
      const r = await server.stop();
      expect(r.leftovers, 'children still running after Antenna exited').toEqual([]);
    }
    await appwrite?.close();
    data?.remove();
  });

  it('station page: shows the station and the title, plays through hls.js, offers listen links; Open Graph tags in the HTML', async () => {
    const s = server as AntennaServer;
    const set = await fetch(`${s.httpBase}/api/title`, {
      method: 'POST',
      headers: { authorization: admin(), 'content-type': 'application/json' },
      body: JSON.stringify({ title: TITLE }),
    });
    expect(set.status, await set.text()).toBe(200);
    const html = await (await fetch(`${s.httpBase}/`)).text();
    expect(html).toMatch(/<meta property="og:title" content="Radio Valley — listen live"\s*\/?>/);
    expect(html).toMatch(
      /<meta property="og:description" content="Community radio from the valley: news, music and late-night talk"\s*\/?>/,
    );

    const page = await open('/');
    await expect.poll(() => page.locator('[data-testid=title]').textContent(), { timeout: 15_000 }).toBe(TITLE);
    await page.screenshot({ path: join(SHOTS, 'station-desktop.png'), fullPage: true });
    for (const f of ['.m3u', '.xspf']) expect(await page.locator(`a[href="/listen/live.mp3${f}"]`).count()).toBe(1);
    await page.getByRole('button', { name: 'Play' }).click();
    const time = (): Promise<number> => page.evaluate<number>('document.querySelector("audio")?.currentTime ?? 0');
    await expect.poll(time, { timeout: 30_000, message: 'playback starts' }).toBeGreaterThan(0.5);
    const from = await time();
    await sleep(4000);
    const to = await time();
    expect(to - from, 'the <audio> current time advances with the wall clock').toBeGreaterThan(3);
    expect(await page.locator('.play-state').textContent()).toContain('HLS');
    // The MP3 mount, chosen by hand, plays too.
    await page.locator('[data-testid=quality]').selectOption('/listen/live.mp3');
    await expect
      .poll(() => page.evaluate<string>('document.querySelector("audio")?.currentSrc ?? ""'), { timeout: 10_000 })
      .toContain('/listen/live.mp3');
    const mp3From = await time();
    await sleep(3000);
    expect((await time()) - mp3From, 'the MP3 mount plays').toBeGreaterThan(1.5);
    await page.getByRole('button', { name: 'Stop' }).click();

    const phone = await open('/', PHONE);
    await expect.poll(() => phone.locator('[data-testid=title]').textContent(), { timeout: 15_000 }).toBe(TITLE);
    await phone.screenshot({ path: join(SHOTS, 'station-phone.png'), fullPage: true });
    const overflow = await phone.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow, 'nothing wider than the phone').toBeLessThanOrEqual(0);
  });

  it('Icecast admin pages opened in a browser land on the dashboard; admin commands keep their XML', async () => {
    const s = server as AntennaServer;
    const page = await open('/icecast-admin/');
    expect(new URL(page.url()).pathname).toBe('/dashboard/');
    await page.goto(`${s.httpBase}/admin/listmounts.xsl`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/');
    const xml = await fetch(`${s.httpBase}/admin/listmounts`, { headers: { authorization: admin() } });
    expect(xml.status).toBe(200);
    expect(await xml.text()).toMatch(/^<\?xml/);
  });

  it('dashboard, admin sign-in: the level meter follows a tone at ≥ 10 updates a second and falls when the source is silent', async () => {
    const page = await open('/dashboard/');
    await signInAdmin(page);
    await page.locator('[data-testid=input-primary] [data-testid=input-state]', { hasText: 'Connected' }).waitFor({ timeout: 10_000 });
    await expect.poll(() => rms(page, 'primary'), { timeout: 5000 }).toBeGreaterThan(-20);
    // Count the distinct server stamps the meter shows over two seconds.
    const stamps = await page.evaluate<number>(`new Promise((resolve) => {
      const el = document.querySelector('[data-testid=input-primary] [data-testid=meter]');
      const seen = new Set();
      const t = setInterval(() => seen.add(el.getAttribute('data-at')), 10);
      setTimeout(() => { clearInterval(t); resolve(seen.size); }, 2000);
    })`);
    expect(stamps, 'level updates in 2 s').toBeGreaterThanOrEqual(18);
    const peak = Number(await meter(page, 'primary').getAttribute('data-peak'));
    const level = await rms(page, 'primary');
    // A sine at half scale: RMS −9 dBFS, peak −6 dBFS (the meter shows both).
    expect(level).toBeGreaterThan(-12);
    expect(level).toBeLessThan(-6);
    expect(peak - level, 'peak above RMS by a sine’s 3 dB').toBeGreaterThan(2);

    await page.screenshot({ path: join(SHOTS, 'dashboard-desktop.png'), fullPage: true });
    const phone = await open('/dashboard/', PHONE);
    await signInAdmin(phone);
    await phone.locator('[data-testid=input-primary] [data-testid=input-state]', { hasText: 'Connected' }).waitFor({ timeout: 10_000 });
    await sleep(1500);
    // The first screen, as a person holding the phone sees it (the whole page is ~3,500 px tall).
    await phone.screenshot({ path: join(SHOTS, 'dashboard-phone.png') });
    const overflow = await phone.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow, 'nothing wider than the phone').toBeLessThanOrEqual(0);

    await (primary as PcmSource).setTone(null);
    await expect
      .poll(() => rms(page, 'primary'), { timeout: 3000, message: 'the meter falls when the source is silent' })
      .toBeLessThan(-60);
    await (primary as PcmSource).setTone(440);
    await expect.poll(() => rms(page, 'primary'), { timeout: 3000 }).toBeGreaterThan(-20);
  });

  it('dashboard: killing the primary turns the on-air card to the fallback within a second', async () => {
    const page = await open('/dashboard/');
    await signInAdmin(page);
    const card = page.locator('[data-testid=onair]');
    await expect.poll(() => card.getAttribute('data-tier'), { timeout: 10_000 }).toBe('primary');
    const t0 = performance.now();
    await (primary as PcmSource).kill();
    await page.locator('[data-testid=onair][data-tier=fallback]').waitFor({ timeout: 5000 });
    const ms = performance.now() - t0;
    console.log(`primary killed → on-air card shows the fallback after ${Math.round(ms)} ms`);
    expect(ms).toBeLessThan(1000);
    // The switch shows in the timeline with its reason.
    await page.locator('.switch-list li', { hasText: 'fallback' }).first().waitFor({ timeout: 5000 });
  });

  it('dashboard: the components panel lists every decoder beside the encoders; a decoder that dies stands out and is counted', async () => {
    const s = server as AntennaServer;
    const page = await open('/dashboard/');
    await signInAdmin(page);
    const row = (key: string) => page.locator(`[data-testid=decoders] [data-testid=decoder-${key}]`);
    // The previous test killed the primary's source: its decoder flushed and exited; the fallback's decodes.
    await row('fallback').and(page.locator('[data-state=running]')).waitFor({ timeout: 10_000 });
    await row('primary').and(page.locator('[data-state=stopped]')).waitFor({ timeout: 10_000 });
    await row('emergency').and(page.locator('[data-state=loaded]')).waitFor({ timeout: 10_000 });
    const api = async () =>
      (
        (await (await fetch(`${s.httpBase}/api/status`, { headers: { authorization: admin() } })).json()) as {
          components: { decoders: { input: string; pid: number | null }[] };
        }
      ).components.decoders;
    const pid = (await api()).find((d) => d.input === 'fallback')?.pid;
    expect(pid).toBeGreaterThan(0);
    // The fallback studio sends Ogg, decoded by an ffmpeg child; the primary's MP3 was decoded in the server.
    const fallbackRow = row('fallback');
    expect(await fallbackRow.locator('th').textContent()).toContain(`ogg decoder · pid ${String(pid)}`);
    expect(await row('primary').locator('th').textContent()).toContain('mp3 decoder · in-process (mpg123)');
    const uptime = fallbackRow.locator('td').nth(1);
    const firstUptime = await uptime.textContent();
    expect(firstUptime).toMatch(/^\d+ (s|min)/);
    await expect.poll(() => uptime.textContent(), { timeout: 5000, message: 'the uptime grows' }).not.toBe(firstUptime);
    expect(await row('primary').locator('td').nth(1).textContent()).toMatch(/^exited /);
    expect(await page.locator('table.components').first().locator('thead th').first().textContent()).toBe('Encoder');
    // MP3 encodes in the server (LAME comes with Debian's ffmpeg): no pid; this server has no Ogg mount.
    expect(await page.locator('table.components').first().textContent()).toContain('encoder · in-process (LAME)');

    // Kill the fallback's decoder: its connection ends, the row turns red, moves to the top, says why.
    process.kill(pid as number, 'SIGKILL');
    await row('fallback').and(page.locator('[data-state=failed]')).waitFor({ timeout: 10_000 });
    expect(await row('fallback').getAttribute('class')).toBe('bad');
    expect(await page.locator('[data-testid=decoders] tbody tr').first().getAttribute('data-testid')).toBe('decoder-fallback');
    expect(await row('fallback').locator('.pill').textContent()).toBe('failed');
    expect(await row('fallback').locator('td').nth(2).textContent()).toBe('1');
    expect(await row('fallback').locator('td.err').textContent()).toMatch(/decoder exited .*SIGKILL/);
    const panel = page.locator('section', { has: page.locator('#components-label') });
    await panel.screenshot({ path: join(SHOTS, 'components-desktop.png') });

    const phone = await open('/dashboard/', PHONE);
    await signInAdmin(phone);
    const phonePanel = phone.locator('section', { has: phone.locator('#components-label') });
    await phone.locator('[data-testid=decoders] [data-testid=decoder-fallback][data-state=failed]').waitFor({ timeout: 10_000 });
    await phonePanel.scrollIntoViewIfNeeded();
    await phonePanel.screenshot({ path: join(SHOTS, 'components-phone.png') });
    const overflow = await phone.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow, 'nothing wider than the phone').toBeLessThanOrEqual(0);

    // The studio reconnects: a new decoder runs, the failure stays counted (in the warning colour).
    await (fallback as ProcessHandle).kill();
    const since = s.mark();
    fallback = startSourceClient({ port: s.ports.fallback, password: s.sourcePassword, frequency: 880, codec: 'ogg', ffmpegPath: ffmpeg });
    await s.waitForLog('fallback connected', logs.sourceConnected('fallback'), 30_000, since);
    await row('fallback').and(page.locator('[data-state=running]')).waitFor({ timeout: 10_000 });
    await expect.poll(() => row('fallback').getAttribute('class'), { timeout: 5000 }).toBe('warn');
    expect(await row('fallback').locator('td').nth(2).textContent()).toBe('1');
  });

  it('dashboard: an upload through the page becomes the emergency audio', async () => {
    const s = server as AntennaServer;
    const page = await open('/dashboard/');
    await signInAdmin(page);
    const file = makeToneFile(data.path, 523, 3);
    await page.locator('[data-testid=upload-file]').setInputFiles(file);
    await page.locator('[data-testid=upload]').click();
    await page.locator('[data-testid=emergency-message]', { hasText: 'uploaded' }).waitFor({ timeout: 30_000 });
    await page.locator('[data-testid=emergency-file][data-active=true]', { hasText: 'tone-523.mp3' }).waitFor({ timeout: 10_000 });
    // Preview: the file is fetched with the operator's credentials and played from a blob: URL.
    await page.locator('[data-testid=emergency-file]', { hasText: 'tone-523.mp3' }).getByRole('button', { name: 'Preview' }).click();
    await expect.poll(() => page.locator('[data-testid=emergency-file] audio').getAttribute('src'), { timeout: 10_000 }).toMatch(/^blob:/);
    // The event list filters by kind: operator actions only.
    await page.locator('[data-testid=event-kind]').selectOption('operators');
    const shown = await page.locator('[data-testid=events] li').allTextContents();
    expect(shown.length).toBeGreaterThan(0);
    for (const line of shown) expect(line).toContain('by admin');
    const lib = (await (await fetch(`${s.httpBase}/api/emergency`, { headers: { authorization: admin() } })).json()) as {
      active: string;
      files: { id: string; name: string }[];
    };
    expect(lib.files.find((f) => f.id === lib.active)?.name).toBe('tone-523.mp3');

    // A file the server refuses: its reason is shown.
    const bad = join(data.path, 'not-audio.mp3');
    writeFileSync(bad, 'this is not audio at all, just text pretending');
    await page.locator('[data-testid=upload-file]').setInputFiles(bad);
    await page.locator('[data-testid=upload]').click();
    await page.locator('[data-testid=emergency-message]', { hasText: 'Refused' }).waitFor({ timeout: 10_000 });
    // The browser reports the refused upload (422) as a failed resource load: expected, not a page error.
    const i = problems.findIndex((p) => /status of 422/.test(p.text));
    if (i >= 0) problems.splice(i, 1);
  });

  it('dashboard: hold and release ask for confirmation, then move the programme; the title is set from the page', async () => {
    const page = await open('/dashboard/');
    await signInAdmin(page);
    const card = page.locator('[data-testid=onair]');
    await expect.poll(() => card.getAttribute('data-tier'), { timeout: 10_000 }).toBe('fallback');
    await page.locator('[data-testid=hold-emergency]').click();
    const dialog = page.locator('[data-testid=confirm]');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await sleep(500);
    expect(await card.getAttribute('data-tier'), 'cancelled: nothing changes').toBe('fallback');
    await page.locator('[data-testid=hold-emergency]').click();
    await dialog.getByRole('button', { name: 'Hold' }).click();
    await page.locator('[data-testid=onair][data-tier=emergency] [data-testid=held]').waitFor({ timeout: 5000 });
    await page.locator('[data-testid=hold-release]').click();
    await dialog.getByRole('button', { name: 'Release' }).click();
    await page.locator('[data-testid=onair][data-tier=fallback]').waitFor({ timeout: 10_000 });
    expect(await page.locator('[data-testid=held]').count()).toBe(0);

    await page.getByLabel('New title').fill('Late Night Talk');
    await page.getByRole('button', { name: 'Set title' }).click();
    await dialog.getByRole('button', { name: 'Set title' }).click();
    await page.locator('.onair-title', { hasText: 'Late Night Talk' }).waitFor({ timeout: 5000 });
    await page.locator('[data-testid=events] li', { hasText: 'Late Night Talk' }).first().waitFor({ timeout: 5000 });
  });

  it('dashboard, Appwrite sign-in: the owner gets the controls; a read-only member sees the panel without them', async () => {
    const owner = await open('/dashboard/');
    await signInAppwrite(owner, OWNER);
    await owner.locator('[data-testid=controls]').waitFor({ timeout: 10_000 });
    expect(await owner.locator('[data-testid=upload]').count()).toBe(1);
    const sdk = (appwrite as AppwriteStandIn).requests;
    expect(sdk.some((r) => r.method === 'POST' && r.path === '/v1/account/jwts')).toBe(true);
    expect(
      sdk.some((r) => r.path === '/v1/account' && r.jwt === OWNER.jwt),
      'the server checked the JWT with Appwrite',
    ).toBe(true);

    const reader = await open('/dashboard/');
    await signInAppwrite(reader, READER);
    await reader.locator('[data-testid=who]', { hasText: 'read only' }).waitFor();
    await reader.locator('[data-testid=onair]').waitFor();
    await reader.locator('[data-testid=emergency-file]').first().waitFor();
    await sleep(500);
    for (const control of ['controls', 'kick', 'upload', 'hold-fallback']) {
      expect(await reader.locator(`[data-testid=${control}]`).count(), `${control} hidden from a reader`).toBe(0);
    }
    expect(await reader.getByRole('button', { name: 'Activate' }).count()).toBe(0);
    expect(await reader.getByRole('button', { name: 'Delete' }).count()).toBe(0);
  });

  it('dashboard: says it is offline while the server restarts, and recovers by itself', async () => {
    const page = await open('/dashboard/');
    await signInAdmin(page);
    await page.locator('[data-testid=onair][data-tier]').waitFor();
    const before = problems.length;
    const r = await (server as AntennaServer).stop();
    expect(r.code).toBe(0);
    await page.locator('[data-testid=offline]').waitFor({ timeout: 10_000 });
    server = await startAntenna({ env });
    const s = server;
    const since = s.mark();
    fallback = startSourceClient({ port: s.ports.fallback, password: s.sourcePassword, frequency: 880, codec: 'ogg', ffmpegPath: ffmpeg });
    await s.waitForLog('fallback connected', logs.sourceConnected('fallback'), 30_000, since);
    await page.locator('[data-testid=offline]').waitFor({ state: 'detached', timeout: 15_000 });
    await page.locator('[data-testid=input-fallback] [data-testid=input-state]', { hasText: 'Connected' }).waitFor({ timeout: 10_000 });
    await expect.poll(() => page.locator('[data-testid=onair]').getAttribute('data-tier'), { timeout: 10_000 }).toBe('fallback');
    await page.locator('[data-testid=events] li', { hasText: 'server-started' }).first().waitFor({ timeout: 5000 });
    // While the server was down the browser logged the refused connections: those, and only those, are expected.
    const during = problems.splice(before);
    expect(
      during.filter(
        (p) =>
          !/ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE|status of 503|ERR_INCOMPLETE_CHUNKED_ENCODING|Failed to fetch/.test(
            p.text,
          ),
      ),
    ).toEqual([]);
  });

  it('no console errors on any page', () => {
    expect(problems).toEqual([]);
  });
});
