// Issue 13 §3 and §4 on the real process (`node src/main.ts`): an idle-connection flood from several
// addresses under a small RLIMIT_NOFILE once starved the listener port (new listeners got nothing, HLS
// state writes failed with EMFILE); failed logins were neither logged nor slowed; generated passwords
// were printed on every start.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ATTACKERS, idleFlood, type IdleFlood } from '../helpers/attackers.js';
import { listen } from '../helpers/listener.js';
import { runMain } from '../helpers/main-process.js';
import { rawExchange, startSourceClient, type ProcessHandle } from '../helpers/source-client.js';

const owned: { stop?: () => Promise<void>; kill?: () => Promise<void>; close?: () => Promise<void> }[] = [];
afterEach(async () => {
  for (const o of owned.splice(0).reverse()) await (o.close ?? o.kill ?? o.stop)?.();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PASSWORD = 'hackme-source';
const ENV = {
  ANTENNA_LOG_LEVEL: 'info',
  ANTENNA_SOURCE_PASSWORD: PASSWORD,
  ANTENNA_ADMIN_PASSWORD: 'hackme-admin',
  ANTENNA_MOUNTS: JSON.stringify([{ mount: '/listen/live.mp3', codec: 'mp3', bitrate: 128_000 }]),
  ANTENNA_HLS_TIERS: JSON.stringify([{ name: '64k', bitrate: 64_000 }]),
};

describe('the real process under attack (issue 13 §3, §4)', () => {
  it('an idle-connection flood from several addresses never starves listeners, HLS or the descriptor reserve', async () => {
    const NOFILE = 1024;
    const m = runMain(ENV, { nofile: NOFILE });
    owned.push(m);
    const ready = await m.waitLog('antenna ready');
    const ports = ready.ports as { primary: number; http: number };
    owned.push(startSourceClient({ port: ports.primary, password: PASSWORD, frequency: 440 }) as ProcessHandle);
    await sleep(2000);

    // 5 addresses × 300 idle sockets: more than the whole descriptor limit.
    const flood: IdleFlood = await idleFlood(ports.http, ATTACKERS, 300);
    owned.push(flood);
    await sleep(500);

    const l = listen(ports.http, '/listen/live.mp3');
    owned.push({ close: async () => l.close() });
    await l.waitForBytes(16_000, 8000); // a second of 128 kbit/s
    const playlist = await fetch(`http://127.0.0.1:${ports.http}/hls/master.m3u8`);
    expect(playlist.status).toBe(200);
    await sleep(5000); // a few HLS segments, each a state write
    expect(m.lines.filter((x) => x.msg === 'cannot write HLS state: the media sequence may repeat after a restart')).toEqual([]);
    expect(m.lines.some((x) => JSON.stringify(x).includes('EMFILE'))).toBe(false);
    // The limits the server derived from the descriptor limit are in its log.
    const limits = await m.waitLog('connection limits');
    expect(limits.nofile).toBe(NOFILE);
    expect(limits.maxListeners as number).toBeLessThan(NOFILE);
    expect(flood.closedByServer()).toBeGreaterThan(1000);
  }, 60_000);

  it('failed logins are logged without the password, slowed per address and counted; the right password is never slowed', async () => {
    const m = runMain(ENV);
    owned.push(m);
    const ready = await m.waitLog('antenna ready');
    const ports = ready.ports as { primary: number; http: number };
    const wrong = 'Wr0ng-Guess-7781';
    const head = (pw: string) =>
      `SOURCE /live HTTP/1.0\r\nAuthorization: Basic ${Buffer.from(`source:${pw}`).toString('base64')}\r\nContent-Type: audio/mpeg\r\n\r\n`;
    const started = performance.now();
    for (let i = 0; i < 8; i++)
      expect((await rawExchange(ports.primary, head(wrong), { timeoutMs: 10_000 })).toString()).toMatch(/^HTTP\/1\.0 401/);
    const eightMs = performance.now() - started;
    // 5 free failures, then 250 + 500 + 1000 ms.
    expect(eightMs).toBeGreaterThan(1500);
    // The admin paths share the accounting.
    const admin = await fetch(`http://127.0.0.1:${ports.http}/admin/stats`, {
      headers: { authorization: `Basic ${Buffer.from(`admin:${wrong}`).toString('base64')}` },
    });
    expect(admin.status).toBe(401);
    // The right password from the same address is answered at once.
    const t0 = performance.now();
    const ok = startSourceClient({ port: ports.primary, password: PASSWORD, frequency: 440 });
    owned.push(ok);
    await m.waitLog('source connected', 5000);
    expect(performance.now() - t0).toBeLessThan(3000);

    const failures = m.lines.filter((x) => x.msg === 'authentication failed');
    expect(failures.length).toBe(9);
    expect(failures[0]).toMatchObject({ remote: '127.0.0.1', user: 'source', path: '/live' });
    expect(failures.at(-1)).toMatchObject({ remote: '127.0.0.1', user: 'admin', path: '/admin/stats', where: 'http' });
    expect(JSON.stringify(m.lines)).not.toContain(wrong);
    expect(JSON.stringify(m.lines)).not.toContain(PASSWORD);
  }, 60_000);

  it('prints a generated password on the start that generated it, and only says where it is kept later', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'antenna-secrets-'));
    owned.push({ close: async () => rmSync(dir, { recursive: true, force: true }) });
    const first = runMain({ ANTENNA_LOG_LEVEL: 'info' }, { dir });
    owned.push(first);
    await first.waitLog('antenna ready');
    const password = /sourcePassword not configured.*password "([A-Za-z0-9_-]{20,})"/.exec(first.stderr())?.[1];
    expect(password).toBeDefined();
    await first.stop();
    const second = runMain({ ANTENNA_LOG_LEVEL: 'info' }, { dir });
    owned.push(second);
    await second.waitLog('antenna ready');
    expect(second.stderr()).not.toContain(password as string);
    expect(second.stderr()).toMatch(/sourcePassword not configured; using the generated one kept in .*secrets\.json/);
  }, 60_000);
});
