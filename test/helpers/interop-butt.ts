// BUTT 0.1.37 (Debian `butt`) for the interop suite: a headless X display, a paced test tone as its
// "sound card" (an ALSA `file` PCM reading a FIFO), its config file, and its command-line remote.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync } from 'node:fs';
import { resolveFfmpegPath } from '../../src/ffmpeg/path.js';
import { run, start, until, type Running } from './interop-programs.js';
import { descendants } from './interop-server.js';

/** BUTT's server `type` values (cfg.h: SHOUTCAST = 0, ICECAST = 1). */
export type ButtMode = 'icecast' | 'shoutcast';

export interface ButtServerConfig {
  readonly mode: ButtMode;
  /** Icecast: the source port. Shoutcast: the base port (BUTT streams to port + 1, titles go to port). */
  readonly port: number;
  readonly password: string;
  /** Icecast only (BUTT adds the leading slash). */
  readonly mount?: string;
}

/** A complete ~/.buttrc-style config: one server, one stream-info preset, MP3 128k from `default`. */
export function buttConfig(s: ButtServerConfig): string {
  return `[main]
server = antenna
icy = info
num_of_srv = 1
num_of_icy = 1
srv_ent = antenna
icy_ent = info
song_path =
song_update = 0
log_file =
gain = 1.0
check_for_update = 0
connect_at_startup = 0
force_reconnecting = 0

[audio]
device = default
samplerate = 44100
bitrate = 128
channel = 2
codec = mp3
resample_mode = 1
buffer_ms = 50

[antenna]
address = 127.0.0.1
port = ${s.port}
password = ${s.password}
type = ${s.mode === 'icecast' ? 1 : 0}
mount = ${s.mount ?? 'butt.mp3'}
usr = source

[info]
description = Butt Desc
genre = ButtGenre
url = http://butt.example
irc =
icq =
aim =
pub = 0

[gui]
attach = 0
ontop = 0
lcd_auto = 0
`;
}

/**
 * ~/.asoundrc making ALSA's `default` PCM (the device PortAudio opens for BUTT's `device = default`)
 * read raw s16le stereo 44.1 kHz from `fifo`. The `plug` wrapper matters: PortAudio asks for float
 * samples, and a bare `file` PCM would hand it our int16 bytes as floats (LAME then aborts on the
 * garbage with `psymodel.c: calc_energy: Assertion 'el >= 0' failed`).
 */
export function toneAsoundrc(fifo: string): string {
  return `pcm.antennatone {
  type file
  slave.pcm "null"
  file "/dev/null"
  infile "${fifo}"
  format "raw"
}
pcm.!default {
  type plug
  slave {
    pcm "antennatone"
    format S16_LE
    rate 44100
    channels 2
  }
}
`;
}

/** A sine on a FIFO at real time, for BUTT's capture device; `close()` stops the feeder and drops the FIFO hold. */
export interface ToneFeed {
  readonly feeder: Running;
  close(): Promise<void>;
}

/**
 * Starts ffmpeg writing a paced sine into a new FIFO `fifo`. PortAudio opens and closes every ALSA
 * device while it enumerates them: each close would leave a plain writer with EPIPE (ffmpeg exits)
 * and the next open blocked forever. Holding the FIFO open read-write ourselves keeps it alive
 * across those probes; we never read it, so every sample still goes to BUTT.
 *
 * Known rig limit (measured with strace): the `null` slave has no clock, so BUTT is paced only by
 * the blocking FIFO read. It asks for 8820 then 17640 bytes, gets the 4096 that ffmpeg wrote, and
 * alsa-lib's `file` plugin leaves the rest of the period as silence: BUTT encodes ~2x real time with
 * short gaps. Writing 26460-byte chunks (`samples_per_frame=6615`) removes the gaps but BUTT then
 * wakes only every 150 ms for one of the two reads (half real time, so the input would stall), which
 * is worse. A clocked capture device (snd-aloop, JACK's dummy driver) would be exact.
 */
