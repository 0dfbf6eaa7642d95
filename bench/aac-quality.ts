// AAC quality bench: does ffmpeg's `-aac_coder fast` keep the quality of `twoloop` at the mounts' AAC bitrates, and
// does libfdk-aac (the in-process encoder, src/encoders/fdk-aac.ts) keep the quality of what ffmpeg gave?
// Music, speech and a transient stress item are encoded with the server's own argument builder (and the server's own
// FDK wrapper, fed 20 ms writes as the mixer feeds it), decoded, aligned by cross-correlation and graded with PEAQ
// (ITU-R BS.1387 ODG, GstPEAQ's `peaq`), plus a spectrum check.
//
// Not part of `npm run bench`. Heavy: run it niced under the bench lock, e.g.
//   PEAQ_BIN=/tmp/gstpeaq/inst/bin/peaq flock /tmp/antenna-bench.lock nice -n 19 npx tsx bench/aac-quality.ts
// Env: PEAQ_BIN (GstPEAQ's `peaq`; without it only the spectrum part runs), AACQ_FFMPEG (default /usr/bin/ffmpeg,
// the binary the server selects), AACQ_ITEMS (comma-separated item names or prefixes: `music-xm,speech-`),
// AACQ_PEAQ_ADVANCED=1 (advanced model too), AACQ_CODERS (default `twoloop,fast`, and `fdk` when libfdk-aac loads). About 25 s of CPU per item (2026-11): the 19 items took ~13 min together on 2026-12-02.
// Material comes from Debian packages: fb-music-high, hyperrogue-music, alsa-utils and ktuberling-data (recorded
// voices), espeak-ng (synthetic voice).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadFdkAac, type FdkAacLibrary } from '../src/encoders/fdk-aac.js';
import { encoderArgs, type EncoderArgsSpec } from '../src/ffmpeg/args.js';
import { BYTES_PER_FRAME, SAMPLE_RATE } from '../src/types/pcm.js';
import { concatInput, words } from './lib/programme.js';

const FFMPEG = process.env.AACQ_FFMPEG ?? '/usr/bin/ffmpeg';
const PEAQ_BIN = process.env.PEAQ_BIN;
const ADVANCED = process.env.AACQ_PEAQ_ADVANCED === '1';
const BITRATES = [64_000, 128_000, 192_000] as const;
type Coder = 'twoloop' | 'fast' | 'fdk';
// libfdk-aac is loaded by main() when present (Debian non-free's libfdk-aac2); without it the FDK column is empty.
let fdk: FdkAacLibrary | undefined;
const wantedCoders = (): Coder[] =>
  (process.env.AACQ_CODERS?.split(',') ?? ['twoloop', 'fast', 'fdk']).filter(
    (c): c is Coder => (c === 'twoloop' || c === 'fast' || c === 'fdk') && (c !== 'fdk' || fdk !== undefined),
  );
/** What the server ran at each bitrate before FDK: `auto` is twoloop below 192 kb/s, fast from it. */
const ffmpegAuto = (b: number): Coder => (b >= 192_000 ? 'fast' : 'twoloop');
/** The mixer's write: 20 ms of s16le stereo. */
const CHUNK = (SAMPLE_RATE / 50) * BYTES_PER_FRAME;
const MAX_LAG = 4096; // samples: AAC priming is 1024 (up to 2112 with SBR), MP3's encoder+decoder delay ~1600
const FFT = 2048;
// Zwicker's critical-band edges (Hz); the last band runs to Nyquist.
// prettier-ignore
const BARK_EDGES = [
  0, 100, 200, 300, 400, 510, 630, 770, 920, 1080, 1270, 1480, 1720, 2000, 2320, 2700, 3150, 3700, 4400, 5300, 6400, 7700,
  9500, 12000, 15500, SAMPLE_RATE / 2,
];
// The reference "has content" at a frequency within this many dB of its spectral peak.
const CONTENT_FLOOR_DB = 80;
// A frequency is "passed" while the decoded level is within this many dB of the reference's there. 20, not 40: above
// each coder's cut its residue (PNS, leakage) sits 35-45 dB under the reference, so 40 dB reports the reference's top.
const PASS_DB = 20;

type Kind = 'music' | 'speech' | 'stress';

