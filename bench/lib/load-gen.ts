// The fan-out load generator, run as its own process (`node --import tsx bench/lib/load-gen.ts '<json>'`):
// N raw `net` listeners on one mount, opened at a fixed rate, each reading whatever arrives (real time).
// Bytes are counted, never decoded; every read lands in one shared buffer, so 10,000 sockets cost no
// allocation per read. Prints JSON lines: {ev:'opened'}, {ev:'window-start'}, then {ev:'result'}.
// ANTENNA_BENCH_GEN_DUMP=<file>: also writes one line per TLS listener (opened at ms, handshake ms,
// first byte ms, share of the window's bytes received; -1 = never), to see when in the ramp the
// late ones opened.
import { writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface LoadGenOptions {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly n: number;
  /** Connections opened per second. */
  readonly rate: number;
  /** After the last connection opened: time for every burst to arrive before the window. */
  readonly settleMs: number;
  readonly windowMs: number;
  /** Expected audio bytes per second (128 kbit/s = 16,000). */
  readonly bytesPerSecond: number;
  /** http (default): raw sockets; https: HTTP/1.1 over TLS; h2: one HTTP/2 connection per listener. */
  readonly protocol?: 'http' | 'https' | 'h2';
}

export interface LoadGenResult {
  readonly n: number;
  readonly opened: number;
  /** Got an HTTP 200 head. */
  readonly ok: number;
  readonly refused: number;
  readonly ttfbMs: { p50: number; p99: number; max: number };
  /** TLS listeners: time from opening to the completed handshake (the part of the first byte spent in TLS). */
  readonly handshakeMs?: { p50: number; p99: number; max: number; done: number };
  readonly windowS: number;
  /**
   * Share of the n listeners at full rate in the window: from their first read in it to their last they
   * received ≥ 99 % of bytesPerSecond, and no read was more than MAX_GAP_MS after the one before it (nor
   * after the window's start, nor before its end). Measured between reads rather than as the window's
   * bytes over its length, because a server that sends 400 ms of audio per write delivers 47 or 48 such
   * batches in 20 s depending on where the window falls: the window's bytes then read 98 % or 100 % of
   * the rate for listeners that are all at full rate.
   */
  readonly fullRateShare: number;
  /** Each listener's bytes in the window over bytesPerSecond × window (quantised by the server's batches). */
  readonly receivedRatio: { min: number; p1: number; p50: number };
  /** Each listener's rate between its first and last read in the window, over bytesPerSecond. */
  readonly rateRatio: { min: number; p1: number; p50: number };
  /** Listeners with a gap between reads over MAX_GAP_MS in the window. */
  readonly gapped: number;
  /** Closed by the server (or reset) before the end of the window. */
  readonly dropped: number;
  readonly client: { cpuPercent: number; loopDelayP99Ms: number };
}

const opts = JSON.parse(process.argv[2] ?? '{}') as LoadGenOptions;
const emit = (o: object): void => void process.stdout.write(JSON.stringify(o) + '\n');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pct = (sorted: ArrayLike<number>, p: number): number =>
  sorted.length === 0 ? -1 : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);

const n = opts.n;
const bytes = new Float64Array(n);
const ttfb = new Float64Array(n).fill(-1);
const handshake = new Float64Array(n).fill(-1);
const openedAt = new Float64Array(n);
const status = new Int8Array(n); // 0 = no head yet, 1 = 200, -1 = anything else
const closedEarly = new Uint8Array(n);
// The window's reads, per listener: when the first and last came, the byte count after each, the
// previous read's time and the longest gap between reads.
const MAX_GAP_MS = 1000;
let windowOpenAt = -1;
const firstAt = new Float64Array(n).fill(-1);
const firstBytes = new Float64Array(n);
const lastAt = new Float64Array(n).fill(-1);
const lastBytes = new Float64Array(n);
const prevAt = new Float64Array(n);
const maxGap = new Float64Array(n);

