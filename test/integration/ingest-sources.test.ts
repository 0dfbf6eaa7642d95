// Every kind of source client the ingest must accept, as real processes or replayed captures on
// loopback: PCM must actually come out of the decoder for each format and protocol.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { BYTES_PER_FRAME, SAMPLE_RATE } from '../../src/types/pcm.js';
import { clientSegments, serverSegments } from '../fixtures/captures/load.js';
import {
  rawExchange,
  startShoutcastClient,
  startSourceClient,
  startToneEncoder,
  type ProcessHandle,
  type SourceCodec,
} from '../helpers/source-client.js';
import { pcmOf, sleep, ingestFixture, SOURCE_PASSWORD, type Recorded } from './ingest-harness.js';

const ONE_SECOND = SAMPLE_RATE * BYTES_PER_FRAME;
const { ingest, track } = ingestFixture();

/** A raw connection whose replies are collected. */
async function connect(port: number): Promise<{ socket: net.Socket; received: () => Buffer }> {
  const socket = net.connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => undefined);
  await new Promise<void>((r) => socket.once('connect', () => r()));
  track({ kill: async () => void socket.destroy() });
  return { socket, received: () => Buffer.concat(chunks) };
}

/** Streams an ffmpeg MP3 tone into `socket`, optionally chunk-framed. */
function pipeTone(socket: net.Socket, chunked = false): ProcessHandle {
  const enc = track(startToneEncoder({ codec: 'mp3' }));
  enc.proc.stdout.on('data', (d: Buffer) => {
    if (socket.destroyed) return;
    socket.write(chunked ? Buffer.concat([Buffer.from(`${d.length.toString(16)}\r\n`), d, Buffer.from('\r\n')]) : d);
  });
  return enc;
}

async function expectPcm(rec: Recorded, inputId: 'primary' | 'fallback', bytes = ONE_SECOND / 2) {
  const connected = await rec.waitFor('source-connected', () => rec.all('source-connected').find((e) => e.inputId === inputId));
  await rec.waitFor(`${bytes} bytes of PCM`, () => pcmOf(rec, connected.info.connectionId) >= bytes);
  return connected.info;
}

