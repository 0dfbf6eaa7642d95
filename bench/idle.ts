// Always-on cost (issue 12): Antenna and the stack it replaces (Liquidsoap + Icecast + Nginx, see
// lib/old-stack.ts) in the same run, alternating (A-B-A-B-A-B-A by default), each with two MP3 studio
// sources connected, six mounts and three HLS tiers running and no listener, once each with music, speech
// and a tone on air (the encoders' cost depends on the programme). Reports CPU % of one core and PSS of
// every process tree, the ratio
// Antenna / old stack, and what the rest of the machine used during each window.
import { readFileSync, readlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { resolveFfmpegPath } from '../src/ffmpeg/path.js';
import { getText } from '../test/helpers/interop-http.js';
import { tempDir, until } from '../test/helpers/interop-programs.js';
import { startPcmSource, type PcmSource } from '../test/helpers/pcm-source.js';
import { machineCpu } from './lib/load-run.js';
import { OLD_HLS_MASTER, oldStackMissing, startOldStack, statusMounts, type OldStack } from './lib/old-stack.js';
import { measureTree, tree, type TreeUsage } from './lib/proctree.js';
import { SETTINGS } from '../src/config/settings.js';
import { programmePcm, speechPcm } from './lib/programme.js';
import { startServer, type BenchServer } from './lib/server.js';

const P = 440;
const F = 880;
const E = 660;
const SETTLE_MS = 5000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const r1 = (x: number): number => Math.round(x * 10) / 10;

/** What a window saw: the stack's own trees, and the machine around them. */
export interface IdleWindow {
  readonly stack: 'antenna' | 'old';
  /** Antenna: who encoded its AAC, as its start-up log says: `fdk-aac`, or `ffmpeg <coder>`. */
  readonly aac?: string;
  readonly cpuPercent: number;
  readonly pssMb: number;
  readonly processes: { tree: string; comm: string; cpuPercent: number; pssMb: number }[];
  /** CPU of the bench process and its source encoders (not part of either stack). */
  readonly harnessCpuPercent: number;
  /** CPU of everything else on the machine: a high figure means a disturbed window. */
  readonly otherCpuPercent: number;
  readonly sanity: IdleSanity;
}

/** Proof that the stack ran what it is charged for. */
export interface IdleSanity {
  /** Mounts with a source, from /status-json.xsl. */
  readonly mounts: string[];
  /** HLS media playlists served at /hls/ whose last segment moved on during the check. */
  readonly hlsAdvancing: string[];
  /** Bytes read from /listen/live-128.mp3 in 1 s (through Nginx for the old stack). */
  readonly listenBytes: number;
  /** Six mounts, three HLS tiers advancing and a mount that streams: the window measured the whole pipeline. */
  readonly ok: boolean;
}

/** The first series' figures at the top (the headline), every series below. */
export interface IdleResults extends IdleSeries {
  readonly windowS: number;
  readonly series: IdleSeries[];
  readonly versions: Record<string, string>;
}

/** Reads an HLS master playlist's media playlists twice, a segment apart; returns those that advanced. */
async function hlsAdvancing(masterUrl: string, segmentMs: number): Promise<string[]> {
  const master = await getText(masterUrl, undefined, 3000);
  if (master.status !== 200) return [];
  const media = master.body
    .split(/\r?\n/)
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => new URL(l, masterUrl).href);
  const last = async (u: string): Promise<string | undefined> => {
    const r = await getText(u, undefined, 3000);
    return r.status === 200
      ? r.body
          .split(/\r?\n/)
          .filter((l) => l !== '' && !l.startsWith('#'))
          .at(-1)
      : undefined;
  };
  const before = await Promise.all(media.map(last));
  await sleep(segmentMs + 1000);
  const after = await Promise.all(media.map(last));
  const moved: string[] = [];
  for (const [i, u] of media.entries()) {
    const seg = after[i];
    // The new segment must be served too, not just listed.
    if (seg !== undefined && seg !== before[i] && (await getText(new URL(seg, u).href, undefined, 3000)).status === 200)
      moved.push(new URL(u).pathname);
  }
  return moved;
}

