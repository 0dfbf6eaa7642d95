// The stack Antenna replaces, configured like Antenna's defaults, for the idle benchmark: Liquidsoap
// 2.1.3 (two harbor inputs over the emergency file, six Icecast mounts, three HLS tiers), a stock
// Icecast 2.4.4 and Nginx in front (HLS files at /hls/, Icecast proxied at /listen/), all Debian's.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getText } from '../../test/helpers/interop-http.js';
import { freePort, start, tempDir, until, which, withOutput, type Running } from '../../test/helpers/interop-programs.js';
import { startBenchIcecast, type BenchIcecast } from './load-icecast.js';
import { withNofile } from './load-run.js';

/** One output of the old stack, with the same codec and rate as Antenna's default mount of that name. */
export interface OldMount {
  /** Icecast mount; Nginx serves it as /listen/<name>, Antenna's URL. */
  readonly name: string;
  /** A Liquidsoap 2.1.3 encoder literal. */
  readonly encoder: string;
  /** Content type Icecast is told (Liquidsoap cannot guess one for %ffmpeg). */
  readonly format: string;
}

// Debian's liquidsoap 2.1.3 has %mp3 (LAME), %vorbis and %ffmpeg, but no %fdkaac (its dynamic module is
// not packaged): AAC goes through %ffmpeg, i.e. the libavcodec 5.1 `aac` encoder, as a station on
// Debian would have it. Vorbis quality q6 / q2 (ffmpeg's -q:a) is libvorbis's 0.6 / 0.2.
const AAC = (bitrate: string): string => `%ffmpeg(format="adts", %audio(codec="aac", channels=2, ar=44100, b="${bitrate}"))`;
export const OLD_MOUNTS: readonly OldMount[] = [
  { name: 'live.mp3', encoder: '%mp3(bitrate=320)', format: 'audio/mpeg' },
  { name: 'live-128.mp3', encoder: '%mp3(bitrate=128)', format: 'audio/mpeg' },
  { name: 'live.aac', encoder: AAC('128k'), format: 'audio/aac' },
  { name: 'live-64.aac', encoder: AAC('64k'), format: 'audio/aac' },
  { name: 'live.ogg', encoder: '%vorbis(quality=0.6)', format: 'application/ogg' },
  { name: 'live-96.ogg', encoder: '%vorbis(quality=0.2)', format: 'application/ogg' },
];

/** Antenna's default HLS tiers (64k, 128k, 192k AAC-LC), 4 s segments, 6 in the playlist. */
export const OLD_HLS_TIERS: readonly { name: string; bitrate: number }[] = [
  { name: 'aac_64k', bitrate: 64_000 },
  { name: 'aac_128k', bitrate: 128_000 },
  { name: 'aac_192k', bitrate: 192_000 },
];
export const OLD_HLS_MASTER = 'master.m3u8';

export interface LiquidsoapParams {
  readonly primaryPort: number;
  readonly fallbackPort: number;
  readonly sourcePassword: string;
  readonly emergencyFile: string;
  readonly icecastPort: number;
  readonly icecastPassword: string;
  readonly hlsDir: string;
}

/**
 * The Liquidsoap script: the harbor inputs keep Liquidsoap's defaults (12 s buffer), since the cost of
 * the stack as stations ran it is what is compared. Unlike Antenna, whose 64k and 128k HLS tiers reuse
 * two mounts' encoders, output.file.hls runs three encoders of its own: Liquidsoap cannot share them.
 */
export function liquidsoapScript(p: LiquidsoapParams): string {
  const str = (s: string): string => JSON.stringify(s); // Liquidsoap string literals escape like JSON's
  const ice = OLD_MOUNTS.map(
    (m) =>
      `output.icecast(${m.encoder}, id=${str(m.name)}, host="127.0.0.1", port=${p.icecastPort}, password=${str(p.icecastPassword)}, ` +
      `mount=${str('/' + m.name)}, format=${str(m.format)}, name="Antenna", radio)`,
  );
  const streams = OLD_HLS_TIERS.map((t) => `(${str(t.name)}, ${AAC(`${t.bitrate / 1000}k`)})`);
  const info = OLD_HLS_TIERS.map(
    (t) => `(${str(t.name)}, {bandwidth=${Math.round(t.bitrate * 1.1)}, codecs="mp4a.40.2", extname="aac", video_size=null()})`,
  );
  return `settings.init.allow_root.set(true)
settings.log.stdout.set(true)
settings.log.file.set(false)
settings.log.level.set(3)
settings.harbor.bind_addrs.set(["127.0.0.1"])
primary = input.harbor(id="primary", "primary", port=${p.primaryPort}, password=${str(p.sourcePassword)})
fallback_input = input.harbor(id="fallback", "fallback", port=${p.fallbackPort}, password=${str(p.sourcePassword)})
emergency = single(id="emergency", ${str(p.emergencyFile)})
radio = mksafe(fallback(id="radio", track_sensitive=false, [primary, fallback_input, emergency]))
${ice.join('\n')}
output.file.hls(id="hls", playlist=${str(OLD_HLS_MASTER)}, segment_duration=4.0, segments=6, segments_overhead=5,
  streams_info=[${info.join(', ')}], ${str(p.hlsDir)}, [${streams.join(', ')}], radio)
`;
}

