// AAC encoded in Node with libfdk-aac (src/encoders/fdk-encoder.ts): mounts and HLS tiers play, titles follow, a
// library error is a death the supervisor restarts, and the server says which AAC encoder it chose. Needs Debian's
// libfdk-aac2 (non-free), which .ci/run installs; without it these tests skip and say why.
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFdkAac, type FdkAacLibrary } from '../../src/encoders/fdk-aac.js';
import { faulty } from '../helpers/faulty-codec.js';
import { status } from '../../src/api/schemas.js';
import { ADMIN_PASSWORD, antennaFixture } from '../helpers/antenna.js';
import { decode, decodeUrl, listen, toneOf } from '../helpers/listener.js';
import { startOutputs, type OutputsStack } from '../helpers/outputs-stack.js';
import { sleep, waitFor } from '../helpers/programme.js';

const library = await loadFdkAac().catch((err: unknown) => {
  process.stderr.write(`fdk-aac tests skipped: ${(err as Error).message}\n`);
  return undefined;
});

const stacks: OutputsStack[] = [];
afterAll(async () => {
  for (const s of stacks) await s.close();
});

describe.skipIf(!library)('AAC encoded in-process with libfdk-aac', () => {
  it('a mount plays the tone, titles follow, and a library error is a death the supervisor restarts without dropping listeners', async () => {
    const lib = faulty(library as FdkAacLibrary, 'aacEncEncode failed: 0x60 (injected)');
    const s = await startOutputs(
      {
        mounts: [
          { mount: '/listen/live.mp3', codec: 'mp3', bitrate: 128_000 },
          { mount: '/listen/live.aac', codec: 'aac', bitrate: 128_000 },
        ],
      },
      'First Title',
      { fdkAac: lib },
    );
    stacks.push(s);
    const enc = () => s.encoders.snapshot().find((e) => e.key === 'aac-128k');
    // Its own unit, no process: the MP3 mount still has its ffmpeg.
    expect(enc()).toMatchObject({ process: 'aac-128k', pid: undefined, running: true, generation: 1 });
    expect(s.encoders.snapshot().find((e) => e.key === 'mp3-128k')?.pid).toBeGreaterThan(0);

    const l = listen(s.port, '/listen/live.aac', { icy: true });
    await l.waitForBytes(32_000); // 2 s at 128 kb/s
    s.programme.setTitle('Second Title');
    await waitFor(() => l.titles.some((t) => t.title === 'Second Title'), 'title on the AAC mount', 8000);

    lib.fail();
    await waitFor(() => s.supervisor.snapshot().find((x) => x.name === 'aac-128k')?.restarts === 1, 'restarted', 8000);
    await waitFor(() => enc()?.running === true, 'running again', 8000);
    expect(enc()).toMatchObject({ generation: 2, pid: undefined });
    expect(enc()?.lastError).toMatch(/injected/);
    const atRestart = l.audioBytes();
    await l.waitForBytes(atRestart + 32_000, 8000);
    expect(l.socket.destroyed).toBe(false);
    l.close();

    const d = await decode(l.audioBuffer(), { format: 'aac' });
    expect(d.info.codec).toBe('aac');
    expect(d.pcm.length / 4 / 44_100).toBeGreaterThan(3);
    // The last second: the sine programme's 440 Hz at its level (12000/32768 peak → RMS ~0.26).
    const tone = toneOf(d.pcm.subarray(-44_100 * 4));
    expect(tone.hz).toBeGreaterThan(430);
    expect(tone.hz).toBeLessThan(450);
    expect(tone.rms).toBeGreaterThan(0.2);
  });

  describe('on the real server', () => {
    const fx = antennaFixture();

    it('says it chose FDK; AAC mounts and every HLS tier play; snapshot and status show in-process encoders without a pid', async () => {
      const logs = new PassThrough();
      const lines: Record<string, unknown>[] = [];
      logs.on('data', (b: Buffer) => {
        for (const line of b.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      });
      const t = await fx.start({ returnHoldSeconds: 0.5, aacEncoder: 'fdk-aac', logLevel: 'info' }, { record: false, logTo: logs });
      expect(lines.find((l) => l.msg === 'aac encoder chosen')).toMatchObject({ engine: 'fdk-aac', why: 'set by ANTENNA_AAC_ENCODER' });
      expect(lines.find((l) => l.msg === 'mp3 and vorbis encoders chosen')).toMatchObject({
        mp3: 'in-process',
        vorbis: 'in-process',
        why: expect.stringMatching(/loaded: with AAC in the server too, no encoder process is left$/),
      });
      const running = lines.find((l) => l.msg === 'encoders running');
      // With LAME and libvorbis in-process too (the default where they load), no encoder process is left.
      expect((running?.inProcess as string[]).sort()).toEqual(['aac-128k', 'aac-192k', 'aac-64k', 'mp3-320k+mp3-128k+vorbis-q6+vorbis-q2']);
      expect(running?.processes).toEqual([]);

      fx.source('primary', { frequency: 440 });
      await waitFor(() => t.antenna.mixer.onAir === 'primary', 'primary on air');
      const base = `http://127.0.0.1:${t.antenna.ports.http}`;
      const mount = await decodeUrl(`${base}/listen/live-64.aac`, 3);
      expect(mount.info.codec).toBe('aac');
      expect(toneOf(mount.pcm.subarray(-44_100 * 4)).hz).toBeGreaterThan(430);

      const master = await (await fetch(`${base}/hls/master.m3u8`)).text();
      const tiers = master.split('\n').filter((l) => l && !l.startsWith('#'));
      expect(tiers).toHaveLength(3);
      // Each tier's newest complete segment (packed ADTS audio) decodes to the tone.
      await sleep(4500);
      for (const tier of tiers) {
        const url = new URL(tier, `${base}/hls/`);
        const playlist = await (await fetch(url)).text();
        const segment = playlist
          .split('\n')
          .filter((l) => l && !l.startsWith('#'))
          .at(-1) as string;
        const bytes = Buffer.from(await (await fetch(new URL(segment, url))).arrayBuffer());
        const d = await decode(bytes, { format: 'aac' });
        expect(d.info.codec, tier).toBe('aac');
        expect(d.pcm.length / 4 / 44_100, tier).toBeGreaterThan(0.9);
        expect(toneOf(d.pcm).hz, tier).toBeGreaterThan(430);
      }

      const snap = t.antenna.snapshot();
      for (const key of ['aac-128k', 'aac-64k', 'aac-192k']) {
        expect(snap.encoders.find((e) => e.key === key)).toMatchObject({ process: key, pid: undefined, running: true });
        expect(snap.supervised.find((c) => c.name === key)).toMatchObject({
          kind: 'encoder',
          engine: 'fdk-aac',
          state: 'running',
          pid: undefined,
        });
      }
      // The status API (what the dashboard's components table reads) says who runs each unit.
      const authorization = 'Basic ' + Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64');
      const st = status.parse(await (await fetch(`${base}/api/status`, { headers: { authorization } })).json());
      const units = new Map(st.components.supervised.map((c) => [c.name, c]));
      for (const key of ['aac-128k', 'aac-64k', 'aac-192k']) expect(units.get(key)).toMatchObject({ engine: 'fdk-aac', pid: null });
      expect(units.get('mp3-320k+mp3-128k+vorbis-q6+vorbis-q2')).toMatchObject({ engine: 'in-process', pid: null });
      await sleep(200);
    });
  });
});