/** Bytes of a listener mount read in `ms` (HTTP/1.0, no ICY). */
async function listenBytes(url: string, ms: number): Promise<number> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), ms);
  let n = 0;
  try {
    const res = await fetch(url, { signal: ctl.signal });
    for await (const chunk of res.body ?? []) n += (chunk as Uint8Array).length;
  } catch {
    /* aborted: the stream never ends by itself */
  } finally {
    clearTimeout(timer);
  }
  return n;
}

async function sanity(statusUrl: string, hlsMaster: string, listenUrl: string): Promise<IdleSanity> {
  const [mounts, hls, bytes] = await Promise.all([statusMounts(statusUrl), hlsAdvancing(hlsMaster, 4000), listenBytes(listenUrl, 1000)]);
  return { mounts, hlsAdvancing: hls, listenBytes: bytes, ok: mounts.length >= 6 && hls.length >= 3 && bytes > 0 };
}

/** Measures every root's tree, the bench's own tree and the machine over one window. */
async function measureWindow(
  stack: IdleWindow['stack'],
  roots: { tree: string; pid: number }[],
  ms: number,
  check: IdleSanity,
): Promise<IdleWindow> {
  const machine = machineCpu();
  // The bench's tree holds the stack's processes too (it spawned them): subtracted below.
  const [ours, ...trees] = await Promise.all([measureTree(process.pid, ms), ...roots.map((r) => measureTree(r.pid, ms))]);
  const all = machine();
  const usage = (trees as TreeUsage[]).map((t, i) => ({ tree: roots[i]!.tree, t }));
  const cpu = usage.reduce((a, u) => a + u.t.cpuPercent, 0);
  return {
    stack,
    cpuPercent: r1(cpu),
    pssMb: r1(usage.reduce((a, u) => a + u.t.pssMb, 0)),
    processes: usage.flatMap((u) => u.t.processes.map(({ comm, cpuPercent, pssMb }) => ({ tree: u.tree, comm, cpuPercent, pssMb }))),
    harnessCpuPercent: r1(Math.max(0, ours!.cpuPercent - cpu)),
    otherCpuPercent: r1(Math.max(0, all - ours!.cpuPercent)),
    sanity: check,
  };
}

/** "ffmpeg version X" (the build's banner goes on with its builder's address and copyright). */
const versionLine = (exe: string): string =>
  (spawnSync(exe, ['-version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '?').split(' ').slice(0, 3).join(' ');

/** The ffmpeg binaries running in Antenna's tree (by /proc/<pid>/exe) with their version lines, and what its log says. */
function antennaFfmpeg(server: BenchServer): string {
  const exes = new Set<string>();
  for (const pid of tree(server.pid)) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim().startsWith('ffmpeg')) exes.add(readlinkSync(`/proc/${pid}/exe`));
    } catch {
      /* exited meanwhile */
    }
  }
  const seen = [...exes].map((e) => `${e} (${versionLine(e)})`);
  // A start-up line naming the binary (issue 12 asks for one), not the children's stderr ("ffmpeg says").
  const said = server.logs.find(
    (l) =>
      l.msg !== 'ffmpeg says' && (typeof l.ffmpegPath === 'string' || (/ffmpeg/i.test(String(l.msg)) && ('path' in l || 'version' in l))),
  );
  return `${seen.join(', ') || '?'}; ${said ? `its log: ${JSON.stringify(said)}` : 'its log does not name it'}`;
}