describe('ingest: real sources produce PCM', () => {
  it.each<[SourceCodec, string, number]>([
    ['mp3', 'mp3', 1000],
    ['aac', 'aac', 1000],
    ['ogg', 'ogg', 1000],
    ['opus', 'ogg', 1000],
    // ffmpeg's FLAC parser holds ~10 frames (≈1 s at 4608-sample blocks) before the first output.
    ['flac', 'flac', 3000],
  ])('ffmpeg PUT + Expect, %s → PCM (format %s, first PCM within %d ms)', async (codec, format, maxFirstPcmMs) => {
    const rec = await ingest();
    const src = track(startSourceClient({ port: rec.ingest.ports.primary, password: SOURCE_PASSWORD, codec, mount: '/live.x' }));
    const info = await expectPcm(rec, 'primary', ONE_SECOND);
    expect(info).toMatchObject({ format, protocol: 'icecast-put', mount: '/live.x', inputId: 'primary' });
    expect(info.userAgent).toMatch(/^Lavf/);
    expect(info.headers['ice-name']).toBe('Test tone');
    const snap = rec.ingest.snapshot().inputs.primary;
    expect(snap).toMatchObject({ state: 'streaming', format, remoteAddress: '127.0.0.1' });
    expect(snap.bytesIn).toBeGreaterThan(0);
    expect(snap.firstPcmMs).toBeLessThan(maxFirstPcmMs);
    console.log(`first byte → first PCM, ${codec}: ${snap.firstPcmMs} ms`);
    await src.stop();
    const gone = await rec.waitFor('source-disconnected', () => rec.all('source-disconnected')[0]);
    expect(gone.reason).toBe('client-closed');
    // Disconnect comes after the decoder's last PCM: nothing more arrives for that connection.
    const total = pcmOf(rec, info.connectionId);
    await sleep(300);
    expect(pcmOf(rec, info.connectionId)).toBe(total);
    expect(rec.ingest.snapshot().inputs.primary.state).toBe('idle');
  });

  it('a source faster than real time, decoded by ffmpeg: throttled by its stdin (backpressure) and fully decoded', async () => {
    const rec = await ingest({ mp3Decoder: 'ffmpeg' });
    // 30 s of MP3 sent as fast as ffmpeg encodes it: the decoder's stdin fills and the socket pauses.
    const src = track(startSourceClient({ port: rec.ingest.ports.primary, password: SOURCE_PASSWORD, realtime: false, durationS: 30 }));
    const gone = await rec.waitFor('end of the 30 s source', () => rec.all('source-disconnected')[0], 30_000);
    expect(gone.reason).toBe('client-closed');
    await src.exited;
    // Every second of audio came out (the MP3 decoder may add or trim a frame at the edges).
    expect(pcmOf(rec, gone.info.connectionId)).toBeGreaterThan(29.9 * ONE_SECOND);
    expect(rec.all('decoder-error')).toHaveLength(0);
  });

  it('a source faster than real time, decoded in-process: paced (a 10 s burst, then twice real time) by pausing its socket', async () => {
    const rec = await ingest();
    const src = track(startSourceClient({ port: rec.ingest.ports.primary, password: SOURCE_PASSWORD, realtime: false, durationS: 30 }));
    const started = performance.now();
    const connected = await rec.waitFor('connected', () => rec.all('source-connected')[0], 10_000);
    // ffmpeg encodes 30 s in well under a second; decoding it all at once is what the pacing prevents.
    await sleep(2500);
    const early = pcmOf(rec, connected.info.connectionId);
    const elapsedS = (performance.now() - started) / 1000;
    expect(early).toBeGreaterThan(10 * ONE_SECOND);
    // At most the burst, twice the time since, and one socket read past it (64 KB: 4 s of 128k).
    expect(early).toBeLessThanOrEqual((14 + 2 * elapsedS) * ONE_SECOND);
    // The audio keeps coming at twice real time until the client leaves. ffmpeg resets the connection
    // (ECONNRESET here) once its last bytes are in the sockets' buffers, so what was still in flight
    // then is not decoded: how much depends on the kernel's buffer sizes. The mixer would have kept only
    // maxBufferMs of it anyway.
    const gone = await rec.waitFor('end of the 30 s source', () => rec.all('source-disconnected')[0], 30_000);
    expect(gone.reason).toBe('client-closed');
    await src.exited;
    expect(pcmOf(rec, connected.info.connectionId)).toBeGreaterThanOrEqual(early);
    expect(rec.all('decoder-error')).toHaveLength(0);
  });

  it('ffmpeg -legacy_icecast SOURCE (audio in the same packet as the head)', async () => {
    const rec = await ingest();
    track(startSourceClient({ port: rec.ingest.ports.fallback, password: SOURCE_PASSWORD, method: 'source' }));
    const info = await expectPcm(rec, 'fallback');
    expect(info).toMatchObject({ protocol: 'icecast-source', format: 'mp3' });
  });

  it('chunked PUT (Liquidsoap chunked=true head, hand-written chunks)', async () => {
    const rec = await ingest();
    const { socket, received } = await connect(rec.ingest.ports.primary);
    socket.write(clientSegments('liquidsoap2.1.3_outputs__ffmpeg.49')[0] as Buffer);
    await rec.waitFor(
      '100 + 200',
      () => received().toString() === 'HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\nHTTP/1.0 200 OK\r\n\r\n',
    );
    pipeTone(socket, true);
    const info = await expectPcm(rec, 'primary');
    expect(info).toMatchObject({ protocol: 'icecast-put', mount: '/liqputc.mp3', format: 'mp3' });
  });

  it('Shoutcast v1: captured BUTT hello on the Shoutcast port, OK2, then MP3', async () => {
    const rec = await ingest();
    const sc = track(await startShoutcastClient({ port: rec.ingest.ports.primaryShoutcast, password: SOURCE_PASSWORD }));
    expect(sc.reply.equals(serverSegments('butt0.1.37_shoutcast__icy.5')[0] as Buffer)).toBe(true);
    const info = await expectPcm(rec, 'primary');
    expect(info).toMatchObject({ protocol: 'shoutcast', format: 'mp3' });
    expect(info.headers).toMatchObject({ 'icy-name': 'Info', 'icy-br': '128' });
  });

  it('DarkIce: bare-LF head split across two packets', async () => {
    const rec = await ingest();
    const { socket, received } = await connect(rec.ingest.ports.primary);
    const [a, b] = clientSegments('darkice1.3__ffmpeg.46') as [Buffer, Buffer];
    socket.write(a);
    await sleep(50);
    socket.write(b);
    await rec.waitFor('200 OK', () => received().toString() === 'HTTP/1.0 200 OK\r\n\r\n');
    pipeTone(socket);
    const info = await expectPcm(rec, 'primary');
    expect(info.headers).toMatchObject({ 'ice-url': 'http://dark.example', 'ice-genre': 'DarkGenre', 'content-type': 'audio/mpeg' });
    expect(info.userAgent).toMatch(/^DarkIce/);
  });

  it("libshout's probe sequence: OPTIONS *, GET /admin/!POKE, SOURCE without then with credentials", async () => {
    const rec = await ingest();
    const port = rec.ingest.ports.primary;
    const seg = (n: number): Buffer => clientSegments(`ezstream1.0.2_libshout2.4.6__ffmpeg.${n}`)[0] as Buffer;
    const sameAsCaptured = (ours: Buffer, n: number): void => {
      const noDate = (b: Buffer): string => b.toString('latin1').replace(/Date: [^\r]*/, 'Date: X');
      expect(noDate(ours)).toBe(noDate(serverSegments(`ezstream1.0.2_libshout2.4.6__ffmpeg.${n}`)[0] as Buffer));
    };
    expect((await rawExchange(port, seg(38))).length).toBe(0); // Icecast 2.4.4 closes without a word
    sameAsCaptured(await rawExchange(port, seg(39)), 39);
    sameAsCaptured(await rawExchange(port, seg(40)), 40);
    const { socket, received } = await connect(port);
    socket.write(seg(41));
    await rec.waitFor('200 OK', () => received().toString() === 'HTTP/1.0 200 OK\r\n\r\n');
    pipeTone(socket);
    const info = await expectPcm(rec, 'primary');
    expect(info).toMatchObject({ protocol: 'icecast-source', mount: '/ez.mp3', userAgent: 'libshout/2.4.6' });
    expect(info.headers['ice-audio-info']).toBe('bitrate=128;samplerate=44100;channels=2');
  });

  it("a shared port: primary's Shoutcast port = fallback port, told apart by the first line", async () => {
    // Free ports from the kernel, closed before the ingest binds them: another test running in parallel
    // may take one in between (seen in CI on the fallback's Shoutcast port), so a clash is retried.
    const freePort = async (): Promise<number> => {
      const probe = net.createServer();
      const p = await new Promise<number>((r) => probe.listen(0, '127.0.0.1', () => r((probe.address() as net.AddressInfo).port)));
      await new Promise((r) => probe.close(r));
      return p;
    };
    let shared = 0;
    let rec: Awaited<ReturnType<typeof ingest>> | undefined;
    for (let attempt = 0; !rec; attempt++) {
      shared = await freePort();
      try {
        rec = await ingest({ fallbackPort: shared, primaryShoutcastPort: shared, fallbackShoutcastPort: await freePort() });
      } catch (err) {
        if ((err as { code?: string }).code !== 'PORT_IN_USE' || attempt >= 4) throw err;
      }
    }
    expect(rec.ingest.ports.fallback).toBe(shared);
    expect(rec.ingest.ports.primaryShoutcast).toBe(shared);
    track(await startShoutcastClient({ port: shared, password: SOURCE_PASSWORD, frequency: 440 }));
    track(startSourceClient({ port: shared, password: SOURCE_PASSWORD, frequency: 880 }));
    const primary = await expectPcm(rec, 'primary');
    const fallback = await expectPcm(rec, 'fallback');
    expect(primary.protocol).toBe('shoutcast');
    expect(fallback.protocol).toBe('icecast-put');
  });
});