interface Item {
  readonly name: string;
  readonly kind: Kind;
  readonly note: string;
  /** ffmpeg input arguments (and filter) that render the item; null when its package is missing. */
  readonly input: () => string[] | null;
}

interface Graded {
  readonly lag: number;
  readonly corr: number;
  readonly odg: number | null;
  readonly odgAdvanced: number | null;
  readonly bandwidthHz: number;
  /** Long-term noise-to-signal ratio (dB) per Bark band; null where the reference has no energy. */
  readonly nsrDb: (number | null)[];
}

class BenchError extends Error {
  constructor(
    readonly code: 'AACQ_FFMPEG' | 'AACQ_PEAQ' | 'AACQ_ALIGN',
    message: string,
  ) {
    super(message);
  }
}

const work = mkdtempSync(join(tmpdir(), 'aacq-'));
const log = (s: string): void => void process.stderr.write(`${s}\n`);

function run(cmd: string, args: string[], input?: Buffer, env?: NodeJS.ProcessEnv): Buffer {
  const r = spawnSync(cmd, args, { input, env: env ?? process.env, maxBuffer: 1 << 30 });
  if (r.status !== 0)
    throw new BenchError('AACQ_FFMPEG', `${cmd} ${args.join(' ')}: ${r.error?.message ?? r.stderr.toString().slice(-500)}`);
  return r.stdout;
}

const fileInput = (path: string, from: number, seconds: number): string[] | null =>
  existsSync(path) ? ['-ss', String(from), '-t', String(seconds), '-i', path] : null;

const ALSA_VOICES = ['Front_Left', 'Front_Center', 'Front_Right', 'Side_Left', 'Side_Right', 'Rear_Left', 'Rear_Center', 'Rear_Right'];
const SPEECH_TEXT =
  'The quick brown fox jumps over the lazy dog. This is a test of speech quality over the internet radio stream, ' +
  'read at an ordinary pace. Sibilants such as s, sh and f, and plosives such as p, t and k, are what a codec smears first.';

const XM = '/usr/share/games/frozen-bubble/snd/frozen-mainzik-2p.xm';
const HR = '/usr/share/hyperrogue/music';
// [name, file, start s, what it is]: 15 s each, from different pieces and parts. The .ogg sources are Vorbis at
// 260-480 kb/s: transparent enough to serve as references, and full-band (see "content up to" in the report).
const MUSIC: [string, string, number, string][] = [
  ['music-xm-a', XM, 30, 'fb-music-high frozen-mainzik-2p.xm (tracker module, rendered full-band)'],
  ['music-xm-b', XM, 60, 'fb-music-high frozen-mainzik-2p.xm'],
  ['music-xm-c', XM, 120, 'fb-music-high frozen-mainzik-2p.xm'],
  ['music-jungle-a', `${HR}/hr3-jungle.ogg`, 20, 'hyperrogue-music hr3-jungle (Vorbis ~480 kb/s)'],
  ['music-jungle-b', `${HR}/hr3-jungle.ogg`, 45, 'hyperrogue-music hr3-jungle'],
  ['music-desert-a', `${HR}/hr3-desert.ogg`, 20, 'hyperrogue-music hr3-desert (Vorbis ~470 kb/s)'],
  ['music-desert-b', `${HR}/hr3-desert.ogg`, 45, 'hyperrogue-music hr3-desert'],
  ['music-icyland-a', `${HR}/hr3-icyland.ogg`, 20, 'hyperrogue-music hr3-icyland (Vorbis ~450 kb/s)'],
  ['music-icyland-b', `${HR}/hr3-icyland.ogg`, 50, 'hyperrogue-music hr3-icyland'],
  ['music-caves', `${HR}/hr3-caves.ogg`, 20, 'hyperrogue-music hr3-caves (Vorbis ~440 kb/s)'],
  ['music-mountain-a', `${HR}/hr-domina-mountain.ogg`, 30, 'hyperrogue-music hr-domina-mountain (Vorbis ~330 kb/s)'],
  ['music-mountain-b', `${HR}/hr-domina-mountain.ogg`, 60, 'hyperrogue-music hr-domina-mountain'],
  ['music-hunting', `${HR}/hr-domina-hunting.ogg`, 20, 'hyperrogue-music hr-domina-hunting (Vorbis ~320 kb/s)'],
  ['music-palace', `${HR}/hr-savino-palace.ogg`, 20, 'hyperrogue-music hr-savino-palace (Vorbis ~260 kb/s)'],
];

