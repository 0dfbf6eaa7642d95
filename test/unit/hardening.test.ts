// The shared hardening units: request parsing (one copy for both ports), title cleaning, the idle
// connection guard, failed-login accounting, the descriptor budget, and ICY blocks that cannot be
// made to carry a second field.
import net from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { icyBlock } from '../../src/icecast-compat/wire.js';
import { xmlText } from '../../src/icecast-compat/stats.js';
import { AuthGuard } from '../../src/util/auth-guard.js';
import { ConnectionGuard } from '../../src/util/connection-guard.js';
import { ConnectionPool } from '../../src/util/connection-pool.js';
import { descriptorBudget, httpBudget, readNofileLimit } from '../../src/util/fd-limit.js';
import { basicCredentials, decodeText, parseQuery, percentDecode, queryText, safeEqual } from '../../src/util/request.js';
import { cleanTitle, MAX_TITLE_CHARS } from '../../src/util/text.js';

const log = pino({ level: 'silent' });

describe('request parsing shared by the source ports and the HTTP port', () => {
  it('decodes queries as Icecast does: `+` stays `+`, a bad escape stays as it is, first occurrence wins', () => {
    expect(percentDecode('a+b%20c%zz%4').toString('latin1')).toBe('a+b c%zz%4');
    const q = parseQuery('Song=one&song=two&mount=%2Flive');
    expect(q.get('song')?.toString()).toBe('one');
    expect(q.get('mount')?.toString()).toBe('/live');
    expect(queryText('charset=ISO-8859-1&song=Caf%E9').get('song')).toBe('Café');
    expect(queryText('song=Caf%C3%A9').get('song')).toBe('Café');
    expect(decodeText(Buffer.from([0xe9]), undefined)).toBe('é');
  });

  it('parses Basic credentials and compares passwords in constant time', () => {
    const header = `Basic ${Buffer.from('source:pa:ss').toString('base64')}`;
    expect(basicCredentials(header)).toEqual({ user: 'source', password: 'pa:ss' });
    expect(basicCredentials('Basic !!!')).toBeUndefined();
    expect(basicCredentials(`Basic ${Buffer.from('nocolon').toString('base64')}`)).toBeUndefined();
    expect(basicCredentials(undefined)).toBeUndefined();
    expect(safeEqual('hackme', 'hackme')).toBe(true);
    expect(safeEqual('hackme', 'hackm')).toBe(false);
    expect(safeEqual('é', 'e')).toBe(false);
  });
});

describe('titles are data', () => {
  it('removes control characters, turns tabs and line breaks into spaces, drops lone surrogates, bounds the length', () => {
    expect(cleanTitle('a\u0000b')).toBe('ab');
    expect(cleanTitle(' x\ty\r\nz\u0007\u007f\u0085 ')).toBe('x y  z');
    expect(cleanTitle('ok\ud800')).toBe('ok');
    expect(cleanTitle('😀 Ünïcode')).toBe('😀 Ünïcode');
    expect([...cleanTitle('é'.repeat(5000))]).toHaveLength(MAX_TITLE_CHARS);
  });

  it('writes XML text without characters XML cannot hold', () => {
    expect(xmlText('a\u0000\u001bb<&>')).toBe('ab&lt;&amp;&gt;');
  });

  it('an apostrophe-semicolon in a title cannot end StreamTitle early or add a StreamUrl', () => {
    for (const charset of ['utf-8', 'latin1'] as const) {
      const block = icyBlock("a';StreamUrl='http://evil/';\u0000x", charset);
      const text = block
        .subarray(1)
        .toString(charset === 'latin1' ? 'latin1' : 'utf8')
        .replace(/\0+$/, '');
      expect(text.indexOf("';")).toBe(text.length - 2);
      expect(text).not.toContain("StreamUrl='");
      expect(text).not.toMatch(/\p{Cc}/u);
    }
  });
});

