// MP3 and Vorbis encoded in Node with LAME and libvorbis (src/encoders/native-run.ts): the mounts play,
// Ogg titles chain as they do from ffmpeg, a library error is a death the supervisor restarts without
// dropping listeners, and the real server says what it chose and shows no encoder process. The
// libraries come with Debian's ffmpeg (libmp3lame0, libvorbisenc2), which .ci/run installs.
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { status } from '../../src/api/schemas.js';
import { readOggPage } from '../../src/codec/ogg.js';
import { loadLame, type LameLibrary } from '../../src/encoders/lame.js';
import type { NativeCodecs } from '../../src/encoders/native-run.js';
import { loadVorbis } from '../../src/encoders/vorbis.js';
import { ADMIN_PASSWORD, antennaFixture } from '../helpers/antenna.js';
import { faulty } from '../helpers/faulty-codec.js';
import { decode, decodeUrl, listen, toneOf } from '../helpers/listener.js';
import { startOutputs, type OutputsStack } from '../helpers/outputs-stack.js';
import { waitFor } from '../helpers/programme.js';

const codecs: NativeCodecs = { lame: await loadLame(), vorbis: await loadVorbis() };

/** The comment headers' titles, in order, of an Ogg byte stream (one per chain). */
function chainTitles(b: Buffer): string[] {
  const titles: string[] = [];
  for (let i = 0; ;) {
    const p = readOggPage(b, i);
    if (!p) break;
    // A comment header's title: `TITLE=` then the comment's length-prefixed UTF-8 (vorbisComment writes it last).
    const page = b.subarray(i, i + p.length);
    const at = page.indexOf('TITLE=');
    if (p.granule === 0n && at >= 4) titles.push(page.toString('utf8', at + 6, at + page.readUInt32LE(at - 4)));
    i += p.length;
  }
  return titles;
}

const stacks: OutputsStack[] = [];
afterAll(async () => {
  for (const s of stacks) await s.close();
});

