// Failover by ear: primary 440 Hz, fallback 880 Hz, emergency 660 Hz, real ffmpeg source clients over
// loopback, the real clocked mixer. Timing bounds are generous (the benchmark measures precisely);
// what must hold exactly is the order of tones and the absence of silence around each switch.
import { describe, expect, it } from 'vitest';
import { SOURCE_PASSWORD, antennaFixture } from '../helpers/antenna.js';
import { firstHeard, heard, longestSilenceMs, maxStep, sleep, waitFor } from '../helpers/programme.js';
import { rawExchange, type ProcessHandle } from '../helpers/source-client.js';

const P = 440;
const F = 880;
const E = 660;
const TONES = [P, F, E];

const fx = antennaFixture();
let t = undefined as unknown as Awaited<ReturnType<typeof fx.start>>;

function source(input: 'primary' | 'fallback', opts: { lavfi?: string } = {}): ProcessHandle {
  return fx.source(input, { frequency: input === 'primary' ? P : F, ...opts });
}

const onAir = (): string => t.antenna.mixer.onAir;

async function bothOnAirPrimary(): Promise<{ primary: ProcessHandle; fallback: ProcessHandle }> {
  const fallback = source('fallback');
  const primary = source('primary');
  await waitFor(() => onAir() === 'primary', 'primary on air');
  await sleep(1000);
  return { primary, fallback };
}