describe('connection guard', () => {
  const servers: net.Server[] = [];
  const clients: net.Socket[] = [];
  afterEach(async () => {
    clients.splice(0).forEach((c) => c.destroy());
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  async function harness(opts: { maxPerAddress: number; maxTotal: number; timeoutMs: number; graceMs?: number }) {
    const guard = new ConnectionGuard({ log, ...opts });
    const accepted: net.Socket[] = [];
    const server = net.createServer((s) => {
      clients.push(s);
      accepted.push(s);
      guard.admit(s);
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const connect = async (localAddress: string) => {
      const before = accepted.length;
      const c = net.connect({ port, host: '127.0.0.1', localAddress });
      c.on('error', () => undefined);
      clients.push(c);
      await new Promise((r) => c.once('connect', r));
      while (accepted.length === before) await new Promise((r) => setTimeout(r, 5));
      return accepted[accepted.length - 1] as net.Socket;
    };
    return { guard, connect };
  }

  it('with a grace, a connect storm from one address is not shed until its connections have had time to send a request', async () => {
    const { guard, connect } = await harness({ maxPerAddress: 2, maxTotal: 10, timeoutMs: 0, graceMs: 300 });
    const young = [await connect('127.0.0.4'), await connect('127.0.0.4'), await connect('127.0.0.4')];
    expect(young.map((x) => x.destroyed)).toEqual([false, false, false]);
    expect(guard.snapshot().pending).toBe(3);
    await new Promise((r) => setTimeout(r, 350));
    // Past the grace they are idle connections like any other: the oldest make room, down to the limit.
    const late = await connect('127.0.0.4');
    expect([...young, late].map((x) => x.destroyed)).toEqual([true, true, false, false]);
  });

  it('closes the oldest of an address at its limit, and the oldest of the busiest address at the overall limit', async () => {
    const { guard, connect } = await harness({ maxPerAddress: 2, maxTotal: 3, timeoutMs: 0 });
    const a1 = await connect('127.0.0.2');
    const a2 = await connect('127.0.0.2');
    const a3 = await connect('127.0.0.2');
    expect([a1.destroyed, a2.destroyed, a3.destroyed]).toEqual([true, false, false]);
    const b1 = await connect('127.0.0.3');
    // Overall limit 3: 127.0.0.2 holds two, so its oldest goes, not 127.0.0.3's only one.
    const b2 = await connect('127.0.0.1');
    expect([a2.destroyed, a3.destroyed, b1.destroyed, b2.destroyed]).toEqual([true, false, false, false]);
    guard.done(b2);
    expect(guard.snapshot()).toMatchObject({ pending: 2, shed: 2 });
    guard.close();
  });

  it('closes connections that stay pending past the timeout', async () => {
    const { guard, connect } = await harness({ maxPerAddress: 10, maxTotal: 10, timeoutMs: 200 });
    const s = await connect('127.0.0.1');
    const kept = await connect('127.0.0.1');
    guard.done(kept);
    await new Promise((r) => setTimeout(r, 600));
    expect(s.destroyed).toBe(true);
    expect(kept.destroyed).toBe(false);
    expect(guard.snapshot().timedOut).toBe(1);
    guard.close();
  });
});

describe('failed logins', () => {
  it('answers the first failures at once, then doubles the wait per address, capped', () => {
    const g = new AuthGuard({ log, freeFailures: 2, maxDelayMs: 1000 });
    const fail = (address: string) => g.failed({ address, user: 'source', path: '/live', where: 8010 });
    expect([fail('a'), fail('a'), fail('a'), fail('a'), fail('a'), fail('a')]).toEqual([0, 0, 250, 500, 1000, 1000]);
    expect(fail('b')).toBe(0);
    expect(g.snapshot()).toEqual({ failures: 7, delayed: 4, throttledAddresses: 1 });
  });
});

describe('descriptor budget', () => {
  it('keeps the reserve free and gives listeners what idle connections may not take', () => {
    expect(httpBudget(1024, { fdReserve: 256, httpMaxPending: 1024, maxListeners: 20_000 })).toEqual({
      nofile: 1024,
      maxConnections: 768,
      maxPending: 192,
      maxListeners: 576,
    });
    expect(httpBudget(65_536, { fdReserve: 256, httpMaxPending: 1024, maxListeners: 20_000 }).maxListeners).toBe(20_000);
    expect(httpBudget(undefined, { fdReserve: 256, httpMaxPending: 1024, maxListeners: 20_000 }).maxConnections).toBe(Infinity);
    expect(readNofileLimit()).toBeGreaterThan(0);
  });

  it('warns when the descriptor limit caps a station below 10,000 listeners, informs otherwise', () => {
    const config = {
      fdReserve: 256,
      httpMaxPending: 1024,
      maxListeners: 20_000,
      httpMaxPendingPerAddress: 32,
      httpHeadTimeoutMs: 5000,
      maxSourceConnections: 32,
      maxSourcePendingPerAddress: 8,
    };
    const said = (nofile: number, maxListeners = 20_000): string[] => {
      const lines: string[] = [];
      const log = { info: (_o: object, m: string) => lines.push(`info ${m}`), warn: (_o: object, m: string) => lines.push(`warn ${m}`) };
      descriptorBudget({ ...config, maxListeners }, log as never, nofile);
      return lines.map((l) => l.split(';')[0] as string);
    };
    expect(said(1024)).toEqual(['info connection limits', 'warn maxListeners lowered to fit the file-descriptor limit']);
    expect(said(20_000)).toEqual(['info connection limits', 'info maxListeners lowered to fit the file-descriptor limit']);
    expect(said(65_536)).toEqual(['info connection limits']);
    expect(said(1024, 500)).toEqual(['info connection limits']);
  });

  it('one pool for two ports: together they never hold more than the budget, a freed place is reused', async () => {
    const warned: unknown[] = [];
    const pool = new ConnectionPool({ max: 3, log: { warn: (o: unknown) => warned.push(o) } as never });
    const servers = [net.createServer(), net.createServer()];
    const held: net.Socket[] = [];
    for (const s of servers) {
      s.on('connection', (c: net.Socket) => held.push(c)); // registered first: sees refused sockets too
      pool.attach(s);
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    }
    const port = (i: number): number => (servers[i]?.address() as net.AddressInfo).port;
    const clients: net.Socket[] = [];
    /** Connects and reports whether the server kept the socket open for 200 ms. */
    const dial = async (i: number): Promise<boolean> => {
      const c = net.connect(port(i), '127.0.0.1');
      c.on('error', () => undefined);
      clients.push(c);
      return new Promise((resolve) => {
        const t = setTimeout(() => resolve(true), 200);
        c.once('close', () => (clearTimeout(t), resolve(false)));
      });
    };
    try {
      expect(await dial(0)).toBe(true);
      expect(await dial(0)).toBe(true);
      expect(await dial(1)).toBe(true);
      expect(pool.open).toBe(3);
      // Each port alone is under 3, but the pool is full: the fourth goes, on either port.
      expect(await dial(1)).toBe(false);
      expect(await dial(0)).toBe(false);
      expect(pool).toMatchObject({ open: 3, refused: 2 });
      expect(warned).toHaveLength(1); // one warning line per 10 s, not one per refusal
      clients[0]?.destroy();
      await new Promise((r) => setTimeout(r, 100));
      expect(pool.open).toBe(2);
      expect(await dial(1)).toBe(true);
      expect(pool.open).toBe(3);
    } finally {
      for (const c of clients) c.destroy();
      for (const c of held) c.destroy();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
  });
});
