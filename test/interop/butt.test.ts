// BUTT 0.1.37, the encoder most station DJs use, against the real server. Icecast mode: PUT with
// Expect to the primary port and a `/admin/metadata` title with raw UTF-8 in the request-target.
// Shoutcast mode: set to the fallback port p, it streams to p + 1 and sends `/admin.cgi` titles to p.
// BUTT is a GUI program: it runs on its own Xvfb display and is driven by its remote (`butt -s/-u/-d`);
// its "sound card" is ALSA's `default` PCM redirected (~/.asoundrc in a temp HOME) to a paced tone.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeToPcm, dominantTones } from '../helpers/interop-audio.js';
import {
  buttConfig,
  buttOutput,
  leftoverProcesses,
  startButt,
  startToneFeed,
  startXvfb,
  toneAsoundrc,
  type Butt,
  type ButtServerConfig,
  type ToneFeed,
} from '../helpers/interop-butt.js';
import { readIcy } from '../helpers/interop-http.js';
import { freePort, freePortPair, missing, tempDir, until, type Running } from '../helpers/interop-programs.js';
import { logs, startAntenna, type AntennaServer, type LogLine, stopCleanly, LEAN_OUTPUTS } from '../helpers/interop-server.js';

const skip = missing('butt', 'Xvfb', 'mkfifo');
const ICECAST_TONE = 440;
const SHOUTCAST_TONE = 660;
const EMERGENCY_TONE = 523; // interop-server.ts plays this when no studio input is on air
const TONES = [ICECAST_TONE, SHOUTCAST_TONE, EMERGENCY_TONE];
const ICECAST_TITLE = 'Bütt Title';
const SHOUTCAST_TITLE = 'Bütt SC Title';
const LISTEN_SECONDS = 10;
/** What a new listener gets first is the burst: up to 2 s of programme from before it connected. */
const SKIP_BURST_SECONDS = 2.5;
const MP3_BYTES_PER_SECOND = 128_000 / 8;

