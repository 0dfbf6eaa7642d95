// The status API's small parts on fixture data: the listener-history store (minute peaks, day files,
// pruning, a torn line), upload sniffing and display names, the upload check's ffmpeg arguments, the
// live feed's bound on a slow client, the timeline ring, and the emergency crossfade on a live swap.
import { EventEmitter } from 'node:events';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { displayName, sniffUpload } from '../../src/api/emergency-library.js';
import { ListenerHistory } from '../../src/api/history.js';
import { LiveFeed } from '../../src/api/live.js';
import { ApiTimeline } from '../../src/api/timeline.js';
import type { AntennaSnapshot } from '../../src/app.js';
import { uploadCheckArgs } from '../../src/ffmpeg/args.js';
import type { AntennaEvents } from '../../src/types/events.js';
import { TypedEmitter } from '../../src/util/typed-emitter.js';

const log = pino({ level: 'silent' });
const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'antenna-api-unit-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const MIN = 60_000;
const DAY = 86_400_000;
/**
 * Noon UTC yesterday: open() prunes by the real clock, so a fixed date here would fall out of the 30-day
 * retention once the calendar passed it (it did on 2026-12-01).
 */
const T0 = Math.floor(Date.now() / DAY) * DAY - DAY + 12 * 3_600_000;
const dayFile = (t: number): string => `listeners-${new Date(t).toISOString().slice(0, 10)}.jsonl`;

describe('ListenerHistory', () => {
  it('keeps the peak of each minute, one line per minute, and reads the minute in progress', async () => {
    const dir = tmp();
    const h = await ListenerHistory.open({ dir, days: 30, log });
    h.sample({ '/a': 1, hls: 0 }, T0);
    h.sample({ '/a': 4, hls: 2 }, T0 + 20_000);
    h.sample({ '/a': 2, hls: 1 }, T0 + 59_000);
    h.sample({ '/a': 3, hls: 0 }, T0 + MIN + 1000);
    const pts = await h.query(5, T0 + MIN + 2000);
    expect(pts).toEqual([
      { t: T0, total: 6, mounts: { '/a': 4, hls: 2 } },
      { t: T0 + MIN, total: 3, mounts: { '/a': 3, hls: 0 } },
    ]);
    await h.close();
    expect(readdirSync(dir)).toEqual([dayFile(T0)]);
    // Reopened (a restart): both minutes are there, read from the file.
    const again = await ListenerHistory.open({ dir, days: 30, log });
    expect((await again.query(60, T0 + 10 * MIN)).map((p) => p.t)).toEqual([T0, T0 + MIN]);
    expect(await again.query(2, T0 + 10 * MIN)).toEqual([]);
    await again.close();
  });

  it('skips a line torn by a crash and spans day files', async () => {
    const dir = tmp();
    writeFileSync(join(dir, dayFile(T0 - DAY)), JSON.stringify({ t: T0 - DAY, m: { '/a': 7 } }) + '\n{"t":12');
    appendFileSync(join(dir, dayFile(T0)), JSON.stringify({ t: T0, m: { '/a': 1 } }) + '\n');
    const h = await ListenerHistory.open({ dir, days: 30, log });
    const pts = await h.query(2 * 1440, T0 + MIN);
    expect(pts.map((p) => p.mounts['/a'])).toEqual([7, 1]);
    await h.close();
  });

  it('deletes day files older than the retention', async () => {
    const dir = tmp();
    const now = Date.now();
    writeFileSync(join(dir, dayFile(now - 40 * DAY)), '');
    writeFileSync(join(dir, dayFile(now - 29 * DAY)), '');
    writeFileSync(join(dir, 'unrelated.txt'), '');
    const h = await ListenerHistory.open({ dir, days: 30, log });
    expect(readdirSync(dir).sort()).toEqual([dayFile(now - 29 * DAY), 'unrelated.txt'].sort());
    await h.close();
  });
});