const ITEMS: Item[] = [
  ...MUSIC.map(([name, file, from, note]): Item => ({
    name,
    kind: 'music',
    note: `${note}, from ${from} s`,
    input: () => fileInput(file, from, 15),
  })),
  {
    name: 'speech-alsa',
    kind: 'speech',
    note: "alsa-utils' recorded voice prompts, eight concatenated (one human speaker, 48 kHz mono)",
    input: () => concatInput(ALSA_VOICES.map((v) => `/usr/share/sounds/alsa/${v}.wav`)),
  },
  {
    name: 'speech-words-en',
    kind: 'speech',
    note: 'ktuberling-data English words, 16 concatenated (one human speaker, Vorbis ~500 kb/s)',
    input: () => concatInput(words('en', 16)),
  },
  {
    name: 'speech-words-ru',
    kind: 'speech',
    note: 'ktuberling-data Russian words, 16 concatenated (another human speaker, Vorbis ~350 kb/s)',
    input: () => concatInput(words('ru', 16)),
  },
  {
    name: 'speech-espeak',
    kind: 'speech',
    note: 'espeak-ng en-gb, synthetic, rendered at 22.05 kHz (nothing above 11 kHz)',
    input: () => {
      const wav = join(work, 'espeak.wav');
      if (spawnSync('espeak-ng', ['-v', 'en-gb', '-s', '150', '-w', wav, SPEECH_TEXT]).status !== 0) return null;
      return ['-i', wav];
    },
  },
  {
    name: 'stress-clicks',
    kind: 'stress',
    note: 'synthetic castanet-like bursts: decaying noise + 2.4 kHz ring every 230 ms, silence between (pre-echo test)',
    // prettier-ignore
    input: () => ['-f', 'lavfi', '-i',
      "aevalsrc=exprs='0.5*exp(-60*mod(t,0.23))*(2*random(0)-1)+0.3*exp(-90*mod(t,0.23))*sin(2*PI*2400*t)':s=44100:d=12",
      '-af', 'highpass=f=300'],
  },
];

/** The item as the mixer would feed it: s16le 44.1 kHz stereo. */
function render(item: Item): Buffer | null {
  const input = item.input();
  if (!input) return null;
  return run(FFMPEG, ['-hide_banner', '-loglevel', 'error', ...input, '-ac', '2', '-ar', String(SAMPLE_RATE), '-f', 's16le', 'pipe:1']);
}

/** Encode exactly as a mount does (the server's own argument builder), then decode to float, unclipped. */
function codec(pcm: Buffer, spec: EncoderArgsSpec): Float32Array {
  const coded = run(FFMPEG, encoderArgs(spec), pcm);
  const demuxer = spec.codec === 'aac' ? 'aac' : 'mp3';
  const f32 = run(
    FFMPEG,
    ['-hide_banner', '-loglevel', 'error', '-f', demuxer, '-i', 'pipe:0', '-ac', '2', '-f', 'f32le', 'pipe:1'],
    coded,
  );
  return new Float32Array(f32.buffer, f32.byteOffset, f32.length / 4);
}

/** Encode with libfdk-aac as the server does (20 ms writes, the same settings), then decode like the others. */
function fdkCodec(pcm: Buffer, bitrate: number): Float32Array {
  if (!fdk) throw new BenchError('AACQ_FFMPEG', 'libfdk-aac is not loaded');
  const enc = fdk.open(bitrate);
  const out: Buffer[] = [];
  try {
    for (let at = 0; at < pcm.length; at += CHUNK) out.push(...enc.encode(pcm.subarray(at, at + CHUNK)));
    // Push the encoder's delay out with silence so the tail is graded like ffmpeg's flushed tail.
    out.push(...enc.encode(Buffer.alloc(4 * 1024 * BYTES_PER_FRAME)));
  } finally {
    enc.close();
  }
  const f32 = run(
    FFMPEG,
    ['-hide_banner', '-loglevel', 'error', '-f', 'aac', '-i', 'pipe:0', '-ac', '2', '-f', 'f32le', 'pipe:1'],
    Buffer.concat(out),
  );
  return new Float32Array(f32.buffer, f32.byteOffset, f32.length / 4);
}