async function runAntenna(
  log: (s: string) => void,
  ffmpeg: string,
  emergency: string,
  ms: number,
  versions: Record<string, string>,
  onAir: OnAirSignal,
  setup: AacSetup,
): Promise<IdleWindow> {
  let server: BenchServer | undefined;
  const sources: PcmSource[] = [];
  try {
    server = await startServer({
      ANTENNA_EMERGENCY_FILE: emergency,
      ANTENNA_AAC_ENCODER: setup.encoder,
      ANTENNA_AAC_CODER: setup.coder,
      ANTENNA_MP3_VORBIS_ENCODER: setup.mp3Vorbis,
    });
    const s = server;
    const url = (port: number): string => `icecast://source:${s.sourcePassword}@127.0.0.1:${port}/live`;
    sources.push(startPcmSource(ffmpeg, url(s.ports.fallback), F));
    sources.push(startPcmSource(ffmpeg, url(s.ports.primary), onAir));
    await until('Antenna switching to the primary', 30_000, () =>
      s.logs.some((l) => l.msg === 'switch' && l.to === 'primary') ? true : undefined,
    );
    await sleep(SETTLE_MS);
    const base = `http://127.0.0.1:${s.ports.http}`;
    const check = await sanity(`${base}/status-json.xsl`, `${base}/hls/master.m3u8`, `${base}/listen/live-128.mp3`);
    const w = await measureWindow('antenna', [{ tree: 'antenna', pid: s.pid }], ms, check);
    versions.antennaFfmpeg ??= antennaFfmpeg(s);
    const chosen = s.logs.find((l) => l.msg === 'aac encoder chosen');
    if (chosen?.engine === 'fdk-aac') versions.antennaAac ??= `libfdk-aac in the server (${String(chosen.why)})`;
    const mv = s.logs.find((l) => l.msg === 'mp3 and vorbis encoders chosen');
    if (mv?.mp3 === 'in-process') versions.antennaMp3Vorbis ??= `in the server (${String(mv.why)})`;
    const aac = chosen?.engine === 'fdk-aac' ? 'fdk-aac' : `ffmpeg ${setup.coder}`;
    return { ...w, aac: `${aac}, MP3/Vorbis ${mv?.mp3 === 'in-process' ? 'in-process' : 'ffmpeg'}` };
  } finally {
    await Promise.all(sources.map((x) => x.kill()));
    const code = await server?.stop();
    if (code !== 0 && code !== undefined && code !== null) log(`server exited with ${code}`);
  }
}

async function runOld(
  log: (s: string) => void,
  ffmpeg: string,
  emergency: string,
  ms: number,
  versions: Record<string, string>,
  onAir: OnAirSignal,
): Promise<IdleWindow> {
  let stack: OldStack | undefined;
  const sources: PcmSource[] = [];
  try {
    stack = await startOldStack({ emergencyFile: emergency });
    Object.assign(versions, stack.versions);
    sources.push(startPcmSource(ffmpeg, stack.sourceUrl('fallback'), F));
    sources.push(startPcmSource(ffmpeg, stack.sourceUrl('primary'), onAir));
    // Liquidsoap's harbor goes on air once 12 s are buffered (its default).
    await stack.waitOnAir('primary', 45_000);
    await sleep(SETTLE_MS);
    const check = await sanity(
      `http://127.0.0.1:${stack.ports.icecast}/status-json.xsl`,
      `${stack.base}/hls/${OLD_HLS_MASTER}`,
      `${stack.base}/listen/live-128.mp3`,
    );
    return await measureWindow(
      'old',
      stack.processes.map((p) => ({ tree: p.name, pid: p.pid })),
      ms,
      check,
    );
  } finally {
    await Promise.all(sources.map((x) => x.kill()));
    await stack?.close();
    log('old stack stopped');
  }
}

function describe(w: IdleWindow): string {
  const s = w.sanity;
  return (
    `${w.stack === 'antenna' ? 'Antenna  ' : 'old stack'} ${String(w.cpuPercent).padStart(5)} % of a core, PSS ${String(w.pssMb).padStart(5)} MB` +
    ` | harness ${w.harnessCpuPercent} %, others ${w.otherCpuPercent} %` +
    ` | sanity: ${s.mounts.length} mounts with a source, ${s.hlsAdvancing.length} HLS playlists advancing, ${s.listenBytes} B from /listen/live-128.mp3 in 1 s`
  );
}

