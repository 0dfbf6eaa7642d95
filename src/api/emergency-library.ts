// The emergency-audio library: uploaded files kept under the data dir by generated id, each decoded
// in full by ffmpeg before it is accepted, and the active choice, all surviving a restart.
// Nothing half-written is ever played: uploads land in `.incoming/`, are checked, then renamed.
import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, readdir } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-file.js';
import { randomUUID } from 'node:crypto';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import type { Logger } from 'pino';
import { uploadCheckArgs, type UploadDemuxer } from '../ffmpeg/args.js';
import { FfmpegChild } from '../ffmpeg/child.js';
import { CHANNELS, SAMPLE_RATE } from '../types/pcm.js';
import { ApiError } from './errors.js';

export type UploadFormat = 'mp3' | 'aac' | 'm4a' | 'ogg' | 'opus' | 'flac' | 'wav';

export interface EmergencyFile {
  readonly id: string;
  /** The uploader's file name, for display only (never used as a path). */
  readonly name: string;
  readonly format: UploadFormat;
  readonly bytes: number;
  readonly durationMs: number;
  readonly levelDb: number;
  readonly uploadedAt: number;
  readonly uploadedBy: string;
  /** The configured emergencyFile (id `default`): cannot be deleted. */
  readonly builtIn: boolean;
}

interface Index {
  active: string;
  files: EmergencyFile[];
}

export interface LibraryOptions {
  readonly dir: string;
  readonly defaultFile: string;
  readonly ffmpegPath: string;
  readonly maxBytes: number;
  /** An upload whose RMS over the whole file is below this is rejected as silent. */
  readonly silenceDb: number;
  readonly log: Logger;
  /** Swaps the mixer's emergency audio (decodes in full; rejects if unusable). */
  readonly use: (path: string) => Promise<void>;
}

const DEFAULT_ID = 'default';
const ID = /^[0-9a-f]{32}$/;
/** Checks running at once (ffmpeg decodes the whole file); more wait, and past the queue bound get 503. */
const MAX_CHECKS = 2;
const MAX_WAITING = 8;
const MAX_FILES = 200;

const DEMUXER: Record<UploadFormat, UploadDemuxer> = {
  mp3: 'mp3',
  aac: 'aac',
  m4a: 'mov',
  ogg: 'ogg',
  opus: 'ogg',
  flac: 'flac',
  wav: 'wav',
};

/** The format of an upload from its first bytes; null when it is none we accept. */
export function sniffUpload(head: Buffer): UploadFormat | null {
  const ascii = (from: number, to: number): string => head.subarray(from, to).toString('latin1');
  if (ascii(0, 4) === 'fLaC') return 'flac';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE') return 'wav';
  if (ascii(4, 8) === 'ftyp') return 'm4a';
  if (ascii(0, 4) === 'OggS') return head.includes('OpusHead') ? 'opus' : 'ogg';
  if (ascii(0, 3) === 'ID3') return 'mp3';
  const b0 = head[0] ?? 0;
  const b1 = head[1] ?? 0;
  if (b0 === 0xff && (b1 & 0xf6) === 0xf0) return 'aac'; // ADTS sync, layer 0
  if (b0 === 0xff && (b1 & 0xe0) === 0xe0 && ((b1 >> 1) & 3) === 1) return 'mp3'; // MPEG audio layer III
  return null;
}

export class EmergencyLibrary {
  readonly #o: LibraryOptions;
  #index: Index = { active: DEFAULT_ID, files: [] };
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  /** Index writes are chained so two requests never interleave a rename. */
  #writes: Promise<void> = Promise.resolve();
  #activating: Promise<void> = Promise.resolve();

  private constructor(o: LibraryOptions) {
    this.#o = o;
  }

