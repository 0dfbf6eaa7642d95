// Test stand-ins for the mixer and the encoders stage, made of real things: a clocked sine programme
// (s16le stereo 44.1 kHz, 20 ms frames on a monotonic clock) and real ffmpeg AAC encoders implementing
// EncodedStream, restartable to bump their generation like the supervised encoders do.
import pino from 'pino';
import { Framer } from '../../src/encoders/framing.js';
import { encoderArgs } from '../../src/ffmpeg/args.js';
import { FfmpegChild } from '../../src/ffmpeg/child.js';
import { resolveFfmpegPath } from '../../src/ffmpeg/path.js';
import type { EncodedChunk, EncodedStream, EncoderSpec, OnAirMeta, ProgrammeChunk } from '../../src/types/contracts.js';
import { BYTES_PER_FRAME, SAMPLE_RATE } from '../../src/types/pcm.js';

export const quietLog = pino({ level: process.env.TEST_LOG ?? 'silent' });
export const ffmpegPath = resolveFfmpegPath(process.env.FFMPEG_PATH);

export interface SineProgramme {
  subscribe(fn: (chunk: ProgrammeChunk) => void): () => void;
  readonly currentMeta: OnAirMeta;
  setTitle(title: string): void;
  close(): void;
}

/** A sine at `hz` produced in 20 ms frames on the monotonic clock, like the mixer. */
export function createSineProgramme(hz = 440, title = 'Test Tone'): SineProgramme {
  const frameSamples = (SAMPLE_RATE * 20) / 1000;
  const subs = new Set<(c: ProgrammeChunk) => void>();
  let meta: OnAirMeta = { title, tier: 'primary', seq: 1 };
  let produced = 0;
  const start = performance.now();
  const tick = (): void => {
    const due = Math.floor((((performance.now() - start) / 1000) * SAMPLE_RATE) / frameSamples) * frameSamples;
    if (due <= produced) return;
    const n = due - produced;
    const pcm = Buffer.alloc(n * BYTES_PER_FRAME);
    for (let i = 0; i < n; i++) {
      const v = Math.round(Math.sin((2 * Math.PI * hz * (produced + i)) / SAMPLE_RATE) * 12_000);
      pcm.writeInt16LE(v, i * 4);
      pcm.writeInt16LE(v, i * 4 + 2);
    }
    const chunk: ProgrammeChunk = { pcm, firstSample: produced, meta };
    produced = due;
    for (const fn of subs) fn(chunk);
  };
  const timer = setInterval(tick, 10);
  return {
    subscribe(fn) {
      subs.add(fn);
      return () => subs.delete(fn);
    },
    get currentMeta() {
      return meta;
    },
    setTitle(t: string) {
      meta = { ...meta, title: t, seq: meta.seq + 1 };
    },
    close() {
      clearInterval(timer);
      subs.clear();
    },
  };
}

export interface TestAacEncoder extends EncodedStream {
  readonly generation: number;
  /** Kills ffmpeg and starts a new one: the next chunks carry generation + 1. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** One real ffmpeg AAC encoder fed by the programme, emitting whole ADTS frames. */
export async function createTestAacEncoder(programme: SineProgramme, bitrate: number): Promise<TestAacEncoder> {
  const spec: EncoderSpec = { codec: 'aac', bitrate };
  const subs = new Set<(c: EncodedChunk) => void>();
  let generation = 0;
  let child: FfmpegChild | undefined;
  let closed = false;

  const start = async (): Promise<void> => {
    const c = await FfmpegChild.start({ ffmpegPath, args: encoderArgs(spec), log: quietLog, role: 'encoder' });
    // The encoders stage's own framer, so chunks carry frame ends exactly as the real encoders' do.
    const framer = new Framer('aac');
    const gen = generation;
    c.proc.stdout.on('data', (data: Buffer) => {
      if (gen !== generation) return;
      for (const f of framer.push(data)) {
        const { data: bytes, frames, samples, frameEnds, oggHeader } = f;
        const chunk: EncodedChunk = { data: bytes, frames, samples, frameEnds, oggHeader, meta: programme.currentMeta, generation: gen };
        for (const fn of subs) fn(chunk);
      }
    });
    child = c;
  };
  const unsubscribe = programme.subscribe((chunk) => {
    if (child?.running && !child.proc.stdin.destroyed) child.proc.stdin.write(chunk.pcm);
  });
  await start();

  return {
    key: `aac@${bitrate}`,
    spec,
    get generation() {
      return generation;
    },
    subscribe(fn) {
      subs.add(fn);
      return () => subs.delete(fn);
    },
    async restart() {
      const old = child;
      child = undefined;
      generation++;
      await old?.stop(500);
      if (!closed) await start();
    },
    async close() {
      closed = true;
      unsubscribe();
      subs.clear();
      await child?.stop(1000);
    },
  };
}

/** The default three tiers' encoders over one programme. */
export async function createTestEncoders(programme: SineProgramme, bitrates: readonly number[]): Promise<TestAacEncoder[]> {
  return Promise.all(bitrates.map((b) => createTestAacEncoder(programme, b)));
}