export interface NginxParams {
  readonly dir: string;
  readonly port: number;
  readonly hlsDir: string;
  readonly icecastPort: number;
  /** Debian ships 768; the fan-out bench raises it (two descriptors per proxied listener), as a station would. */
  readonly workerConnections?: number;
  /** Icecast's path for /listen/ (default "/": /listen/live.mp3 is Icecast's /live.mp3). */
  readonly upstreamPrefix?: string;
}

/**
 * Debian's nginx.conf reduced to what the stack used, in the foreground: `worker_processes auto` (two
 * workers on two cores) and `user www-data` as Debian ships it, since that is what the replaced stack
 * ran; idle workers sleep in epoll, so their count shows in PSS, not CPU. Listener streams are not
 * buffered (proxy_buffering off), as a radio proxy must be.
 */
export function nginxConf(p: NginxParams): string {
  return `daemon off;
master_process on;
worker_processes auto;
${p.workerConnections ? `worker_rlimit_nofile ${p.workerConnections * 2 + 100};\n` : ''}user www-data;
pid ${p.dir}/nginx.pid;
error_log ${p.dir}/nginx-error.log warn;
events { worker_connections ${p.workerConnections ?? 768}; }
http {
  sendfile on;
  tcp_nopush on;
  types_hash_max_size 2048;
  include /etc/nginx/mime.types;
  types { application/vnd.apple.mpegurl m3u8; audio/aac aac; }
  default_type application/octet-stream;
  access_log ${p.dir}/nginx-access.log;
  gzip on;
  client_body_temp_path ${p.dir}/nginx-tmp/body;
  proxy_temp_path ${p.dir}/nginx-tmp/proxy;
  fastcgi_temp_path ${p.dir}/nginx-tmp/fastcgi;
  uwsgi_temp_path ${p.dir}/nginx-tmp/uwsgi;
  scgi_temp_path ${p.dir}/nginx-tmp/scgi;
  server {
    listen 127.0.0.1:${p.port};
    location /hls/ {
      alias ${p.hlsDir}/;
      add_header Cache-Control no-cache;
      add_header Access-Control-Allow-Origin *;
    }
    location /listen/ {
      proxy_pass http://127.0.0.1:${p.icecastPort}${p.upstreamPrefix ?? '/'};
      proxy_http_version 1.1;
      proxy_buffering off;
      proxy_read_timeout 1h;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
    }
  }
}
`;
}

/** Nginx in the foreground with `nginxConf(p)` (its directory must hold nginx-tmp/); resolves once it answers. */
export async function startNginx(p: NginxParams): Promise<{ pid: number; close(): Promise<void> }> {
  const conf = join(p.dir, 'nginx.conf');
  writeFileSync(conf, nginxConf(p));
  const [cmd, args] = withNofile('nginx', ['-p', p.dir, '-e', join(p.dir, 'nginx-error.log'), '-c', conf]);
  const nginx: Running = start(cmd, args);
  // SIGTERM is Nginx's fast shutdown; the master waits for its workers.
  const close = async (): Promise<void> => void (await nginx.stop(5000));
  const base = `http://127.0.0.1:${p.port}`;
  try {
    await withOutput(
      nginx,
      until(`nginx answering on ${base}`, 15_000, async () => {
        if (nginx.proc.exitCode !== null) throw new Error('nginx exited');
        return (await getText(`${base}/`, undefined, 2000)).status > 0 ? true : undefined;
      }),
    );
  } catch (err) {
    await close();
    throw err;
  }
  return { pid: nginx.proc.pid!, close };
}

export interface OldStackProcess {
  readonly name: 'liquidsoap' | 'icecast2' | 'nginx';
  /** Root of the process's tree (Nginx's master; its workers are its children). */
  readonly pid: number;
}