export function startToneFeed(fifo: string, freq: number, seconds: number): ToneFeed {
  const mk = spawnSync('mkfifo', [fifo], { encoding: 'utf8' });
  if (mk.status !== 0) throw new Error(`mkfifo ${fifo} failed: ${mk.stderr}`);
  let hold: number | undefined = openSync(fifo, constants.O_RDWR);
  const ffmpeg = resolveFfmpegPath(process.env.FFMPEG_PATH);
  const feeder = start(ffmpeg, [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-re',
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=${freq}:sample_rate=44100:duration=${seconds}`,
    '-ac',
    '2',
    '-f',
    's16le',
    '-y',
    fifo,
  ]);
  return {
    feeder,
    close: async () => {
      await feeder.stop(2000);
      if (hold !== undefined) closeSync(hold);
      hold = undefined;
    },
  };
}

/**
 * Xvfb on a display number it picks itself (`-displayfd 1`: printed on its stdout), so parallel runs
 * never collide; no xvfb-run wrapper, whose death would orphan Xvfb and BUTT. Local clients need no
 * xauth cookie.
 */
export async function startXvfb(timeoutMs = 20_000): Promise<{ display: string; xvfb: Running }> {
  const xvfb = start('Xvfb', ['-displayfd', '1', '-nolisten', 'tcp', '-screen', '0', '1024x768x24']);
  try {
    const n = await until(
      'Xvfb to print its display number',
      timeoutMs,
      () => {
        if (xvfb.proc.exitCode !== null) throw new Error(`Xvfb exited ${xvfb.proc.exitCode}: ${xvfb.output.text}`);
        return /(?:^|\n)(\d+)\n/.exec(xvfb.output.text)?.[1];
      },
      100,
    );
    return { display: `:${n}`, xvfb };
  } catch (err) {
    await xvfb.stop(2000);
    throw err;
  }
}

/** A running BUTT with its own HOME (for ~/.asoundrc) and command-server port. */
export interface Butt {
  readonly proc: Running;
  readonly controlPort: number;
  /** `butt -p <port> <args>` (the remote control): resolves with its exit code and output. */
  control(...args: string[]): Promise<{ code: number | null; output: string }>;
  /** `butt -S` output (connected, signal present, stream kBytes, song…), for failure messages. */
  status(): Promise<string>;
  /** Asks BUTT to disconnect and quit, then SIGTERM/SIGKILL; resolves once reaped. Idempotent. */
  stop(): Promise<void>;
}

export interface StartButtOptions {
  readonly home: string;
  readonly configPath: string;
  readonly display: string;
  readonly controlPort: number;
}

/** Starts BUTT and resolves once its command server listens (BUTT prints that line when ready). */
export async function startButt(o: StartButtOptions, timeoutMs = 30_000): Promise<Butt> {
  mkdirSync(o.home, { recursive: true });
  const env = { ...process.env, HOME: o.home, DISPLAY: o.display };
  const proc = start('butt', ['-c', o.configPath, '-p', String(o.controlPort)], { env });
  const control = async (...args: string[]): Promise<{ code: number | null; output: string }> => {
    // -p must come first: `-s` takes an optional server name and would swallow it.
    const r = await run('butt', ['-p', String(o.controlPort), ...args], 10_000, { env });
    return { code: r.code, output: r.output };
  };
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (proc.proc.exitCode === null && proc.proc.signalCode === null) {
        await control('-d').catch(() => undefined);
        await control('-q').catch(() => undefined);
        const quit = await Promise.race([proc.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
        if (!quit) await proc.stop(3000);
      }
      await proc.exited;
    })();
    return stopping;
  };
  try {
    await until(`BUTT's command server on port ${o.controlPort}`, timeoutMs, () => {
      if (proc.proc.exitCode !== null || proc.proc.signalCode !== null)
        throw new Error(`butt exited (${proc.proc.exitCode ?? proc.proc.signalCode}):\n${proc.output.text.slice(-3000)}`);
      return proc.output.text.includes(`Command server listening on port ${o.controlPort}`) || undefined;
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    proc,
    controlPort: o.controlPort,
    control,
    status: async () => {
      const r = await control('-S').catch((e: unknown) => ({ code: null, output: String(e) }));
      return r.output;
    },
    stop,
  };
}

/** The ALSA/JACK probe noise BUTT prints at start, removed from its output for failure messages. */
export function buttOutput(r: Running): string {
  return r.output.text
    .split('\n')
    .filter((l) => !/^(ALSA lib |Jack|jack server|Cannot connect to server)/.test(l))
    .join('\n')
    .slice(-3000);
}

/** Descendants of this test process that are ours and still alive (BUTT, Xvfb, anything in `dir`). */
export function leftoverProcesses(dir: string): string[] {
  return descendants(process.pid)
    .filter((p) => /^(butt|Xvfb|xkbcomp)\b|\/(butt|Xvfb)\b/.test(p.cmd) || p.cmd.includes(dir))
    .map((p) => `${p.pid} ${p.cmd}`);
}