describe.skipIf(skip !== undefined)(`BUTT 0.1.37 → primary (Icecast) and fallback (Shoutcast)${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let server: AntennaServer | undefined;
  let dir: ReturnType<typeof tempDir>;
  let fallbackPort = 0;
  let xvfb: Running | undefined;
  let tone: ToneFeed | undefined;
  let butt: Butt | undefined;

  beforeAll(async () => {
    dir = tempDir('butt');
    // BUTT's Shoutcast mode takes a base port and streams to port + 1: the fallback's two ports
    // must be consecutive, so they are chosen here rather than left to port 0.
    fallbackPort = await freePortPair();
    server = await startAntenna({
      env: {
        ANTENNA_RETURN_HOLD_SECONDS: '0',
        ANTENNA_FALLBACK_PORT: String(fallbackPort),
        ANTENNA_FALLBACK_SHOUTCAST_PORT: String(fallbackPort + 1),
        ...LEAN_OUTPUTS,
      },
    });
  });

  afterEach(async () => {
    await butt?.stop();
    await tone?.close();
    await xvfb?.stop(3000);
    butt = undefined;
    tone = undefined;
    xvfb = undefined;
    expect(leftoverProcesses(dir.path), 'BUTT, Xvfb or the tone feeder still running after the test').toEqual([]);
  });

  afterAll(async () => {
    dir?.remove();
    if (!server) return; // start-up failed: beforeAll already reported why
    await stopCleanly(server);
  });

  /** Xvfb, a tone on BUTT's capture device and BUTT itself, configured for one server. */
  async function launch(name: string, srv: ButtServerConfig, freq: number): Promise<Butt> {
    const base = join(dir.path, name);
    const home = join(base, 'home');
    mkdirSync(home, { recursive: true });
    const fifo = join(base, 'tone.fifo');
    writeFileSync(join(home, '.asoundrc'), toneAsoundrc(fifo));
    const configPath = join(base, 'buttrc');
    writeFileSync(configPath, buttConfig(srv));
    const x = await startXvfb();
    xvfb = x.xvfb;
    tone = startToneFeed(fifo, freq, 120);
    butt = await startButt({ home, configPath, display: x.display, controlPort: await freePort() });
    return butt;
  }

  /** What BUTT printed and reports (`butt -S`), and what the server logged, for assertion messages. */
  async function context(b: Butt): Promise<string> {
    return `--- butt output ---\n${buttOutput(b.proc)}\n--- butt -S ---\n${await b.status()}\n${server?.describe() ?? ''}`;
  }

  /** Awaits `p`; on failure the error carries BUTT's side and the server's side. */
  async function explained<T>(b: Butt, p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await context(b)}`, { cause: err });
    }
  }

  /** `butt -s` (retried: the remote may answer before BUTT's stream settings are loaded). */
  async function connect(b: Butt): Promise<void> {
    await explained(
      b,
      until('`butt -s` to be accepted', 15_000, async () => ((await b.control('-s')).code === 0 ? true : undefined), 500),
    );
  }

  /** One listener on /listen/live.mp3: the ICY titles it saw and the strongest tone per 0.5 s after its burst. */
  async function listen(title: string): Promise<{ titles: string[]; tones: (number | undefined)[]; error?: string }> {
    const s = server as AntennaServer;
    const r = await readIcy(`${s.httpBase}/listen/live.mp3`, {
      timeoutMs: 30_000,
      untilTitle: (t) => t === title,
      minAudioBytes: LISTEN_SECONDS * MP3_BYTES_PER_SECOND,
    });
    const decoded = await decodeToPcm(r.audio, LISTEN_SECONDS + 2);
    const live = decoded.pcm.subarray(Math.floor(SKIP_BURST_SECONDS * 44_100) * 4);
    // The strongest tone, not a 10:1 dominant one: BUTT's capture through ALSA's `file` plugin is
    // zero-padded wherever a FIFO read comes up short (see interop-butt.ts); those clicks spread energy
    // over every frequency, while the tone BUTT was fed still stands clearly above the others.
    return { titles: r.titles, tones: dominantTones(live, TONES, 0.5, 1), ...(r.error ? { error: r.error } : {}) };
  }

  const share = (tones: readonly (number | undefined)[], f: number): number =>
    tones.length === 0 ? 0 : tones.filter((t) => t === f).length / tones.length;

  it('Icecast mode: PUT with Expect to the primary, a raw-UTF-8 title and the 440 Hz tone reach listeners', async () => {
    const s = server as AntennaServer;
    const since = s.mark();
    const b = await launch(
      'icecast',
      { mode: 'icecast', port: s.ports.primary, password: s.sourcePassword, mount: 'butt.mp3' },
      ICECAST_TONE,
    );
    await connect(b);

    const connected = await explained(
      b,
      s.waitForLog('BUTT "source connected" on primary', logs.sourceConnected('primary', /^butt 0\.1\.37$/), 30_000, since),
    );
    expect(connected.protocol, 'BUTT Icecast mode is PUT + Expect: 100-continue').toBe('icecast-put');
    expect(connected.mount).toBe('/butt.mp3');
    expect(connected.chunked).toBe(false);
    await explained(b, s.waitForLog('first decoded PCM on primary', logs.firstPcm('primary'), 30_000, since));
    await explained(
      b,
      s.waitForLog('the mixer switching to primary', (l: LogLine) => l.msg === 'switch' && l.to === 'primary', 30_000, since),
    );

    // BUTT sends `GET /admin/metadata?mode=updinfo&mount=/butt.mp3&song=B\xc3\xbctt%20Title HTTP/1.0`:
    // raw UTF-8 bytes in the request-target, only spaces escaped, no charset (reference §1.6).
    const u = await b.control('-u', ICECAST_TITLE);
    expect(u.code, `butt -u: ${u.output}`).toBe(0);
    const meta = await explained(b, s.waitForLog(`metadata update "${ICECAST_TITLE}"`, logs.metadata(ICECAST_TITLE), 20_000, since));
    expect(meta.inputId).toBe('primary');
    expect(meta.path).toBe('/admin/metadata');

    const heard = await listen(ICECAST_TITLE);
    const why = `titles ${JSON.stringify(heard.titles)}, tones ${JSON.stringify(heard.tones)}${heard.error ? `, listener: ${heard.error}` : ''}\n${await context(b)}`;
    expect(heard.titles, `ICY StreamTitle on /listen/live.mp3: ${why}`).toContain(ICECAST_TITLE);
    expect(
      share(heard.tones, ICECAST_TONE),
      `share of 0.5 s windows (after the burst) where the strongest tone is ${ICECAST_TONE} Hz: ${why}`,
    ).toBeGreaterThanOrEqual(0.75);

    const mark = s.mark();
    const d = await b.control('-d');
    expect(d.code, `butt -d: ${d.output}`).toBe(0);
    await s.waitForLog('"source disconnected" on primary', logs.sourceDisconnected('primary'), 20_000, mark);
  });

  it('Shoutcast mode: set to the fallback port p, streams to p + 1, its /admin.cgi title and 660 Hz tone reach listeners', async () => {
    const s = server as AntennaServer;
    expect(s.ports.fallback).toBe(fallbackPort);
    expect(s.ports.fallbackShoutcast, 'the fallback Shoutcast port in the ready line').toBe(fallbackPort + 1);
    const since = s.mark();
    const b = await launch('shoutcast', { mode: 'shoutcast', port: fallbackPort, password: s.sourcePassword }, SHOUTCAST_TONE);
    await connect(b);

    // BUTT sends `<password>\r\n` and its icy-* headers in one segment without waiting for OK2.
    const connected = await explained(
      b,
      s.waitForLog('BUTT "source connected" on fallback', logs.sourceConnected('fallback'), 30_000, since),
    );
    expect(connected.protocol).toBe('shoutcast');
    expect(connected.port, 'the audio goes to the base port + 1').toBe(fallbackPort + 1);
    await explained(b, s.waitForLog('first decoded PCM on fallback', logs.firstPcm('fallback'), 30_000, since));
    await explained(
      b,
      s.waitForLog('the mixer switching to fallback', (l: LogLine) => l.msg === 'switch' && l.to === 'fallback', 30_000, since),
    );

    // `GET /admin.cgi?pass=…&mode=updinfo&song=B\xc3\xbctt%20SC%20Title&url= HTTP/1.0` to the base port.
    const u = await b.control('-u', SHOUTCAST_TITLE);
    expect(u.code, `butt -u: ${u.output}`).toBe(0);
    const meta = await explained(b, s.waitForLog(`metadata update "${SHOUTCAST_TITLE}"`, logs.metadata(SHOUTCAST_TITLE), 20_000, since));
    expect(meta.inputId).toBe('fallback');
    expect(meta.path).toBe('/admin.cgi');
    expect(meta.port, 'Shoutcast titles go to the base port').toBe(fallbackPort);

    const heard = await listen(SHOUTCAST_TITLE);
    const why = `titles ${JSON.stringify(heard.titles)}, tones ${JSON.stringify(heard.tones)}${heard.error ? `, listener: ${heard.error}` : ''}\n${await context(b)}`;
    expect(heard.titles, `ICY StreamTitle on /listen/live.mp3: ${why}`).toContain(SHOUTCAST_TITLE);
    expect(
      share(heard.tones, SHOUTCAST_TONE),
      `share of 0.5 s windows (after the burst) where the strongest tone is ${SHOUTCAST_TONE} Hz: ${why}`,
    ).toBeGreaterThanOrEqual(0.75);

    const mark = s.mark();
    const d = await b.control('-d');
    expect(d.code, `butt -d: ${d.output}`).toBe(0);
    await s.waitForLog('"source disconnected" on fallback', logs.sourceDisconnected('fallback'), 20_000, mark);
  });
});
