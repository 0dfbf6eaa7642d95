// A stock Debian Icecast 2.4.4 sized for the fan-out benchmark (20,000 clients, the same 512 KB queue
// and 2 s burst at 128 kbit/s as Antenna's defaults), run as `nobody` under a raised descriptor limit.
// The idle benchmark's old stack (old-stack.ts) starts the same Icecast with room for its six mounts.
// The interop suite's config (test/helpers/interop-icecast.ts) is for 100 clients and relays.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nobody } from '../../test/helpers/interop-icecast.js';
import { getText } from '../../test/helpers/interop-http.js';
import { freePort, start, tempDir, until, which, type Running } from '../../test/helpers/interop-programs.js';
import { withNofile } from './load-run.js';

export interface BenchIcecast {
  readonly port: number;
  readonly pid: number;
  readonly sourcePassword: string;
  readonly adminPassword: string;
  readonly version: string;
  readonly proc: Running;
  close(): Promise<void>;
}

export function icecastInstalled(): boolean {
  return which('icecast2') !== undefined;
}

export interface BenchIcecastOptions {
  /** Most source mounts at once (Icecast's `<sources>`; default 4, the fan-out bench needs one). */
  readonly sources?: number;
}

function benchXml(port: number, dir: string, sourcePassword: string, adminPassword: string, sources: number): string {
  return `<icecast>
  <location>Bench</location><admin>bench@example.org</admin>
  <limits><clients>20000</clients><sources>${sources}</sources><queue-size>524288</queue-size><client-timeout>30</client-timeout>
    <header-timeout>15</header-timeout><source-timeout>10</source-timeout><burst-size>32000</burst-size></limits>
  <authentication><source-password>${sourcePassword}</source-password><admin-user>admin</admin-user>
    <admin-password>${adminPassword}</admin-password></authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>${port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <fileserve>1</fileserve>
  <paths><basedir>/usr/share/icecast2</basedir><logdir>${dir}/log</logdir><webroot>/usr/share/icecast2/web</webroot>
    <adminroot>/usr/share/icecast2/admin</adminroot></paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>3</loglevel></logging>
  <security><chroot>0</chroot></security>
</icecast>
`;
}

export async function startBenchIcecast(opts: BenchIcecastOptions = {}): Promise<BenchIcecast> {
  const dir = tempDir('bench-icecast');
  chmodSync(dir.path, 0o755);
  mkdirSync(join(dir.path, 'log'), { mode: 0o777 });
  chmodSync(join(dir.path, 'log'), 0o777); // written by `nobody`
  const port = await freePort();
  const sourcePassword = 'bench-source';
  const adminPassword = 'bench-admin';
  const conf = join(dir.path, 'icecast.xml');
  writeFileSync(conf, benchXml(port, dir.path, sourcePassword, adminPassword, opts.sources ?? 4), { mode: 0o644 });
  const version = spawnSync('icecast2', ['-v'], { encoding: 'utf8' }).stdout.trim();
  const [cmd, args] = withNofile('icecast2', ['-c', conf]);
  const proc = start(cmd, args, { cwd: dir.path, ...(nobody() ?? {}) });
  const close = async (): Promise<void> => {
    await proc.stop(5000);
    dir.remove();
  };
  const base = `http://127.0.0.1:${port}`;
  try {
    await until(`icecast2 answering on ${base}`, 15_000, async () => {
      if (proc.proc.exitCode !== null) throw new Error(`icecast2 exited: ${proc.output.text}`);
      const r = await getText(`${base}/status-json.xsl`, undefined, 2000);
      return r.status === 200 ? true : undefined;
    });
  } catch (err) {
    await close();
    throw err;
  }
  return { port, pid: proc.proc.pid!, sourcePassword, adminPassword, version, proc, close };
}