  /** Loads the index, clears abandoned uploads and puts the stored active file back on air. */
  static async open(o: LibraryOptions): Promise<EmergencyLibrary> {
    const lib = new EmergencyLibrary(o);
    await mkdir(join(o.dir, '.incoming'), { recursive: true });
    for (const f of await readdir(join(o.dir, '.incoming'))) await rm(join(o.dir, '.incoming', f), { force: true });
    try {
      const raw = JSON.parse(await readFile(join(o.dir, 'library.json'), 'utf8')) as Index;
      const files = (Array.isArray(raw.files) ? raw.files : []).filter((f) => typeof f.id === 'string' && ID.test(f.id));
      lib.#index = { active: typeof raw.active === 'string' ? raw.active : DEFAULT_ID, files };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') o.log.error({ err }, 'emergency library index unreadable: starting empty');
    }
    const active = lib.#index.active;
    if (active !== DEFAULT_ID) {
      const file = lib.#index.files.find((f) => f.id === active);
      try {
        if (!file) throw new Error('not in the library');
        await o.use(lib.#path(file));
        o.log.info({ id: active }, 'stored emergency file is active again');
      } catch (err) {
        o.log.error({ err, id: active }, 'stored active emergency file unusable: the configured file plays');
        lib.#index.active = DEFAULT_ID;
      }
    }
    return lib;
  }

  list(): { readonly active: string; readonly files: readonly EmergencyFile[] } {
    return { active: this.#index.active, files: [this.#defaultEntry(), ...this.#index.files] };
  }

  /** The path to stream for a preview, or a 404. */
  async audio(id: string): Promise<{ path: string; format: UploadFormat | 'mp3'; bytes: number }> {
    if (id === DEFAULT_ID) {
      const s = await stat(this.#o.defaultFile);
      return { path: this.#o.defaultFile, format: 'mp3', bytes: s.size };
    }
    const f = this.#get(id);
    return { path: this.#path(f), format: f.format, bytes: f.bytes };
  }

  /**
   * Stores an upload: streamed into `.incoming/` (at most maxBytes), sniffed, decoded in full, and
   * renamed into the library only once accepted. Throws ApiError 413/422/503 with the reason.
   */
  async add(stream: Readable & { truncated?: boolean }, name: string, by: string): Promise<EmergencyFile> {
    if (this.#index.files.length >= MAX_FILES)
      throw new ApiError(409, 'LIBRARY_FULL', `the library holds ${MAX_FILES} files: delete some first`);
    const id = randomUUID().replace(/-/g, '');
    const part = join(this.#o.dir, '.incoming', `${id}.part`);
    try {
      let bytes = 0;
      const count = new Transform({
        transform: (chunk: Buffer, _enc, done) => {
          bytes += chunk.length;
          if (bytes > this.#o.maxBytes) done(new ApiError(413, 'UPLOAD_TOO_LARGE', `the upload is larger than ${this.#o.maxBytes} bytes`));
          else done(null, chunk);
        },
      });
      await pipeline(stream, count, createWriteStream(part, { flags: 'wx' }));
      if (stream.truncated) throw new ApiError(413, 'UPLOAD_TOO_LARGE', `the upload is larger than ${this.#o.maxBytes} bytes`);
      if (bytes === 0) throw new ApiError(422, 'UPLOAD_NOT_AUDIO', 'the upload is empty');
      const head = await readHead(part, 64);
      const format = sniffUpload(head);
      if (!format) throw new ApiError(422, 'UPLOAD_NOT_AUDIO', 'not MP3, AAC/M4A, Ogg Vorbis, Opus, FLAC or WAV audio');
      const checked = await this.#throttled(() => this.#check(part, format));
      const file: EmergencyFile = {
        id,
        name: displayName(name),
        format,
        bytes,
        durationMs: checked.durationMs,
        levelDb: checked.levelDb,
        uploadedAt: Date.now(),
        uploadedBy: by,
        builtIn: false,
      };
      await syncFile(part);
      await rename(part, this.#path(file));
      this.#index.files.push(file);
      await this.#save();
      this.#o.log.info({ id, format, bytes, durationMs: file.durationMs, by }, 'emergency file accepted');
      return file;
    } catch (err) {
      await rm(part, { force: true });
      if (err instanceof ApiError) {
        this.#o.log.warn({ code: err.code, reason: err.message, by }, 'emergency upload rejected');
        throw err;
      }
      throw err;
    }
  }

  /** Makes `id` the emergency audio (live, with the mixer's crossfade when on air) and remembers it. */
  async activate(id: string): Promise<EmergencyFile> {
    const file = id === DEFAULT_ID ? this.#defaultEntry() : this.#get(id);
    const path = id === DEFAULT_ID ? this.#o.defaultFile : this.#path(file);
    // One activation at a time, so the stored choice is the one that plays.
    const run = this.#activating.then(async () => {
      try {
        await this.#o.use(path);
      } catch (err) {
        throw new ApiError(422, 'EMERGENCY_FILE_UNUSABLE', `the mixer could not use the file: ${(err as Error).message}`);
      }
      this.#index.active = id;
      await this.#save();
    });
    this.#activating = run.catch(() => undefined);
    await run;
    return file;
  }

  async remove(id: string): Promise<void> {
    if (id === DEFAULT_ID) throw new ApiError(409, 'EMERGENCY_FILE_BUILT_IN', 'the configured emergency file cannot be deleted');
    const file = this.#get(id);
    if (this.#index.active === id)
      throw new ApiError(409, 'EMERGENCY_FILE_ACTIVE', 'the active emergency file cannot be deleted: activate another first');
    this.#index.files = this.#index.files.filter((f) => f.id !== id);
    await this.#save();
    await rm(this.#path(file), { force: true });
  }

  #get(id: string): EmergencyFile {
    const f = ID.test(id) ? this.#index.files.find((x) => x.id === id) : undefined;
    if (!f) throw new ApiError(404, 'NOT_FOUND', `no emergency file ${id}`);
    return f;
  }

  #path(f: Pick<EmergencyFile, 'id' | 'format'>): string {
    return join(this.#o.dir, `${f.id}.${f.format}`);
  }

  #defaultEntry(): EmergencyFile {
    return {
      id: DEFAULT_ID,
      name: basename(this.#o.defaultFile),
      format: 'mp3',
      bytes: 0,
      durationMs: 0,
      levelDb: 0,
      uploadedAt: 0,
      uploadedBy: 'configuration',
      builtIn: true,
    };
  }

  async #throttled<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#running >= MAX_CHECKS) {
      if (this.#waiting.length >= MAX_WAITING) throw new ApiError(503, 'BUSY', 'too many uploads are being checked: try again shortly');
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    this.#running++;
    try {
      return await fn();
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
  }

  /** Decodes the whole file; RMS and length are measured on the PCM as it streams past (nothing kept). */
  async #check(path: string, format: UploadFormat): Promise<{ durationMs: number; levelDb: number }> {
    const child = await FfmpegChild.start({
      ffmpegPath: this.#o.ffmpegPath,
      args: uploadCheckArgs(path, DEMUXER[format]),
      log: this.#o.log.child({ child: 'upload-check' }),
      role: 'file',
    });
    let samples = 0;
    let sumSq = 0;
    let odd: Buffer | undefined;
    child.proc.stdout.on('data', (b: Buffer) => {
      if (odd) {
        b = Buffer.concat([odd, b]);
        odd = undefined;
      }
      const whole = b.length - (b.length % 2);
      if (whole < b.length) odd = b.subarray(whole);
      for (let i = 0; i < whole; i += 2) {
        const v = b.readInt16LE(i) / 32768;
        sumSq += v * v;
      }
      samples += whole / 2;
    });
    const exit = await child.exited;
    if (exit.code !== 0) {
      const why = exit.stderrTail.slice(-2).join(' | ') || `ffmpeg exited with ${exit.code ?? exit.signal}`;
      throw new ApiError(422, 'UPLOAD_NOT_AUDIO', `ffmpeg could not decode it as ${format}: ${why}`);
    }
    const frames = samples / CHANNELS;
    if (frames === 0) throw new ApiError(422, 'UPLOAD_NOT_AUDIO', 'no audio in the file');
    const levelDb = sumSq > 0 ? Math.round(10 * Math.log10(sumSq / samples) * 10) / 10 : -120;
    if (levelDb < this.#o.silenceDb)
      throw new ApiError(422, 'UPLOAD_SILENT', `the file is silent (RMS ${levelDb} dBFS, below ${this.#o.silenceDb} dBFS)`);
    return { durationMs: Math.round((frames * 1000) / SAMPLE_RATE), levelDb };
  }

  /** Writes the index atomically (temp file, fsync, rename). */
  #save(): Promise<void> {
    const body = JSON.stringify(this.#index, null, 2) + '\n';
    const file = join(this.#o.dir, 'library.json');
    const next = this.#writes.then(() => writeFileAtomic(file, body));
    this.#writes = next.catch((err: unknown) => this.#o.log.error({ err }, 'emergency library index not written'));
    return next;
  }
}

async function readHead(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The uploader's name, shown in the panel: no directories, no control characters, bounded. */
export function displayName(name: string): string {
  const last = name.split(/[\\/]/).pop() ?? '';
  const base = [...last].filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f).join('');
  return (base.trim() || 'upload').slice(0, 200);
}
