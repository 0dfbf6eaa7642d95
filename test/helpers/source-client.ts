// Real source clients for tests: the embedded ffmpeg streaming a sine tone to a source port (as
// `icecast://` PUT with Expect, or `-legacy_icecast 1` SOURCE), a raw-socket Shoutcast v1 client that
// replays BUTT's captured hello, and a raw request helper. Every handle is stopped and reaped by its owner.
//
//   const src = await startSourceClient({ port, password, frequency: 440, codec: 'mp3' });
//   src.pause(); src.resume();   // SIGSTOP / SIGCONT: a stall with the TCP connection open
//   await src.stop();            // SIGTERM and reap (ffmpeg closes the stream cleanly)
//   await src.kill();            // SIGKILL and reap (the TCP connection drops)
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import net from 'node:net';
import { resolveFfmpegPath } from '../../src/ffmpeg/path.js';
import { clientSegments } from '../fixtures/captures/load.js';

export type SourceCodec = 'mp3' | 'aac' | 'ogg' | 'opus' | 'flac';

/** ffmpeg output arguments per codec; `ogg` is Vorbis. Content-Type is left to ffmpeg's (wrong) default. */
const CODEC_ARGS: Record<SourceCodec, string[]> = {
  mp3: ['-c:a', 'libmp3lame', '-b:a', '128k', '-f', 'mp3'],
  aac: ['-c:a', 'aac', '-b:a', '128k', '-f', 'adts'],
  ogg: ['-c:a', 'libvorbis', '-q:a', '3', '-page_duration', '100000', '-f', 'ogg'],
  opus: ['-c:a', 'libopus', '-b:a', '96k', '-ar', '48000', '-page_duration', '100000', '-f', 'ogg'],
  flac: ['-c:a', 'flac', '-f', 'flac'],
};

export interface ToneOptions {
  /** Hz, default 440. */
  readonly frequency?: number;
  readonly codec?: SourceCodec;
  /** `-re`: send at the real-time rate (default true). False sends as fast as ffmpeg encodes. */
  readonly realtime?: boolean;
  /** Seconds of tone; default endless. */
  readonly durationS?: number;
  readonly ffmpegPath?: string;
  /** A lavfi source graph used instead of the sine (e.g. an aevalsrc that goes silent). */
  readonly lavfi?: string;
}

export interface SourceClientOptions extends ToneOptions {
  readonly port: number;
  readonly password: string;
  readonly host?: string;
  /** Default '/live'. */
  readonly mount?: string;
  /** 'put' (default): ffmpeg's `icecast://` PUT with Expect: 100-continue; 'source': `-legacy_icecast 1`. */
  readonly method?: 'put' | 'source';
}

/** A running ffmpeg process the test controls. */
export interface ProcessHandle {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** stderr so far (bounded to the last 16 KiB). */
  stderr(): string;
  /** SIGSTOP: the process stops sending but its TCP connection stays open. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** SIGTERM (after SIGCONT, so a paused process can act on it) and wait for the exit. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit. Idempotent. */
  kill(): Promise<void>;
}

function toneInput(o: ToneOptions): string[] {
  const duration = o.durationS === undefined ? '' : `:duration=${o.durationS}`;
  return [
    ...(o.realtime === false ? [] : ['-re']),
    '-f',
    'lavfi',
    '-i',
    o.lavfi ?? `sine=frequency=${o.frequency ?? 440}:sample_rate=44100${duration}`,
    '-ac',
    '2',
  ];
}

