// Which ffmpeg runs, and why. Candidates: FFMPEG_PATH when set (the engineer's choice, used as given
// once it proves it has every encoder), else the system's `ffmpeg` on PATH and the embedded
// @ffmpeg-installer build (4.1, 2018). A newer system build with every encoder wins: measured in
// `npm run bench -- encoders`, Debian 12's ffmpeg 5.1 encodes LAME ~2.5x cheaper than the embedded
// build, and its AAC default coder is `twoloop` (see the README's cost table). The embedded build
// keeps the README's first command working on a bare machine with npm alone.
import { spawnSync } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { accessSync, constants } from 'node:fs';
import { AntennaError } from '../errors.js';
import { resolveFfmpegPath } from './path.js';

/** Encoders and muxers every mount and HLS tier needs. */
const NEEDED_ENCODERS = ['libmp3lame', 'aac', 'libvorbis'] as const;
const NEEDED_MUXERS = ['mp3', 'adts', 'ogg', 's16le'] as const;

export type FfmpegProbe =
  | { readonly ok: true; readonly version: string; readonly libavcodec: readonly [number, number, number] }
  | { readonly ok: false; readonly why: string };

export interface FfmpegChoice {
  readonly path: string;
  readonly version: string;
  readonly source: 'FFMPEG_PATH' | 'system' | 'embedded';
  readonly why: string;
}

/** Runs the binary's `-version`, `-encoders` and `-muxers` (a few ms each) and checks it can do every job. */
export function probeFfmpeg(path: string): FfmpegProbe {
  const run = (arg: string): string | undefined => {
    const r = spawnSync(path, ['-hide_banner', arg], { encoding: 'utf8', timeout: 10_000 });
    return r.status === 0 ? r.stdout : undefined;
  };
  const versionText = run('-version');
  if (versionText === undefined) return { ok: false, why: `${path} -version failed` };
  const version = /ffmpeg version (\S+)/.exec(versionText)?.[1] ?? '?';
  const lib = /libavcodec\s+(\d+)\.\s*(\d+)\.\s*(\d+)/.exec(versionText);
  if (!lib) return { ok: false, why: `${path}: no libavcodec version in -version` };
  const encoders = run('-encoders') ?? '';
  const muxers = run('-muxers') ?? '';
  const missing = [
    ...NEEDED_ENCODERS.filter((e) => !new RegExp(`^\\s*A\\S*\\s+${e}\\s`, 'm').test(encoders)),
    ...NEEDED_MUXERS.filter((m) => !new RegExp(`^\\s*D?E\\s+${m}\\s`, 'm').test(muxers)),
  ];
  if (missing.length > 0) return { ok: false, why: `${path} lacks ${missing.join(', ')}` };
  return { ok: true, version, libavcodec: [Number(lib[1]), Number(lib[2]), Number(lib[3])] };
}

/** `ffmpeg` on PATH, if any. */
function onPath(env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'ffmpeg');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

const newer = (a: readonly number[], b: readonly number[]): boolean => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return false;
};

/**
 * The decision, pure given the probes (unit-tested): FFMPEG_PATH as given; else the system build when
 * its libavcodec is newer than the embedded one's and it has every encoder; else the embedded build.
 */
export function chooseFfmpeg(c: {
  configured?: { path: string; probe: FfmpegProbe };
  system?: { path: string; probe: FfmpegProbe };
  embedded?: { path: string; probe: FfmpegProbe };
}): FfmpegChoice {
  if (c.configured) {
    if (!c.configured.probe.ok) throw new AntennaError('FFMPEG_NOT_FOUND', `FFMPEG_PATH: ${c.configured.probe.why}`, { fatal: true });
    return { path: c.configured.path, version: c.configured.probe.version, source: 'FFMPEG_PATH', why: 'set by FFMPEG_PATH' };
  }
  const sys = c.system?.probe.ok ? { path: c.system.path, probe: c.system.probe } : undefined;
  const emb = c.embedded?.probe.ok ? { path: c.embedded.path, probe: c.embedded.probe } : undefined;
  if (sys && (!emb || newer(sys.probe.libavcodec, emb.probe.libavcodec))) {
    return {
      path: sys.path,
      version: sys.probe.version,
      source: 'system',
      why: emb
        ? `newer than the embedded ${emb.probe.version} (libavcodec ${sys.probe.libavcodec.join('.')} > ${emb.probe.libavcodec.join('.')}) with every encoder: its LAME costs ~2.5x less CPU`
        : 'the embedded build is missing or unusable',
    };
  }
  if (emb) {
    const why = !c.system
      ? 'no ffmpeg on PATH'
      : !c.system.probe.ok
        ? `the system's is unusable (${c.system.probe.why})`
        : `the system's ${c.system.probe.version} is not newer`;
    return { path: emb.path, version: emb.probe.version, source: 'embedded', why };
  }
  const reasons = [c.system, c.embedded].map((x) => (x && !x.probe.ok ? x.probe.why : undefined)).filter(Boolean);
  throw new AntennaError(
    'FFMPEG_NOT_FOUND',
    `no usable ffmpeg: ${reasons.join('; ') || 'none found'} (run npm install, install ffmpeg, or set FFMPEG_PATH)`,
    { fatal: true },
  );
}

/** Probes the candidates and chooses (a few tens of ms at start-up). */
export function selectFfmpeg(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): FfmpegChoice {
  if (configured) return chooseFfmpeg({ configured: { path: resolveFfmpegPath(configured), probe: probeFfmpeg(configured) } });
  let embedded: { path: string; probe: FfmpegProbe } | undefined;
  try {
    const path = resolveFfmpegPath(undefined);
    embedded = { path, probe: probeFfmpeg(path) };
  } catch {
    embedded = undefined;
  }
  const sysPath = onPath(env);
  const system = sysPath && sysPath !== embedded?.path ? { path: sysPath, probe: probeFfmpeg(sysPath) } : undefined;
  return chooseFfmpeg({ ...(system ? { system } : {}), ...(embedded ? { embedded } : {}) });
}
