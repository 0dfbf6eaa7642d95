// An input's decoder record as the status panel reads it, fed the reports its sessions send: running,
// draining after the source left, stopped, failed (died, or never started), and a replaced source's
// late reports never overwriting its successor's decoder.
import { describe, expect, it } from 'vitest';
import { DecoderRecord } from '../../src/ingest/decoder-record.js';

describe('decoder record', () => {
  it('idle → running (uptime grows) → draining once the source left → stopped', () => {
    const r = new DecoderRecord();
    expect(r.snapshot(0, undefined)).toMatchObject({ state: 'idle', running: false, pid: undefined, starts: 0, failures: 0 });
    r.report({ kind: 'started', connectionId: 1, engine: 'ffmpeg', pid: 100, format: 'mp3', at: 1000 });
    expect(r.snapshot(1500, 1)).toMatchObject({
      state: 'running',
      running: true,
      engine: 'ffmpeg',
      pid: 100,
      format: 'mp3',
      uptimeMs: 500,
      starts: 1,
    });
    expect(r.snapshot(2500, 1).uptimeMs).toBe(1500);
    expect(r.snapshot(2600, undefined)).toMatchObject({ state: 'draining', running: true });
    r.report({ kind: 'exited', connectionId: 1, at: 3000 });
    expect(r.snapshot(4000, undefined)).toMatchObject({ state: 'stopped', running: false, pid: 100, exitedAt: 3000, uptimeMs: 0 });
  });

  it('a failure is counted and kept with its time; the next decoder runs with the count standing', () => {
    const r = new DecoderRecord();
    r.report({ kind: 'started', connectionId: 1, engine: 'ffmpeg', pid: 100, format: 'aac', at: 1000 });
    r.report({ kind: 'exited', connectionId: 1, at: 2000 });
    r.report({
      kind: 'failed',
      connectionId: 1,
      format: 'aac',
      code: 'DECODER_FAILED',
      message: 'decoder exited (signal SIGKILL)',
      at: 2001,
    });
    expect(r.snapshot(3000, undefined)).toMatchObject({
      state: 'failed',
      running: false,
      failures: 1,
      lastError: { code: 'DECODER_FAILED', message: 'decoder exited (signal SIGKILL)', at: 2001 },
    });
    r.report({ kind: 'started', connectionId: 2, engine: 'ffmpeg', pid: 101, format: 'aac', at: 4000 });
    expect(r.snapshot(5000, 2)).toMatchObject({ state: 'running', pid: 101, starts: 2, failures: 1, lastError: { at: 2001 } });
  });

  it('a decoder that could not start shows as failed with no process', () => {
    const r = new DecoderRecord();
    r.report({ kind: 'started', connectionId: 1, engine: 'ffmpeg', pid: 100, format: 'mp3', at: 1000 });
    r.report({ kind: 'exited', connectionId: 1, at: 2000 });
    r.report({ kind: 'failed', connectionId: 2, format: 'flac', code: 'FFMPEG_START_FAILED', message: 'cannot start decoder', at: 3000 });
    expect(r.snapshot(3500, undefined)).toMatchObject({
      state: 'failed',
      running: false,
      pid: undefined,
      format: 'flac',
      starts: 1,
      failures: 1,
    });
  });

  it('regression: a replaced stalled source failing while it drains does not hide the new source’s running decoder', () => {
    const r = new DecoderRecord();
    r.report({ kind: 'started', connectionId: 1, engine: 'ffmpeg', pid: 100, format: 'mp3', at: 1000 });
    r.report({ kind: 'started', connectionId: 2, engine: 'ffmpeg', pid: 101, format: 'mp3', at: 2000 });
    r.report({ kind: 'failed', connectionId: 1, format: 'mp3', code: 'DECODER_FAILED', message: 'old one died', at: 2500 });
    r.report({ kind: 'exited', connectionId: 1, at: 2500 });
    expect(r.snapshot(3000, 2)).toMatchObject({
      state: 'running',
      pid: 101,
      starts: 2,
      failures: 1,
      lastError: { message: 'old one died' },
    });
  });
});