describe('MP3 and Vorbis encoded in-process', () => {
  it('mounts play the tone, Ogg titles chain, and a library error is a death the supervisor restarts without dropping listeners', async () => {
    const lame = faulty(codecs.lame as LameLibrary, 'lame_encode_buffer_interleaved failed: -3 (injected)');
    const s = await startOutputs(
      {
        mounts: [
          { mount: '/listen/live.mp3', codec: 'mp3', bitrate: 128_000 },
          { mount: '/listen/live.ogg', codec: 'vorbis', quality: 2 },
        ],
      },
      'First Title',
      { native: { ...codecs, lame } },
    );
    stacks.push(s);
    const unit = 'mp3-128k+vorbis-q2';
    const enc = (key: string) => s.encoders.snapshot().find((e) => e.key === key);
    // One unit for both (the shared layout), no process.
    expect(enc('mp3-128k')).toMatchObject({ process: unit, pid: undefined, running: true, generation: 1 });
    expect(s.supervisor.snapshot().find((x) => x.name === unit)).toMatchObject({ engine: 'in-process', pid: undefined });

    const mp3 = listen(s.port, '/listen/live.mp3', { icy: true });
    const ogg = listen(s.port, '/listen/live.ogg');
    await mp3.waitForBytes(32_000); // 2 s at 128 kb/s
    s.programme.setTitle('Second – Title');
    await waitFor(() => mp3.titles.some((t) => t.title === 'Second – Title'), 'title on the MP3 mount', 8000);
    await waitFor(() => chainTitles(ogg.audioBuffer()).includes('Second – Title'), 'a new Ogg chain for the title', 8000);
    expect(chainTitles(ogg.audioBuffer())).toEqual(['First Title', 'Second – Title']);

    lame.fail();
    await waitFor(() => s.supervisor.snapshot().find((x) => x.name === unit)?.restarts === 1, 'restarted', 8000);
    await waitFor(() => enc('mp3-128k')?.running === true, 'running again', 8000);
    expect(enc('mp3-128k')).toMatchObject({ generation: 2, pid: undefined });
    expect(enc('mp3-128k')?.lastError).toMatch(/injected/);
    const [mp3At, oggAt] = [mp3.audioBytes(), ogg.audioBytes()];
    await mp3.waitForBytes(mp3At + 32_000, 8000);
    await ogg.waitForBytes(oggAt + 8_000, 8000);
    expect(mp3.socket.destroyed).toBe(false);
    expect(ogg.socket.destroyed).toBe(false);
    mp3.close();
    ogg.close();

    for (const [l, format] of [
      [mp3, 'mp3'],
      [ogg, 'ogg'],
    ] as const) {
      const d = await decode(l.audioBuffer(), { format });
      expect(d.pcm.length / 4 / 44_100, format).toBeGreaterThan(3);
      // The last second: the sine programme's 440 Hz at its level (12000/32768 peak → RMS ~0.26).
      const tone = toneOf(d.pcm.subarray(-44_100 * 4));
      expect(tone.hz, format).toBeGreaterThan(430);
      expect(tone.hz, format).toBeLessThan(450);
      expect(tone.rms, format).toBeGreaterThan(0.2);
    }
  });

  describe('on the real server', () => {
    const fx = antennaFixture();

    it('with ANTENNA_MP3_VORBIS_ENCODER=in-process, says so; every MP3 and Ogg mount plays; snapshot and status show one in-process unit and no encoder process', async () => {
      const logs = new PassThrough();
      const lines: Record<string, unknown>[] = [];
      logs.on('data', (b: Buffer) => {
        for (const line of b.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      });
      // ffmpeg encodes the AAC here, where `auto` would keep MP3 and Vorbis with it: the setting moves them anyway.
      const t = await fx.start(
        { returnHoldSeconds: 0.5, aacEncoder: 'ffmpeg', mp3VorbisEncoder: 'in-process', logLevel: 'info' },
        { record: false, logTo: logs },
      );
      expect(lines.find((l) => l.msg === 'mp3 and vorbis encoders chosen')).toMatchObject({
        mp3: 'in-process',
        vorbis: 'in-process',
        why: 'set by ANTENNA_MP3_VORBIS_ENCODER',
      });
      const unit = 'mp3-320k+mp3-128k+vorbis-q6+vorbis-q2';
      const running = lines.find((l) => l.msg === 'encoders running');
      // ffmpeg is told to encode AAC here, so it still runs for the three AAC encodes alone.
      expect(running?.processes).toEqual(['aac-128k+aac-64k+aac-192k']);
      expect(running?.inProcess).toEqual([unit]);

      fx.source('primary', { frequency: 440 });
      await waitFor(() => t.antenna.mixer.onAir === 'primary', 'primary on air');
      const base = `http://127.0.0.1:${t.antenna.ports.http}`;
      for (const mount of ['live.mp3', 'live-128.mp3', 'live.ogg', 'live-96.ogg']) {
        const d = await decodeUrl(`${base}/listen/${mount}`, 3);
        expect(d.info.codec, mount).toBe(mount.endsWith('.ogg') ? 'vorbis' : 'mp3');
        expect(toneOf(d.pcm.subarray(-44_100 * 4)).hz, mount).toBeGreaterThan(430);
      }

      const snap = t.antenna.snapshot();
      expect(snap.supervised.find((c) => c.name === unit)).toMatchObject({
        kind: 'encoder',
        engine: 'in-process',
        state: 'running',
        pid: undefined,
      });
      const authorization = 'Basic ' + Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64');
      const st = status.parse(await (await fetch(`${base}/api/status`, { headers: { authorization } })).json());
      const units = new Map(st.components.supervised.map((c) => [c.name, c]));
      expect(units.get(unit)).toMatchObject({ engine: 'in-process', pid: null });
      expect(units.get('aac-128k+aac-64k+aac-192k')).toMatchObject({ engine: 'ffmpeg', pid: expect.any(Number) });
    });
  });
});
