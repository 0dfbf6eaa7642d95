import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mp3FrameAt } from '../../src/encoders/framing.js';
import { decode, listen, toneOf } from '../helpers/listener.js';
import { startOutputs, type OutputsStack } from '../helpers/outputs-stack.js';

let s: OutputsStack;
beforeAll(async () => {
  s = await startOutputs();
  await new Promise((r) => setTimeout(r, 2500)); // let the ring fill for the burst
});
afterAll(async () => {
  await s?.close();
});

describe('/listen/live.mp3', () => {
  it('answers like Icecast: HTTP/1.0, icy headers, no chunking, no length, frame-aligned burst', async () => {
    const l = listen(s.port, '/listen/live.mp3', { httpVersion: '1.1' });
    const h = await l.head;
    expect(h.statusLine).toBe('HTTP/1.0 200 OK');
    expect(h.headers['content-type']).toBe('audio/mpeg');
    expect(h.headers['icy-br']).toBe('320');
    expect(h.headers['icy-name']).toBe('Antenna');
    expect(h.headers['transfer-encoding']).toBeUndefined();
    expect(h.headers['content-length']).toBeUndefined();
    expect(h.headers['icy-metaint']).toBeUndefined();
    expect(h.rawHead).toContain('\r\nicy-br:320\r\n');
    expect(h.headers['cache-control']).toBe('no-cache, no-store');
    // The burst: about 2 s of 320 kbit/s at once, starting on a frame header.
    await l.waitForBytes(60_000, 3000);
    const b = l.audioBuffer();
    expect(mp3FrameAt(b, 0)).toBeDefined();
    l.close();
    const d = await decode(b);
    expect(d.info.codec).toBe('mp3');
    expect(d.info.sampleRate).toBe(44100);
    expect(d.info.kbps).toBe(320);
    const tone = toneOf(d.pcm.subarray(44100 * 4 * 0.2));
    expect(tone.rms).toBeGreaterThan(0.1);
    expect(Math.abs(tone.hz - 440)).toBeLessThan(15);
  });
});