/** Counts `len` bytes read by listener i (every protocol's path ends here). */
function got(i: number, len: number): void {
  const b = (bytes[i] as number) + len;
  bytes[i] = b;
  if (windowOpenAt < 0) return;
  const now = performance.now();
  const gap = now - Math.max(prevAt[i] as number, windowOpenAt);
  if (gap > (maxGap[i] as number)) maxGap[i] = gap;
  prevAt[i] = now;
  if ((firstAt[i] as number) < 0) {
    firstAt[i] = now;
    firstBytes[i] = b;
  }
  lastAt[i] = now;
  lastBytes[i] = b;
}
const sockets: { destroy(): void }[] = [];
const shared = Buffer.allocUnsafe(64 * 1024);
const request = Buffer.from(`GET ${opts.path} HTTP/1.0\r\nHost: ${opts.host}\r\nUser-Agent: antenna-bench\r\n\r\n`);
let ending = false;

/** A TLS listener (HTTP/1.1 or h2): certificate not verified (the bench's is self-signed), bytes counted per 'data'. */
function openTls(i: number): void {
  const t = performance.now();
  openedAt[i] = t;
  const first = (ok: boolean): void => {
    if (ttfb[i] !== -1) return;
    ttfb[i] = performance.now() - t;
    status[i] = ok ? 1 : -1;
  };
  if (opts.protocol === 'h2') {
    const session = http2.connect(`https://${opts.host}:${opts.port}`, { rejectUnauthorized: false, servername: 'localhost' });
    session.once('connect', () => (handshake[i] = performance.now() - t));
    session.on('error', () => undefined);
    session.on('close', () => {
      if (!ending) closedEarly[i] = 1;
    });
    const req = session.request({ ':path': opts.path, 'user-agent': 'antenna-bench' });
    req.on('response', (h) => first(h[':status'] === 200));
    req.on('data', (c: Buffer) => got(i, c.length));
    req.on('error', () => undefined);
    sockets.push(session);
    return;
  }
  const s = tls.connect({
    host: opts.host,
    port: opts.port,
    servername: 'localhost',
    rejectUnauthorized: false,
    ALPNProtocols: ['http/1.1'],
  });
  s.on('secureConnect', () => {
    handshake[i] = performance.now() - t;
    s.write(request);
  });
  s.on('data', (c: Buffer) => {
    if (ttfb[i] === -1) first(/^HTTP\/1\.[01] 200/.test(c.subarray(0, 16).toString('latin1')));
    got(i, c.length);
  });
  s.on('error', () => undefined);
  s.on('close', () => {
    if (!ending) closedEarly[i] = 1;
  });
  sockets.push(s);
}

function open(i: number): void {
  if (opts.protocol === 'https' || opts.protocol === 'h2') {
    openTls(i);
    return;
  }
  const t = performance.now();
  const s = net.connect({
    host: opts.host,
    port: opts.port,
    onread: {
      buffer: shared,
      callback: (len: number, buf: Uint8Array): boolean => {
        if (ttfb[i] === -1) {
          ttfb[i] = performance.now() - t;
          const head = Buffer.from(buf.buffer, buf.byteOffset, Math.min(len, 16)).toString('latin1');
          status[i] = /^(HTTP\/1\.[01]|ICY) 200/.test(head) ? 1 : -1;
        }
        got(i, len);
        return true;
      },
    },
  });
  s.on('connect', () => s.write(request));
  s.on('error', () => undefined); // a reset is counted through 'close'
  s.on('close', () => {
    if (!ending) closedEarly[i] = 1;
  });
  sockets.push(s);
}