function breakdown(w: IdleWindow): string {
  const by = new Map<string, { n: number; cpu: number; pss: number }>();
  for (const p of w.processes) {
    const k = `${p.tree}/${p.comm}`;
    const e = by.get(k) ?? { n: 0, cpu: 0, pss: 0 };
    by.set(k, { n: e.n + 1, cpu: e.cpu + p.cpuPercent, pss: e.pss + p.pssMb });
  }
  return [...by.entries()].map(([k, e]) => `${k}${e.n > 1 ? ` ×${e.n}` : ''} ${r1(e.cpu)} % / ${r1(e.pss)} MB`).join(', ');
}

/** One A-B-A series: the same on-air programme into both stacks. */
export interface IdleSeries {
  /** What the primary source plays: the encoders' cost depends on it (see programmePcm). */
  readonly programme: string;
  /** Who encoded Antenna's AAC in the alternating windows (the ratio's); other setups' windows follow them. */
  readonly aac: string;
  readonly windows: IdleWindow[];
  /** Mean of the Antenna windows that alternate with the old stack's. */
  readonly antenna: { cpuPercent: number; pssMb: number };
  /** Mean of the old stack's windows. */
  readonly old: { cpuPercent: number; pssMb: number } | { skipped: string };
  /** Antenna CPU / old stack CPU, of the means (issue 12's target ≤ 0.75). */
  readonly cpuRatio: number | null;
  /**
   * Each old-stack window against the mean of the Antenna windows either side of it: how far one
   * A-B-A would have moved the ratio (windows minutes apart drift by ±2 points on these machines).
   */
  readonly cpuRatioPerRound: number[];
  readonly pssRatio: number | null;
}

/**
 * Who encodes the AAC (ANTENNA_AAC_ENCODER) and, when ffmpeg does, with which coder (ANTENNA_AAC_CODER);
 * and who encodes MP3 and Vorbis (ANTENNA_MP3_VORBIS_ENCODER).
 */
interface AacSetup {
  readonly encoder: string;
  readonly coder: string;
  readonly mp3Vorbis: string;
}

/**
 * The setups measured after the alternating windows, one window each: ANTENNA_BENCH_IDLE_OTHERS, a comma-separated
 * list of `aacEncoder:aacCoder:mp3VorbisEncoder` (default `auto:auto:ffmpeg,ffmpeg:auto:in-process,ffmpeg:auto:ffmpeg`:
 * MP3 and Vorbis in ffmpeg as before 2026-12-03 with libfdk-aac; in-process without libfdk-aac, what a Debian
 * machine without non-free runs; and everything in ffmpeg; `0` for none).
 */
function otherSetups(main: AacSetup): AacSetup[] {
  const spec = process.env.ANTENNA_BENCH_IDLE_OTHERS ?? 'auto:auto:ffmpeg,ffmpeg:auto:in-process,ffmpeg:auto:ffmpeg';
  if (spec === '0' || spec === '') return [];
  return spec
    .split(',')
    .map((x) => x.trim().split(':'))
    .map(([encoder, coder, mp3Vorbis]) => ({
      encoder: encoder || 'ffmpeg',
      coder: coder || String(SETTINGS.aacCoder.default),
      mp3Vorbis: mp3Vorbis || String(SETTINGS.mp3VorbisEncoder.default),
    }))
    .filter((x) => x.encoder !== main.encoder || x.coder !== main.coder || x.mp3Vorbis !== main.mp3Vorbis);
}

/** A tone, or a programme's PCM to loop, on the primary source (the one on air). */
type OnAirSignal = number | { programme: Buffer };