export interface OldStack {
  readonly ports: { primary: number; fallback: number; icecast: number; nginx: number };
  readonly sourcePassword: string;
  /** icecast:// URL of a harbor input, for a source client. */
  sourceUrl(input: 'primary' | 'fallback'): string;
  /** Base URL of Nginx, the stack's public face (/listen/, /hls/). */
  readonly base: string;
  readonly processes: readonly OldStackProcess[];
  readonly versions: { liquidsoap: string; icecast: string; nginx: string };
  /** Resolves once Liquidsoap's log says it switched to `input` (after its 12 s harbor buffer). */
  waitOnAir(input: 'primary' | 'fallback', timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export function oldStackMissing(): string | undefined {
  const absent = ['liquidsoap', 'icecast2', 'nginx'].filter((n) => which(n) === undefined);
  return absent.length > 0 ? `not installed: ${absent.join(', ')} (apt-get install liquidsoap icecast2 nginx-light)` : undefined;
}

const firstLine = (cmd: string, args: string[]): string => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.split('\n')[0]?.trim() ?? '?';
};

/** Starts Icecast, then Liquidsoap and Nginx; resolves once Nginx answers and Icecast has six sources. */
export async function startOldStack(opts: { emergencyFile: string }): Promise<OldStack> {
  const dir = tempDir('old-stack');
  chmodSync(dir.path, 0o755); // Nginx's workers (www-data) read the HLS files
  const hlsDir = join(dir.path, 'hls');
  mkdirSync(hlsDir, { mode: 0o755 });
  mkdirSync(join(dir.path, 'nginx-tmp'));
  const sourcePassword = 'bench-source';
  const owned: { close(): Promise<unknown> }[] = [];
  const close = async (): Promise<void> => {
    // Reverse order of start: the front first, the origin last.
    for (const o of owned.reverse()) await o.close();
    owned.length = 0;
    dir.remove();
  };
  try {
    const icecast: BenchIcecast = await startBenchIcecast({ sources: OLD_MOUNTS.length + 2 });
    owned.push(icecast);
    const [primary, fallback, nginxPort] = [await freePort(), await freePort(), await freePort()];
    const script = join(dir.path, 'radio.liq');
    writeFileSync(
      script,
      liquidsoapScript({
        primaryPort: primary,
        fallbackPort: fallback,
        sourcePassword,
        emergencyFile: opts.emergencyFile,
        icecastPort: icecast.port,
        icecastPassword: icecast.sourcePassword,
        hlsDir,
      }),
    );
    const liq: Running = start('liquidsoap', [script], { cwd: dir.path });
    owned.push({ close: () => liq.stop(5000) });
    const nginx = await startNginx({ dir: dir.path, port: nginxPort, hlsDir, icecastPort: icecast.port });
    owned.push(nginx);
    const base = `http://127.0.0.1:${nginxPort}`;
    await withOutput(
      liq,
      until('Liquidsoap feeding six Icecast mounts', 30_000, async () => {
        if (liq.proc.exitCode !== null) throw new Error('liquidsoap exited');
        return (await icecastMounts(icecast.port)).length >= OLD_MOUNTS.length ? true : undefined;
      }),
    );
    return {
      ports: { primary, fallback, icecast: icecast.port, nginx: nginxPort },
      sourcePassword,
      sourceUrl: (input) => `icecast://source:${sourcePassword}@127.0.0.1:${input === 'primary' ? primary : fallback}/${input}`,
      base,
      processes: [
        { name: 'liquidsoap', pid: liq.proc.pid! },
        { name: 'icecast2', pid: icecast.pid },
        { name: 'nginx', pid: nginx.pid },
      ],
      versions: {
        liquidsoap: firstLine('liquidsoap', ['--version']),
        icecast: icecast.version,
        nginx: firstLine('nginx', ['-v']),
      },
      waitOnAir: async (input, timeoutMs) => {
        // The fallback operator (id "radio") logs "[radio:3] Switch to <input id>."
        const line = new RegExp(`\\[radio:\\d\\] Switch to ${input}\\b`);
        await withOutput(
          liq,
          until(`Liquidsoap switching to ${input}`, timeoutMs, () => (line.test(liq.output.text) ? true : undefined)),
        );
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Mounts with a source connected, from an Icecast-compatible /status-json.xsl (Icecast's or Antenna's). */
export async function statusMounts(statusUrl: string): Promise<string[]> {
  const r = await getText(statusUrl, undefined, 3000);
  if (r.status !== 200) return [];
  const j = JSON.parse(r.body) as { icestats?: { source?: { listenurl?: string } | { listenurl?: string }[] } };
  const s = j.icestats?.source;
  const list = s === undefined ? [] : Array.isArray(s) ? s : [s];
  return list.map((x) => (x.listenurl ? new URL(x.listenurl).pathname : '?'));
}

const icecastMounts = (port: number): Promise<string[]> => statusMounts(`http://127.0.0.1:${port}/status-json.xsl`);