function spawnHandle(ffmpegPath: string | undefined, args: string[]): ProcessHandle {
  const proc = spawn(ffmpegPath ?? resolveFfmpegPath(undefined), ['-hide_banner', '-nostdin', '-loglevel', 'error', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (s: string) => (err = (err + s).slice(-16_384)));
  proc.stdin.on('error', () => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('close', (code, signal) => resolve({ code, signal })),
  );
  const alive = (): boolean => proc.exitCode === null && proc.signalCode === null;
  return {
    proc,
    exited,
    stderr: () => err,
    pause: () => void (alive() && proc.kill('SIGSTOP')),
    resume: () => void (alive() && proc.kill('SIGCONT')),
    stop: async () => {
      if (alive()) {
        proc.kill('SIGCONT');
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
      await exited;
    },
    kill: async () => {
      if (alive()) proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** ffmpeg streaming a sine tone to `icecast://source:password@host:port/mount`. */
export function startSourceClient(o: SourceClientOptions): ProcessHandle {
  const codec = o.codec ?? 'mp3';
  const url = `icecast://source:${encodeURIComponent(o.password)}@${o.host ?? '127.0.0.1'}:${o.port}${o.mount ?? '/live'}`;
  const legacy = o.method === 'source' ? ['-legacy_icecast', '1'] : [];
  return spawnHandle(o.ffmpegPath, [...toneInput(o), ...CODEC_ARGS[codec], '-ice_name', 'Test tone', ...legacy, url]);
}

/** ffmpeg writing an encoded sine tone to its stdout (`handle.proc.stdout`), for hand-made clients. */
export function startToneEncoder(o: ToneOptions): ProcessHandle {
  return spawnHandle(o.ffmpegPath, [...toneInput(o), ...CODEC_ARGS[o.codec ?? 'mp3'], 'pipe:1']);
}

/** BUTT 0.1.37's Shoutcast hello as captured (password line + icy headers in one packet), with `password`. */
export function buttShoutcastHello(password: string): Buffer {
  const captured = clientSegments('butt0.1.37_shoutcast__icy.5')[0] as Buffer;
  const rest = captured.subarray(captured.indexOf(0x0a) + 1);
  return Buffer.concat([Buffer.from(`${password}\r\n`), rest]);
}

export interface ShoutcastClient extends ProcessHandle {
  readonly socket: net.Socket;
  /** What the server answered to the hello (OK2 on success). */
  readonly reply: Buffer;
}

/**
 * A Shoutcast v1 source like BUTT: sends the captured hello to `port` (the Shoutcast port, base+1),
 * waits for OK2, then streams MP3 from an ffmpeg tone encoder. Rejects if the server refuses.
 */
export async function startShoutcastClient(o: ToneOptions & { port: number; password: string; host?: string }): Promise<ShoutcastClient> {
  const socket = net.connect(o.port, o.host ?? '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(buttShoutcastHello(o.password));
  const reply = await new Promise<Buffer>((resolve, reject) => {
    let got = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      got = Buffer.concat([got, d]);
      if (got.includes('\r\n\r\n')) {
        socket.off('data', onData);
        resolve(got);
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`server closed the Shoutcast connection (got ${JSON.stringify(got.toString('latin1'))})`)));
  });
  if (!reply.toString('latin1').startsWith('OK2')) {
    socket.destroy();
    throw new Error(`Shoutcast hello refused: ${reply.toString('latin1').split('\r\n')[0] ?? ''}`);
  }
  const enc = startToneEncoder({ ...o, codec: 'mp3' });
  enc.proc.stdout.pipe(socket);
  socket.on('close', () => enc.proc.stdout.unpipe(socket));
  return {
    ...enc,
    socket,
    reply,
    stop: async () => {
      await enc.stop();
      socket.end();
    },
    kill: async () => {
      await enc.kill();
      socket.destroy();
    },
  };
}

/**
 * Sends `data` (one write per element, `gapMs` apart) on a fresh connection and resolves with
 * everything the server sent until it closed, or until `timeoutMs` (then the socket is destroyed).
 */
export async function rawExchange(
  port: number,
  data: Buffer | string | (Buffer | string)[],
  opts: { gapMs?: number; timeoutMs?: number; host?: string } = {},
): Promise<Buffer> {
  const parts = Array.isArray(data) ? data : [data];
  const socket = net.connect(port, opts.host ?? '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  for (const [i, p] of parts.entries()) {
    if (i > 0 && opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
    if (!socket.destroyed) socket.write(p);
  }
  const timer = setTimeout(() => socket.destroy(), opts.timeoutMs ?? 5000);
  await closed;
  clearTimeout(timer);
  return Buffer.concat(chunks);
}