function s16ToF32(pcm: Buffer): Float32Array {
  const s = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2);
  return Float32Array.from(s, (v) => v / 32768);
}

const mono = (x: Float32Array): Float64Array =>
  Float64Array.from({ length: x.length / 2 }, (_, i) => (x[2 * i] ?? 0) + (x[2 * i + 1] ?? 0));

/**
 * The decoder's delay: the lag (0..MAX_LAG samples) that maximises the normalised correlation between the reference
 * and the decoded signal over the item's loudest 1.5 s. A codec's added delay is never negative.
 */
function align(ref: Float32Array, dec: Float32Array): { lag: number; corr: number } {
  const r = mono(ref);
  const d = mono(dec);
  const win = Math.min(1.5 * SAMPLE_RATE, r.length - MAX_LAG);
  let start = 0;
  let best = -1;
  for (let s = 0; s + win <= r.length - MAX_LAG; s += SAMPLE_RATE / 2) {
    let e = 0;
    for (let n = s; n < s + win; n += 8) e += (r[n] ?? 0) ** 2;
    if (e > best) [best, start] = [e, s];
  }
  let er = 0;
  for (let n = start; n < start + win; n++) er += (r[n] ?? 0) ** 2;
  let lag = 0;
  let corr = -Infinity;
  for (let l = 0; l <= MAX_LAG; l++) {
    let c = 0;
    let ed = 0;
    for (let n = start; n < start + win; n++) {
      const v = d[n + l] ?? 0;
      c += (r[n] ?? 0) * v;
      ed += v * v;
    }
    const k = c / Math.sqrt(er * ed || 1);
    if (k > corr) [corr, lag] = [k, l];
  }
  return { lag, corr };
}

/** In-place radix-2 FFT (re, im); n a power of two. */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j] as number, re[i] as number];
      [im[i], im[j]] = [im[j] as number, im[i] as number];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(ang * k);
        const wi = Math.sin(ang * k);
        const a = i + k;
        const b = a + len / 2;
        const xr = (re[b] as number) * wr - (im[b] as number) * wi;
        const xi = (re[b] as number) * wi + (im[b] as number) * wr;
        re[b] = (re[a] as number) - xr;
        im[b] = (im[a] as number) - xi;
        re[a] = (re[a] as number) + xr;
        im[a] = (im[a] as number) + xi;
      }
    }
  }
}

/** Long-term power spectrum (Hann, 50 % overlap), both channels summed. */
function spectrum(x: Float32Array): Float64Array {
  const out = new Float64Array(FFT / 2 + 1);
  const hann = Float64Array.from({ length: FFT }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / FFT));
  for (let ch = 0; ch < 2; ch++) {
    for (let s = 0; s + FFT <= x.length / 2; s += FFT / 2) {
      const re = Float64Array.from({ length: FFT }, (_, i) => (x[2 * (s + i) + ch] ?? 0) * (hann[i] ?? 0));
      const im = new Float64Array(FFT);
      fft(re, im);
      for (let k = 0; k <= FFT / 2; k++) out[k] = (out[k] ?? 0) + (re[k] ?? 0) ** 2 + (im[k] ?? 0) ** 2;
    }
  }
  return out;
}

const db = (p: number): number => 10 * Math.log10(p + 1e-30);
const binHz = SAMPLE_RATE / FFT;

/** Smoothed over ~200 Hz so a single empty bin does not decide the bandwidth. */
function smooth(p: Float64Array): Float64Array {
  return p.map((_, k) => {
    let s = 0;
    for (let j = Math.max(0, k - 4); j <= Math.min(p.length - 1, k + 4); j++) s += p[j] ?? 0;
    return s;
  });
}

/** Highest frequency the reference has content at. */
function contentTop(ref: Float64Array): number {
  const sr = smooth(ref);
  const floor = db(Math.max(...sr)) - CONTENT_FLOOR_DB;
  for (let k = sr.length - 1; k > 0; k--) if (db(sr[k] ?? 0) > floor) return k * binHz;
  return 0;
}