async function runSeries(
  log: (s: string) => void,
  ffmpeg: string,
  emergency: string,
  ms: number,
  versions: Record<string, string>,
  programme: string,
  onAir: OnAirSignal,
  rounds: number,
): Promise<IdleSeries> {
  const windows: IdleWindow[] = [];
  const step = async (w: Promise<IdleWindow>): Promise<void> => {
    const x = await w;
    windows.push(x);
    log(describe(x));
    if (!x.sanity.ok) log(`  WARNING: the ${x.stack} stack did not run the whole pipeline in this window; its figure is not comparable`);
    log(`  per process: ${breakdown(x)}`);
  };
  log(`on air: ${programme}`);
  // The server's own AAC encoder (or the one the bench's environment sets) alternates with the old stack;
  // each other setup gets one more Antenna window after that, so its share is measured in the same run.
  const main: AacSetup = {
    encoder: process.env.ANTENNA_AAC_ENCODER ?? String(SETTINGS.aacEncoder.default),
    coder: process.env.ANTENNA_AAC_CODER ?? String(SETTINGS.aacCoder.default),
    mp3Vorbis: process.env.ANTENNA_MP3_VORBIS_ENCODER ?? String(SETTINGS.mp3VorbisEncoder.default),
  };
  // One old-stack window is the figure that drifts most (23–29 % with music within one day), so the old
  // stack gets `rounds` windows, each between two of Antenna's, and the ratio is of the means.
  await step(runAntenna(log, ffmpeg, emergency, ms, versions, onAir, main));
  const missing = oldStackMissing();
  if (missing) log(`old stack skipped: ${missing}`);
  for (let r = 0; r < (missing ? 0 : rounds); r++) {
    await step(runOld(log, ffmpeg, emergency, ms, versions, onAir));
    await step(runAntenna(log, ffmpeg, emergency, ms, versions, onAir, main));
  }
  for (const other of otherSetups(main)) await step(runAntenna(log, ffmpeg, emergency, ms, versions, onAir, other));

  // The alternating windows are the first 1 + 2·rounds; other setups' windows come after them.
  const alternating = windows.slice(0, missing ? 1 : 1 + 2 * rounds);
  const a = alternating.filter((w) => w.stack === 'antenna');
  const aac = a[0]?.aac ?? '?';
  const olds = alternating.filter((w) => w.stack === 'old');
  const mean = (ws: IdleWindow[], f: (w: IdleWindow) => number): number => r1(ws.reduce((s, w) => s + f(w), 0) / Math.max(1, ws.length));
  const antenna = { cpuPercent: mean(a, (w) => w.cpuPercent), pssMb: mean(a, (w) => w.pssMb) };
  const o = olds.length > 0 ? { cpuPercent: mean(olds, (w) => w.cpuPercent), pssMb: mean(olds, (w) => w.pssMb) } : undefined;
  const ratio = (x: number, y: number): number => Math.round((x / y) * 100) / 100;
  const cpuRatio = o && o.cpuPercent > 0 ? ratio(antenna.cpuPercent, o.cpuPercent) : null;
  const pssRatio = o && o.pssMb > 0 ? ratio(antenna.pssMb, o.pssMb) : null;
  const cpuRatioPerRound = olds.map((w, r) => ratio((a[r]!.cpuPercent + a[r + 1]!.cpuPercent) / 2, w.cpuPercent));
  log(`| window | stack | on air | CPU % of a core | PSS MB | others CPU % |`);
  log('| --- | --- | --- | ---: | ---: | ---: |');
  windows.forEach((w, i) =>
    log(
      `| ${i + 1} | ${w.stack === 'antenna' ? `Antenna, AAC ${w.aac}` : 'Liquidsoap + Icecast + Nginx'} | ${programme.split(' (')[0]} | ${w.cpuPercent} | ${w.pssMb} | ${w.otherCpuPercent} |`,
    ),
  );
  for (const w of windows.slice(alternating.length).filter((x) => x.stack === 'antenna'))
    log(`  with AAC ${w.aac}: ${w.cpuPercent} %${o ? `, ${ratio(w.cpuPercent, o.cpuPercent)}× the old stack` : ''}`);
  log(
    `Antenna (AAC ${aac}) / old stack, ${programme.split(' (')[0]} on air: CPU ${cpuRatio ?? '-'}× (mean ${antenna.cpuPercent} % against ${o?.cpuPercent ?? '-'} %; ` +
      `Antenna's windows ${a.map((w) => w.cpuPercent).join(', ')} %, the old stack's ${olds.map((w) => w.cpuPercent).join(', ')} %; ` +
      `each A-B-A alone ${cpuRatioPerRound.join(', ') || '-'}×), PSS ${pssRatio ?? '-'}× (${antenna.pssMb} MB against ${o?.pssMb ?? '-'} MB)`,
  );
  return {
    programme,
    aac,
    windows,
    antenna,
    old: o ?? { skipped: missing ?? 'not run' },
    cpuRatio,
    cpuRatioPerRound,
    pssRatio,
  };
}