describe('uploads', () => {
  it('sniffs the accepted formats from their first bytes, and nothing else', () => {
    const b = (...x: (string | number[])[]): Buffer =>
      Buffer.concat(x.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
    expect(sniffUpload(b('fLaC', [0, 0, 0, 34]))).toBe('flac');
    expect(sniffUpload(b('RIFF', [0, 0, 0, 0], 'WAVEfmt '))).toBe('wav');
    expect(sniffUpload(b([0, 0, 0, 32], 'ftypM4A '))).toBe('m4a');
    expect(sniffUpload(b('OggS', [0, 2], 'xxxxxxxxxxxxxxxxxxxxxx', [1], 'vorbis'))).toBe('ogg');
    expect(sniffUpload(b('OggS', [0, 2], 'xxxxxxxxxxxxxxxxxxxxxx', 'OpusHead'))).toBe('opus');
    expect(sniffUpload(b('ID3', [4, 0, 0]))).toBe('mp3');
    expect(sniffUpload(b([0xff, 0xfb, 0x90, 0x64]))).toBe('mp3');
    expect(sniffUpload(b([0xff, 0xf1, 0x50, 0x80]))).toBe('aac');
    expect(sniffUpload(b('#EXTM3U\n'))).toBeNull();
    expect(sniffUpload(b('ffconcat version 1.0'))).toBeNull();
    expect(sniffUpload(Buffer.alloc(0))).toBeNull();
  });

  it('keeps only a display name from what the uploader called the file', () => {
    expect(displayName('../../etc/passwd')).toBe('passwd');
    expect(displayName('C:\\music\\jingle.mp3')).toBe('jingle.mp3');
    expect(displayName('bad\u0000name\n.mp3')).toBe('badname.mp3');
    expect(displayName('')).toBe('upload');
    expect(displayName('x'.repeat(500))).toHaveLength(200);
  });

  it('checks an upload with a forced demuxer, the file protocol only, and errors fatal', () => {
    const args = uploadCheckArgs('/data/emergency/.incoming/abc.part', 'mov');
    expect(args).toEqual(expect.arrayContaining(['-xerror', '-nostdin']));
    expect(args.slice(args.indexOf('-protocol_whitelist'), args.indexOf('-protocol_whitelist') + 2)).toEqual([
      '-protocol_whitelist',
      'file',
    ]);
    expect(args.slice(args.indexOf('-i') - 2, args.indexOf('-i') + 2)).toEqual([
      '-f',
      'mov',
      '-i',
      'file:/data/emergency/.incoming/abc.part',
    ]);
    expect(args.at(-1)).toBe('pipe:1');
  });
});

describe('LiveFeed', () => {
  class FakeRes extends EventEmitter {
    writableLength = 0;
    written: string[] = [];
    destroyed = false;
    writeHead(): this {
      return this;
    }
    write(s: string): boolean {
      this.written.push(s);
      return true;
    }
    destroy(): void {
      this.destroyed = true;
      this.emit('close');
    }
  }
  const snapshot = (): AntennaSnapshot =>
    ({
      at: 1,
      mixer: { onAir: 'emergency', hold: null, fading: null },
      inputs: {
        primary: { source: { state: 'idle' }, mixer: { levelDb: -120, silent: true, available: false, buffer: { depthMs: 0 } } },
        fallback: { source: { state: 'idle' }, mixer: { levelDb: -120, silent: true, available: false, buffer: { depthMs: 0 } } },
      },
      mounts: { listeners: 0, mounts: [] },
      hls: { sessions: 0 },
    }) as unknown as AntennaSnapshot;

  it('drops a client that falls more than the bound behind, and keeps the others', () => {
    const events = new TypedEmitter<AntennaEvents>();
    const timeline = new ApiTimeline(100);
    const feed = new LiveFeed({ snapshot, events, timeline, log });
    const slow = new FakeRes();
    const fast = new FakeRes();
    const sock = new EventEmitter() as unknown as Socket;
    feed.add(slow as unknown as ServerResponse, sock);
    feed.add(fast as unknown as ServerResponse, sock);
    timeline.add('title', { title: 'a' });
    expect(slow.written.some((w) => w.startsWith('event: timeline'))).toBe(true);
    slow.writableLength = 300 * 1024; // the kernel and Node buffers are full: the client reads nothing
    timeline.add('title', { title: 'b' });
    expect(slow.destroyed).toBe(true);
    expect(fast.destroyed).toBe(false);
    expect(feed.clients).toBe(1);
    expect(feed.dropped).toBe(1);
    feed.close();
    expect(fast.destroyed).toBe(true);
    expect(feed.clients).toBe(0);
  });
});

describe('ApiTimeline', () => {
  it('is a bounded ring with cut strings, numbered, and filters by time', () => {
    const tl = new ApiTimeline(3);
    for (let i = 0; i < 5; i++) tl.add('x', { i, long: 'y'.repeat(1000) }, i === 4 ? 'admin' : undefined, 1000 + i);
    const all = tl.list();
    expect(all.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(String(all[0]!.detail.long).length).toBeLessThan(300);
    expect(all.at(-1)!.by).toBe('admin');
    expect(tl.list(1003).map((e) => e.seq)).toEqual([5]);
    expect(tl.list(0, 1).map((e) => e.seq)).toEqual([5]);
  });

  it('turns pipeline events into lines; a throwing subscriber of the same stream hurts nothing', () => {
    const events = new TypedEmitter<AntennaEvents>(log);
    const tl = new ApiTimeline(10);
    events.on('switch', () => {
      throw new Error('broken observer');
    });
    tl.observe(events);
    events.emit('switch', { from: 'primary', to: 'fallback', reason: 'stalled', at: 5 });
    expect(tl.list()).toEqual([{ seq: 1, at: 5, type: 'switch', detail: { from: 'primary', to: 'fallback', reason: 'stalled' } }]);
  });
});
