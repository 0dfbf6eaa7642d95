// Fan-out over TLS (issue 9): the same listeners as bench/fanout.ts on /listen/live-128.mp3, over plain
// HTTP, HTTPS/1.1 and HTTP/2 (one h2 connection per listener, the worst case: a browser shares one),
// against one server with a self-signed certificate brought as files. Per protocol and N: CPU % and PSS
// of the server's process tree, CPU per 1,000 listeners, share at full rate, first-byte p50/p99.
// Knobs: ANTENNA_BENCH_TLS_LEVELS (default "1000,5000"), ANTENNA_BENCH_TLS_PROTOCOLS (default
// "http,https,h2"), ANTENNA_BENCH_FANOUT_WINDOW_S (default 20).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveFfmpegPath } from '../src/ffmpeg/path.js';
import { startPcmSource, type PcmSource } from '../test/helpers/pcm-source.js';
import { listen } from '../test/helpers/timed-listener.js';
import { runLevels, slowFromStats, type ServerFanout } from './fanout.js';
import { waitHeard } from './lib/load-latency.js';
import { loopProbe, nofileLimit, withNofile } from './lib/load-run.js';
import { startServer, type BenchServer } from './lib/server.js';
import { selfSignedCert, tlsServerEnv } from './lib/tls-server.js';

type Protocol = 'http' | 'https' | 'h2';

export interface TlsFanoutResults {
  readonly protocols: Record<string, ServerFanout & { cpuPer1000: Record<string, number> }>;
  readonly settings: { levels: number[]; windowS: number; nofile: number; mount: string };
}

export async function runTlsFanout(log: (s: string) => void): Promise<TlsFanoutResults> {
  const ffmpeg = resolveFfmpegPath(process.env.FFMPEG_PATH);
  const levels = (process.env.ANTENNA_BENCH_TLS_LEVELS ?? '1000,5000')
    .split(',')
    .map(Number)
    .filter((x) => x > 0);
  const protocols = (process.env.ANTENNA_BENCH_TLS_PROTOCOLS ?? 'http,https,h2').split(',') as Protocol[];
  const windowS = Math.min(120, Math.max(5, Number(process.env.ANTENNA_BENCH_FANOUT_WINDOW_S ?? 20) || 20));
  const tmp = mkdtempSync(join(tmpdir(), 'antenna-bench-tls-'));
  const tls = selfSignedCert(tmp);
  const probe = loopProbe(tmp);
  let server: BenchServer | undefined;
  let source: PcmSource | undefined;
  try {
    server = await startServer(
      {
        NODE_OPTIONS: probe.nodeOptions,
        ...tlsServerEnv(tls),
      },
      withNofile,
    );
    const srv = server;
    const httpsPort = (srv.ports as { https?: number }).https;
    if (!httpsPort) throw new Error('the server reported no HTTPS port');
    source = startPcmSource(ffmpeg, `icecast://source:${srv.sourcePassword}@127.0.0.1:${srv.ports.primary}/live`, 440);
    const check = await listen(ffmpeg, `http://127.0.0.1:${srv.ports.http}/listen/live-128.mp3`, 'mp3', [440, 1000]);
    const onAir = await waitHeard(check, 440, 0, 30_000);
    await check.close();
    if (onAir === null) throw new Error('the source never went on air');
    log(`tls: source on air; HTTP ${srv.ports.http}, HTTPS ${httpsPort}; levels ${levels.join(', ')}, window ${windowS} s`);
    const out: TlsFanoutResults['protocols'] = {};
    for (const protocol of protocols) {
      const r = await runLevels(
        {
          pid: srv.pid,
          port: protocol === 'http' ? srv.ports.http : httpsPort,
          plainPort: srv.ports.http,
          protocol,
          probe,
          slowListeners: () => slowFromStats(srv.ports.http, 'bench-admin'),
        },
        ffmpeg,
        levels,
        windowS * 1000,
        (s) => log(`${protocol} ${s}`),
      );
      const cpuPer1000 = Object.fromEntries(
        r.levels.map((l) => [String(l.n), Math.round(((l.cpuPercent - r.idle.cpuPercent) / (l.n / 1000)) * 10) / 10]),
      );
      log(`${protocol}: CPU per 1,000 listeners (above idle) ${JSON.stringify(cpuPer1000)} % of a core`);
      out[protocol] = { ...r, cpuPer1000 };
    }
    return { protocols: out, settings: { levels, windowS, nofile: nofileLimit(), mount: '/listen/live-128.mp3' } };
  } finally {
    await source?.kill();
    await server?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}