/** Coded bandwidth: the highest frequency, among those the reference has content at, where the decoded level is within PASS_DB of it. */
function bandwidth(ref: Float64Array, dec: Float64Array): number {
  const [sr, sd] = [smooth(ref), smooth(dec)];
  const floor = db(Math.max(...sr)) - CONTENT_FLOOR_DB;
  for (let k = sr.length - 1; k > 0; k--) {
    const r = db(sr[k] ?? 0);
    if (r > floor && db(sd[k] ?? 0) >= r - PASS_DB) return k * binHz;
  }
  return 0;
}

function nsrPerBark(ref: Float64Array, noise: Float64Array): (number | null)[] {
  const floor = db(Math.max(...ref)) - CONTENT_FLOOR_DB;
  return BARK_EDGES.slice(0, -1).map((lo, b) => {
    const hi = BARK_EDGES[b + 1] as number;
    let [s, n] = [0, 0];
    for (let k = Math.ceil(lo / binHz); k < hi / binHz && k < ref.length; k++) [s, n] = [s + (ref[k] ?? 0), n + (noise[k] ?? 0)];
    const bins = Math.max(1, Math.ceil(hi / binHz) - Math.ceil(lo / binHz));
    return db(s / bins) > floor ? db(n) - db(s) : null;
  });
}

/** 48 kHz float WAV for PEAQ; ffmpeg's default resampler, identical for reference and test. */
function wav48(x: Float32Array, name: string): string {
  const path = join(work, name);
  const buf = Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  // prettier-ignore
  run(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'f32le', '-ar', String(SAMPLE_RATE), '-ac', '2', '-i', 'pipe:0',
    '-ar', '48000', '-c:a', 'pcm_f32le', path], buf);
  return path;
}

function peaq(refWav: string, testWav: string, advanced: boolean): number | null {
  if (!PEAQ_BIN) return null;
  // A /tmp build (`make install` into a prefix) keeps its plugin beside the binary: point GStreamer at it.
  const plugins = join(dirname(PEAQ_BIN), '..', 'lib', 'gstreamer-1.0');
  const env = existsSync(plugins) && !process.env.GST_PLUGIN_PATH ? { ...process.env, GST_PLUGIN_PATH: plugins } : process.env;
  const out = run(PEAQ_BIN, [...(advanced ? ['--advanced'] : []), refWav, testWav], undefined, env).toString();
  const m = /Objective Difference Grade:\s*(\S+)/.exec(out);
  const odg = m ? Number(m[1]) : NaN;
  if (!Number.isFinite(odg)) throw new BenchError('AACQ_PEAQ', `peaq gave no ODG: ${out.trim()}`);
  return odg;
}

function grade(ref: Float32Array, refSpec: Float64Array, dec: Float32Array, tag: string): Graded {
  const { lag, corr } = align(ref, dec);
  // A misaligned PEAQ is meaningless: refuse rather than print a number. Noise coded by PNS at 64k decorrelates
  // (0.8 on the click item), so the bar is low; the per-item lag list in the report is the real check.
  if (corr < 0.5) throw new BenchError('AACQ_ALIGN', `${tag}: best correlation ${corr.toFixed(3)} at lag ${lag}, not aligned`);
  const frames = Math.min(ref.length / 2, dec.length / 2 - lag);
  const r = ref.subarray(0, frames * 2);
  const t = dec.subarray(lag * 2, (lag + frames) * 2);
  const noise = Float32Array.from(r, (v, i) => v - (t[i] ?? 0));
  const refWav = wav48(r, 'ref.wav');
  const testWav = wav48(t, 'test.wav');
  return {
    lag,
    corr,
    odg: peaq(refWav, testWav, false),
    odgAdvanced: ADVANCED ? peaq(refWav, testWav, true) : null,
    bandwidthHz: bandwidth(refSpec, spectrum(t)),
    nsrDb: nsrPerBark(refSpec, spectrum(noise)),
  };
}

const fmt = (v: number | null, d = 2): string => (v === null ? '–' : v.toFixed(d));
const khz = (hz: number): string => (hz / 1000).toFixed(1);
/** Mean NSR (dB) over Bark bands [from, to), skipping bands without reference content. */
function meanNsr(g: Graded, from: number, to: number): string {
  const v = g.nsrDb.slice(from, to).filter((x): x is number => x !== null);
  return v.length ? (v.reduce((a, b) => a + b, 0) / v.length).toFixed(1) : '–';
}