async function main(): Promise<void> {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const t0 = performance.now();
  // Opening at a fixed rate on the monotonic clock (timers fire late; the schedule does not drift).
  const deadline = t0 + (n / opts.rate) * 1000 + 30_000;
  while (sockets.length < n && performance.now() < deadline) {
    const due = Math.min(n, Math.floor(((performance.now() - t0) * opts.rate) / 1000) + 1);
    while (sockets.length < due) open(sockets.length);
    await sleep(5);
  }
  emit({ ev: 'opened', opened: sockets.length, ms: Math.round(performance.now() - t0) });
  await sleep(opts.settleMs);

  loop.reset();
  const cpuW = process.cpuUsage();
  const start = Float64Array.from(bytes);
  const w0 = performance.now();
  windowOpenAt = w0;
  emit({ ev: 'window-start' });
  await sleep(opts.windowMs);
  const end = Float64Array.from(bytes);
  const w1 = performance.now();
  windowOpenAt = -1;
  const windowS = (w1 - w0) / 1000;
  const cpu = process.cpuUsage(cpuW);
  const loopP99 = loop.percentile(99) / 1e6;

  const expected = opts.bytesPerSecond * windowS;
  const ratios = new Float64Array(n);
  const rates = new Float64Array(n);
  let full = 0;
  let gapped = 0;
  for (let i = 0; i < n; i++) {
    ratios[i] = ((end[i] as number) - (start[i] as number)) / expected;
    const first = firstAt[i] as number;
    const last = lastAt[i] as number;
    // No read in the window, or a last read too long before its end, is a gap like any other.
    const gap = first < 0 ? w1 - w0 : Math.max(maxGap[i] as number, w1 - last);
    const span = (last - first) / 1000;
    const rate = first >= 0 && span > 0 ? ((lastBytes[i] as number) - (firstBytes[i] as number)) / span / opts.bytesPerSecond : 0;
    rates[i] = rate;
    if (gap > MAX_GAP_MS) gapped++;
    if (rate >= 0.99 && gap <= MAX_GAP_MS && status[i] === 1) full++;
  }
  ratios.sort();
  rates.sort();
  const firsts = Float64Array.from([...ttfb].filter((x) => x >= 0)).sort();
  const shakes = Float64Array.from([...handshake].filter((x) => x >= 0)).sort();
  let ok = 0;
  let refused = 0;
  let dropped = 0;
  for (let i = 0; i < n; i++) {
    if (status[i] === 1) ok++;
    else if (status[i] === -1) refused++;
    if (closedEarly[i] === 1) dropped++;
  }
  const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;
  const result: LoadGenResult = {
    n,
    opened: sockets.length,
    ok,
    refused,
    ttfbMs: { p50: round(pct(firsts, 50)), p99: round(pct(firsts, 99)), max: round(firsts.at(-1) ?? -1) },
    ...(opts.protocol === 'https' || opts.protocol === 'h2'
      ? { handshakeMs: { p50: round(pct(shakes, 50)), p99: round(pct(shakes, 99)), max: round(shakes.at(-1) ?? -1), done: shakes.length } }
      : {}),
    windowS: round(windowS, 2),
    fullRateShare: round(full / n, 4),
    receivedRatio: { min: round(ratios[0] ?? 0, 4), p1: round(pct(ratios, 1), 4), p50: round(pct(ratios, 50), 4) },
    rateRatio: { min: round(rates[0] ?? 0, 4), p1: round(pct(rates, 1), 4), p50: round(pct(rates, 50), 4) },
    gapped,
    dropped,
    client: { cpuPercent: round(((cpu.user + cpu.system) / 1e6 / windowS) * 100), loopDelayP99Ms: round(loopP99) },
  };
  emit({ ev: 'result', result });
  const dump = process.env.ANTENNA_BENCH_GEN_DUMP;
  if (dump) {
    const row = (i: number): string =>
      [openedAt[i] as number, handshake[i] as number, ttfb[i] as number].map((x) => Math.round(x)).join(' ') +
      ` ${round(((end[i] as number) - (start[i] as number)) / expected, 3)}`;
    writeFileSync(dump, Array.from({ length: n }, (_, i) => row(i)).join('\n') + '\n');
  }
  ending = true;
  for (const s of sockets) s.destroy();
  loop.disable();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`load generator failed: ${String(err)}\n`);
    process.exit(1);
  },
);