describe('failover by ear', () => {
  it('starts on the emergency file and puts a connecting primary on air after the hold', async () => {
    t = await fx.start({ returnHoldSeconds: 1 }, { emergencyTone: E });
    await sleep(800);
    const connectAt = performance.now();
    source('primary');
    await waitFor(() => onAir() === 'primary', 'primary on air');
    await sleep(1000);
    const w = heard(t, TONES, 0);
    expect(firstHeard(w, E, 0)).toBeDefined();
    const heardAt = firstHeard(w, P, connectAt);
    expect(heardAt).toBeDefined();
    expect(heardAt! - connectAt).toBeGreaterThan(900); // the hold is honoured
    expect(heardAt! - connectAt).toBeLessThan(4000);
    expect(longestSilenceMs(w, 500, performance.now())).toBe(0);
  });

  it('primary disconnect: its remainder plays out, then the fallback, with no gap', async () => {
    t = await fx.start({ returnHoldSeconds: 0.5 }, { emergencyTone: E });
    const { primary } = await bothOnAirPrimary();
    const killAt = performance.now();
    await primary.stop();
    await waitFor(() => onAir() === 'fallback', 'fallback on air');
    await sleep(1500);
    const w = heard(t, TONES, killAt - 1000);
    const fb = firstHeard(w, F, killAt);
    expect(fb).toBeDefined();
    expect(fb! - killAt).toBeLessThan(2000);
    expect(longestSilenceMs(w, killAt - 1000, performance.now())).toBe(0);
    // No click: ffmpeg's sines are at 1/8 full scale, so a normal 880 Hz step is ≈ 0.016.
    expect(maxStep(t.pcmBetween(killAt - 1000))).toBeLessThan(0.05);
    const switches = t.antenna.snapshot().mixer.timeline.filter((e) => e.type === 'switch');
    expect(switches.at(-1)?.detail).toMatchObject({ from: 'primary', to: 'fallback', reason: 'disconnected' });
  });

  it('primary stall (TCP open, no data): fallback within stallMs plus the buffer, then the primary returns after the hold', async () => {
    t = await fx.start({ returnHoldSeconds: 1 }, { emergencyTone: E });
    const { primary } = await bothOnAirPrimary();
    const stallAt = performance.now();
    primary.pause();
    await waitFor(() => onAir() === 'fallback', 'fallback on air after stall');
    await sleep(1000);
    let w = heard(t, TONES, stallAt - 1000);
    const fb = firstHeard(w, F, stallAt);
    expect(fb).toBeDefined();
    expect(fb! - stallAt).toBeLessThan(2500);
    // Only the stall itself may be silent: buffer drain + stallMs, never more than about a second.
    expect(longestSilenceMs(w, stallAt - 1000, performance.now())).toBeLessThan(1000);
    // The audio stopping mid-frame is ramped, not cut: no click into the stall or out of it.
    expect(maxStep(t.pcmBetween(stallAt - 1000))).toBeLessThan(0.05);
    const snap = t.antenna
      .snapshot()
      .mixer.timeline.filter((e) => e.type === 'switch')
      .at(-1);
    expect(snap?.detail).toMatchObject({ from: 'primary', to: 'fallback', reason: 'stalled' });

    const resumeAt = performance.now();
    primary.resume();
    await waitFor(() => onAir() === 'primary', 'primary back on air');
    await sleep(1000);
    w = heard(t, TONES, resumeAt - 500);
    const back = firstHeard(w, P, resumeAt);
    expect(back).toBeDefined();
    expect(back! - resumeAt).toBeGreaterThan(900);
    expect(longestSilenceMs(w, resumeAt, performance.now())).toBe(0);
  });

  it('silent primary: fallback after silenceSeconds; sound again only after soundSeconds', async () => {
    t = await fx.start({ returnHoldSeconds: 0.5, silenceSeconds: 1.5, soundSeconds: 1 }, { emergencyTone: E });
    source('fallback');
    // 440 Hz for 4 s, silence for 4 s, then 440 Hz again.
    const goneSilentAfter = 4;
    const c = source('primary', {
      lavfi: `aevalsrc=exprs='if(between(t\\,${goneSilentAfter}\\,8)\\,0\\,0.5*sin(2*PI*${P}*t))':s=44100:c=stereo`,
    });
    await waitFor(() => onAir() === 'primary', 'primary on air');
    await waitFor(() => onAir() === 'fallback', 'fallback after silence', 15_000);
    const switchedAt = performance.now();
    await waitFor(() => onAir() === 'primary', 'primary back after sound', 15_000);
    const backAt = performance.now();
    expect(backAt - switchedAt).toBeGreaterThan(1000); // sound 1 s + hold 0.5 s before it may return
    await sleep(500);
    const tl = t.antenna.snapshot().mixer.timeline;
    expect(tl.some((e) => e.type === 'silence' && e.detail.inputId === 'primary')).toBe(true);
    expect(tl.some((e) => e.type === 'sound' && e.detail.inputId === 'primary')).toBe(true);
    expect(tl.find((e) => e.type === 'switch' && e.detail.reason === 'silent')?.detail).toMatchObject({ from: 'primary', to: 'fallback' });
    void c;
  });

  it('fallback gone too: the emergency file plays, then the primary comes back after the hold', async () => {
    t = await fx.start({ returnHoldSeconds: 1 }, { emergencyTone: E });
    const { primary, fallback } = await bothOnAirPrimary();
    await primary.stop();
    await waitFor(() => onAir() === 'fallback', 'fallback on air');
    await sleep(500);
    const fbGoneAt = performance.now();
    await fallback.stop();
    await waitFor(() => onAir() === 'emergency', 'emergency on air');
    await sleep(1000);
    let w = heard(t, TONES, fbGoneAt - 500);
    const em = firstHeard(w, E, fbGoneAt);
    expect(em).toBeDefined();
    expect(em! - fbGoneAt).toBeLessThan(2000);
    expect(longestSilenceMs(w, fbGoneAt - 500, performance.now())).toBe(0);
    expect(t.antenna.mixer.currentMeta).toMatchObject({ tier: 'emergency', title: 'We will be right back' });

    const backAt = performance.now();
    source('primary');
    await waitFor(() => onAir() === 'primary', 'primary back');
    await sleep(800);
    w = heard(t, TONES, backAt);
    expect(firstHeard(w, P, backAt)).toBeDefined();
    expect(longestSilenceMs(w, backAt, performance.now())).toBe(0);
  });

  it('a flapping primary never makes the programme flap', async () => {
    t = await fx.start({ returnHoldSeconds: 2 }, { emergencyTone: E });
    source('fallback');
    await waitFor(() => onAir() === 'fallback', 'fallback on air');
    const from = performance.now();
    for (let i = 0; i < 4; i++) {
      const c = source('primary');
      await sleep(1200);
      await c.stop();
      await sleep(400);
    }
    const w = heard(t, TONES, from);
    expect(firstHeard(w, P, from, 3)).toBeUndefined();
    expect(t.antenna.snapshot().mixer.timeline.filter((e) => e.type === 'switch' && e.detail.to === 'primary')).toHaveLength(0);
    expect(longestSilenceMs(w, from, performance.now())).toBe(0);
  });
});

describe('titles', () => {
  it('a title sent before the source is announced (libshout sends it right after the 200) goes on air', async () => {
    t = await fx.start({ returnHoldSeconds: 0.5 }, { emergencyTone: E });
    // libshout's order: its metadata update reaches the source port before its audio is decoded.
    const auth = Buffer.from(`source:${SOURCE_PASSWORD}`).toString('base64');
    const reply = await rawExchange(
      t.antenna.ports.primary,
      `GET /admin/metadata?mode=updinfo&mount=%2Flive&song=First%20Song HTTP/1.0\r\nAuthorization: Basic ${auth}\r\n\r\n`,
    );
    expect(reply.toString()).toContain('<return>1</return>');
    source('primary');
    await waitFor(() => onAir() === 'primary', 'primary on air');
    expect(t.antenna.mixer.currentMeta.title).toBe('First Song');
  });
});