/** A comparison the report summarises: the candidate's ODG minus the baseline's, per bitrate. */
interface Pair {
  readonly label: string;
  readonly test: (b: number) => string;
  readonly base: (b: number) => string;
}

async function main(): Promise<void> {
  const only = process.env.AACQ_ITEMS?.split(',');
  fdk = await loadFdkAac().catch((err: unknown) => {
    log(`libfdk-aac not loaded, no FDK column: ${(err as Error).message}`);
    return undefined;
  });
  const coders = wantedCoders();
  const ffv = run(FFMPEG, ['-hide_banner', '-version']).toString().split('\n')[0] ?? '?';
  const peaqv = PEAQ_BIN ? (run(PEAQ_BIN, ['--version']).toString().split('\n')[0] ?? '?') : 'none';
  const results: { item: Item; contentHz: number; self: number | null; rows: Map<string, Graded> }[] = [];
  for (const item of ITEMS.filter((i) => !only || only.some((p) => i.name.startsWith(p)))) {
    const pcm = render(item);
    if (!pcm) {
      log(`${item.name}: skipped, source missing (${item.note})`);
      continue;
    }
    const ref = s16ToF32(pcm);
    const refSpec = spectrum(ref);
    const refWav = wav48(ref, 'self.wav');
    const rows = new Map<string, Graded>();
    const variants: [string, () => Float32Array][] = [
      ...BITRATES.flatMap((b) =>
        coders.map((c): [string, () => Float32Array] => [
          `${c}@${b}`,
          c === 'fdk' ? () => fdkCodec(pcm, b) : () => codec(pcm, { codec: 'aac', bitrate: b, aacCoder: c }),
        ]),
      ),
      ['mp3@128000', () => codec(pcm, { codec: 'mp3', bitrate: 128_000 })],
    ];
    for (const [key, encode] of variants) {
      const g = grade(ref, refSpec, encode(), `${item.name} ${key}`);
      rows.set(key, g);
      log(`${item.name} ${key}: lag ${g.lag}, r=${g.corr.toFixed(4)}, ODG ${fmt(g.odg)}, BW ${khz(g.bandwidthHz)} kHz`);
    }
    results.push({ item, contentHz: contentTop(refSpec), self: peaq(refWav, refWav, false), rows });
  }
  rmSync(work, { recursive: true, force: true });

  const fdkv = fdk ? `; FDK: ${fdk.name}` : '';
  const out: string[] = [`AAC quality, ${ffv}${fdkv}; PEAQ: ${peaqv}${ADVANCED ? ' (basic; advanced in brackets)' : ' (basic)'}`, ''];
  if (!PEAQ_BIN) {
    out.push(
      'No PEAQ_BIN: ODG columns empty. Build GstPEAQ outside the repo (github HSU-ANT/gstpeaq; Debian: libgstreamer1.0-dev,',
      'libgstreamer-plugins-base1.0-dev, gstreamer1.0-plugins-good, autotools; ./autogen.sh && ./configure --prefix=/tmp/gstpeaq/inst',
      '&& make -C src install; the doc/ man page target fails on Debian 12, the tool does not need it) and set PEAQ_BIN=/tmp/gstpeaq/inst/bin/peaq.',
      '',
    );
  }
  const odg = (g: Graded | undefined): string =>
    ADVANCED ? `${fmt(g?.odg ?? null)} [${fmt(g?.odgAdvanced ?? null)}]` : fmt(g?.odg ?? null);
  out.push(
    `| item | kb/s | ${coders.map((c) => `${c} ODG`).join(' | ')} | ${coders.map((c) => `BW ${c} kHz`).join(' | ')} |`,
    `|---|---|${coders.map(() => '---|---|').join('')}`,
  );
  for (const { item, rows } of results) {
    for (const b of BITRATES) {
      const g = coders.map((c) => rows.get(`${c}@${b}`));
      out.push(`| ${item.name} | ${b / 1000} | ${g.map(odg).join(' | ')} | ${g.map((x) => khz(x?.bandwidthHz ?? 0)).join(' | ')} |`);
    }
    const m = rows.get('mp3@128000');
    const pad = coders.slice(1).map(() => '');
    out.push(`| ${[item.name, 'MP3 128 (calibration)', odg(m), ...pad, khz(m?.bandwidthHz ?? 0), ...pad].join(' | ')} |`);
  }
  // Per kind and bitrate: how far each candidate is from its baseline on average and on the item where it does worst.
  const pairs: Pair[] = [
    ...(coders.includes('fast') && coders.includes('twoloop')
      ? [{ label: 'fast − twoloop', test: (b: number) => `fast@${b}`, base: (b: number) => `twoloop@${b}` }]
      : []),
    ...(coders.includes('fdk') && coders.includes('twoloop')
      ? [{ label: 'fdk − twoloop', test: (b: number) => `fdk@${b}`, base: (b: number) => `twoloop@${b}` }]
      : []),
    ...(coders.includes('fdk') && coders.includes('twoloop') && coders.includes('fast')
      ? [{ label: 'fdk − ffmpeg auto', test: (b: number) => `fdk@${b}`, base: (b: number) => `${ffmpegAuto(b)}@${b}` }]
      : []),
  ];
  for (const pair of pairs) {
    out.push('', `${pair.label} ODG per kind (negative: the first is worse):`, '');
    out.push('| kind | kb/s | items | mean | worst item | items worse by > 0.1 |', '|---|---|---|---|---|---|');
    for (const kind of ['music', 'speech', 'stress'] as const) {
      for (const b of BITRATES) {
        const d = results
          .filter((r) => r.item.kind === kind)
          .map((r) => ({ name: r.item.name, t: r.rows.get(pair.test(b)), s: r.rows.get(pair.base(b)) }))
          .map(({ name, t, s }) => ({
            name,
            basic: (t?.odg ?? NaN) - (s?.odg ?? NaN),
            adv: (t?.odgAdvanced ?? NaN) - (s?.odgAdvanced ?? NaN),
          }))
          .filter((x) => Number.isFinite(x.basic));
        if (d.length === 0) continue;
        const mean = (k: 'basic' | 'adv'): number => d.reduce((a, x) => a + x[k], 0) / d.length;
        const worst = (k: 'basic' | 'adv'): string => {
          const w = d.reduce((a, x) => (x[k] < a[k] ? x : a));
          return `${fmt(w[k])} (${w.name})`;
        };
        const worse = (k: 'basic' | 'adv'): number => d.filter((x) => x[k] < -0.1).length;
        const cell = (f: (k: 'basic' | 'adv') => string | number): string =>
          ADVANCED ? `${f('basic')} [${f('adv')}]` : String(f('basic'));
        out.push(`| ${kind} | ${b / 1000} | ${d.length} | ${cell((k) => fmt(mean(k)))} | ${cell(worst)} | ${cell(worse)} |`);
      }
    }
  }
  out.push('', `Noise-to-signal ratio (dB, long-term, mean over Bark bands; lower is better), ${coders.join(' / ')}:`, '');
  out.push('| item | kb/s | 0–6.4 kHz | 6.4–15.5 kHz | 15.5 kHz+ |', '|---|---|---|---|---|');
  for (const { item, rows } of results) {
    for (const b of BITRATES) {
      const g = coders.map((c) => rows.get(`${c}@${b}`));
      if (g.some((x) => !x)) continue;
      const cell = (from: number, to: number): string => g.map((x) => meanNsr(x as Graded, from, to)).join(' / ');
      out.push(`| ${item.name} | ${b / 1000} | ${cell(0, 20)} | ${cell(20, 24)} | ${cell(24, 25)} |`);
    }
  }
  out.push('', '| item | kind | content up to kHz | PEAQ ref vs itself | lags AAC; MP3 (min r) | source |', '|---|---|---|---|---|---|');
  for (const { item, contentHz, self, rows } of results) {
    const all = [...rows.entries()];
    const lags = (mp3: boolean): string => [...new Set(all.filter(([k]) => k.startsWith('mp3') === mp3).map(([, g]) => g.lag))].join(',');
    const minCorr = Math.min(...all.map(([, g]) => g.corr)).toFixed(3);
    out.push(
      `| ${item.name} | ${item.kind} | ${khz(contentHz)} | ${fmt(self)} | ${lags(false)}; ${lags(true)} (${minCorr}) | ${item.note} |`,
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((err: unknown) => {
  log(`aac-quality: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