/**
 * A-B-A with music on air (what a station pays: AAC's `twoloop` costs about twice as much on music as on
 * a steady tone), then with speech (a human voice), then with a tone (the figure earlier runs reported).
 * ANTENNA_BENCH_IDLE_PROGRAMMES picks them (`music,speech,tone` by default).
 */
export async function runIdle(log: (s: string) => void): Promise<IdleResults> {
  const windowS = Math.min(300, Math.max(5, Number(process.env.ANTENNA_BENCH_IDLE_WINDOW_S ?? 30) || 30));
  // ANTENNA_BENCH_IDLE_ROUNDS: old-stack windows per programme, each between two of Antenna's (3:
  // A-B-A-B-A-B-A). Three, not two: single windows of either stack move by ±2 points within a run, and
  // the 2026-11-30 runs' two A-B-As differed by up to 0.14 in ratio.
  const rounds = Math.min(5, Math.max(1, Math.floor(Number(process.env.ANTENNA_BENCH_IDLE_ROUNDS ?? 3) || 3)));
  const ms = windowS * 1000;
  const ffmpeg = resolveFfmpegPath(process.env.FFMPEG_PATH);
  const dir = tempDir('bench-idle');
  const versions: Record<string, string> = {};
  const wanted = (process.env.ANTENNA_BENCH_IDLE_PROGRAMMES ?? 'music,speech,tone').split(',').map((x) => x.trim());
  try {
    const emergency = join(dir.path, 'emergency.mp3');
    const args = ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `sine=frequency=${E}:duration=6`, '-ac', '2'];
    spawnSync(ffmpeg, [...args, '-c:a', 'libmp3lame', '-y', emergency]);
    const order = ['Antenna', ...Array.from({ length: rounds }, () => ['old stack', 'Antenna']).flat()].join(', ');
    log(`window ${windowS} s each, alternating (${order}); two MP3 128k sources, no listener`);
    const series: IdleSeries[] = [];
    for (const w of wanted) {
      if (w === 'music') {
        // As long as a window, so every window hears the same music whatever the phase it starts at.
        const m = programmePcm(ffmpeg, windowS);
        series.push(await runSeries(log, ffmpeg, emergency, ms, versions, m.name, { programme: m.pcm }, rounds));
      } else if (w === 'speech') {
        const m = speechPcm(ffmpeg, windowS);
        if (m) series.push(await runSeries(log, ffmpeg, emergency, ms, versions, m.name, { programme: m.pcm }, rounds));
        else log('speech skipped: ktuberling-data is not installed (apt-get install ktuberling-data)');
      } else if (w === 'tone') series.push(await runSeries(log, ffmpeg, emergency, ms, versions, `a ${P} Hz tone`, P, rounds));
      else throw new Error(`ANTENNA_BENCH_IDLE_PROGRAMMES: unknown programme ${w} (music, speech, tone)`);
    }
    for (const [k, v] of Object.entries(versions)) log(`version ${k}: ${v}`);
    const head = series[0]!;
    return { windowS, ...head, series, versions };
  } finally {
    dir.remove();
  }
}
