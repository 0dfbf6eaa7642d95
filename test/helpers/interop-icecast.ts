// A stock Debian Icecast 2.4.4 for the interop suite: writes its XML config into a temp dir and runs
// it as `nobody` when we are root (Icecast refuses to run as root without <changeowner>).
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, start, tempDir, until, type Running } from './interop-programs.js';
import { getText } from './interop-http.js';

export interface RelaySpec {
  readonly server: string;
  readonly port: number;
  readonly mount: string;
  readonly localMount: string;
  readonly username?: string;
  readonly password?: string;
}

export interface IcecastOptions {
  /** Master-server relaying: the edge polls /admin/streamlist.txt on this origin. */
  readonly master?: {
    readonly server: string;
    readonly port: number;
    readonly username: string;
    readonly password: string;
    readonly intervalS?: number;
  };
  readonly relays?: readonly RelaySpec[];
  readonly sourcePassword?: string;
  readonly adminPassword?: string;
}

export interface Icecast {
  readonly port: number;
  readonly base: string;
  readonly adminPassword: string;
  readonly sourcePassword: string;
  readonly proc: Running;
  close(): Promise<void>;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function icecastXml(port: number, opts: IcecastOptions, sourcePassword: string, adminPassword: string): string {
  const relays = (opts.relays ?? [])
    .map(
      (r) => `  <relay>
    <server>${esc(r.server)}</server><port>${r.port}</port><mount>${esc(r.mount)}</mount>
    <local-mount>${esc(r.localMount)}</local-mount>
    ${r.username !== undefined ? `<username>${esc(r.username)}</username>` : ''}${r.password !== undefined ? `<password>${esc(r.password)}</password>` : ''}
    <relay-shoutcast-metadata>1</relay-shoutcast-metadata><on-demand>0</on-demand>
  </relay>`,
    )
    .join('\n');
  const m = opts.master;
  const master = m
    ? `  <master-server>${esc(m.server)}</master-server><master-server-port>${m.port}</master-server-port>
  <master-update-interval>${m.intervalS ?? 5}</master-update-interval>
  <master-username>${esc(m.username)}</master-username><master-password>${esc(m.password)}</master-password>
  <relays-on-demand>0</relays-on-demand>`
    : '';
  return `<icecast>
  <location>Interop</location><admin>interop@example.org</admin>
  <limits><clients>100</clients><sources>20</sources><queue-size>524288</queue-size><client-timeout>30</client-timeout>
    <header-timeout>15</header-timeout><source-timeout>10</source-timeout><burst-size>65535</burst-size></limits>
  <authentication><source-password>${esc(sourcePassword)}</source-password><relay-password>${esc(sourcePassword)}</relay-password>
    <admin-user>admin</admin-user><admin-password>${esc(adminPassword)}</admin-password></authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>${port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
${master}
${relays}
  <fileserve>1</fileserve>
  <paths><basedir>/usr/share/icecast2</basedir><logdir>/tmp</logdir><webroot>/usr/share/icecast2/web</webroot>
    <adminroot>/usr/share/icecast2/admin</adminroot></paths>
  <logging><accesslog>-</accesslog><errorlog>-</errorlog><loglevel>3</loglevel></logging>
  <security><chroot>0</chroot></security>
</icecast>
`;
}

/** The uid/gid of `nobody` when we are root (Icecast refuses to run as root), else undefined. */
export function nobody(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).stdout.trim());
  return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
}

/** Starts icecast2 with the given relays; resolves once it answers HTTP on its port. */
export async function startIcecast(opts: IcecastOptions = {}): Promise<Icecast> {
  const dir = tempDir('icecast');
  chmodSync(dir.path, 0o755); // read by `nobody`
  const port = await freePort();
  const sourcePassword = opts.sourcePassword ?? 'edge-source-pw';
  const adminPassword = opts.adminPassword ?? 'edge-admin-pw';
  const conf = join(dir.path, 'icecast.xml');
  writeFileSync(conf, icecastXml(port, opts, sourcePassword, adminPassword), { mode: 0o644 });
  const user = nobody();
  const proc = start('icecast2', ['-c', conf], { cwd: dir.path, ...(user ?? {}) });
  const base = `http://127.0.0.1:${port}`;
  const close = async (): Promise<void> => {
    await proc.stop(5000);
    dir.remove();
  };
  try {
    await until(`icecast2 answering on ${base}`, 15_000, async () => {
      if (proc.proc.exitCode !== null) throw new Error(`icecast2 exited: ${proc.output.text}`);
      const r = await getText(`${base}/status-json.xsl`, undefined, 2000);
      return r.status === 200 ? true : undefined;
    });
  } catch (err) {
    await close();
    throw new Error(`icecast2 did not start: ${(err as Error).message}\n${proc.output.text.slice(-3000)}`, { cause: err });
  }
  return { port, base, adminPassword, sourcePassword, proc, close };
}
