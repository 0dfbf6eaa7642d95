// More real source clients, one after another on one server: Debian's ffmpeg 5.1 (PUT with
// Expect: 100-continue, and -legacy_icecast SOURCE with audio in the head's packet) and Liquidsoap
// 2.1.3 (SOURCE + /admin/metadata with charset=UTF-8, and its Shoutcast "icy" protocol to port+1
// with a Latin-1 percent-encoded /admin.cgi title).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeToPcm, dominantTones } from '../helpers/interop-audio.js';
import { readIcy } from '../helpers/interop-http.js';
import { freePortPair, makeToneMp3, missing, start, tempDir, type Running } from '../helpers/interop-programs.js';
import { logs, startAntenna, type AntennaServer, type LogLine, stopCleanly, LEAN_OUTPUTS } from '../helpers/interop-server.js';

const skipFfmpeg = missing('ffmpeg');
const skipLiquidsoap = missing('liquidsoap');
const EMERGENCY_TONE = 523;

describe.skipIf(skipFfmpeg !== undefined && skipLiquidsoap !== undefined)('ffmpeg 5.1 and Liquidsoap 2.1.3 as source clients', () => {
  let server: AntennaServer;
  let dir: ReturnType<typeof tempDir>;
  const clients: Running[] = [];

  beforeAll(async () => {
    dir = tempDir('source-clients');
    // Fixed ports p and p+1: Liquidsoap's icy protocol streams to port+1 but sends its title to port.
    const primary = await freePortPair();
    server = await startAntenna({
      env: {
        ANTENNA_PRIMARY_PORT: String(primary),
        ANTENNA_PRIMARY_SHOUTCAST_PORT: String(primary + 1),
        ANTENNA_RETURN_HOLD_SECONDS: '0',
        ...LEAN_OUTPUTS,
      },
    });
  });

  afterAll(async () => {
    for (const c of clients) await c.stop();
    dir?.remove();
    if (!server) return;
    await stopCleanly(server);
  });

  /** Runs one client until `check` passes, then stops it and waits for the input to be free again. */
  async function session(
    inputId: 'primary' | 'fallback',
    cmd: string,
    args: string[],
    check: (since: number, client: Running) => Promise<void>,
  ): Promise<void> {
    const since = server.mark();
    const client = start(cmd, args, { cwd: dir.path });
    clients.push(client);
    try {
      await check(since, client);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- ${cmd} output ---\n${client.output.text.slice(-3000)}`, { cause: err });
    } finally {
      await client.stop();
    }
    await server.waitForLog(`"source disconnected" on ${inputId}`, logs.sourceDisconnected(inputId), 20_000, since);
  }

  async function expectOnAir(tone: number): Promise<void> {
    const decoded = await decodeToPcm(`${server.httpBase}/listen/live.mp3`, 6);
    expect(dominantTones(decoded.pcm, [tone, EMERGENCY_TONE]), `dominant tone per 0.5 s on /listen/live.mp3 (${decoded.stderr})`).toContain(
      tone,
    );
  }

  it.skipIf(skipFfmpeg !== undefined)(
    `ffmpeg 5.1 PUT + Expect: 100-continue on the primary${skipFfmpeg ? ` (skipped: ${skipFfmpeg})` : ''}`,
    async () => {
      const mp3 = join(dir.path, 'put.mp3');
      await makeToneMp3(mp3, 30, { freq: 440 });
      const url = `icecast://source:${server.sourcePassword}@127.0.0.1:${server.ports.primary}/live`;
      await session(
        'primary',
        'ffmpeg',
        [
          '-hide_banner',
          '-nostdin',
          '-loglevel',
          'warning',
          '-re',
          '-i',
          mp3,
          '-c',
          'copy',
          '-f',
          'mp3',
          '-content_type',
          'audio/mpeg',
          url,
        ],
        async (since) => {
          const line = await server.waitForLog(
            'ffmpeg "source connected" on primary',
            logs.sourceConnected('primary', /Lavf/),
            20_000,
            since,
          );
          expect(line.protocol).toBe('icecast-put');
          await expectOnAir(440);
        },
      );
    },
  );

  it.skipIf(skipFfmpeg !== undefined)(
    `ffmpeg 5.1 -legacy_icecast 1 (SOURCE, HTTP/1.1) on the fallback${skipFfmpeg ? ` (skipped: ${skipFfmpeg})` : ''}`,
    async () => {
      const mp3 = join(dir.path, 'legacy.mp3');
      await makeToneMp3(mp3, 30, { freq: 660 });
      const url = `icecast://source:${server.sourcePassword}@127.0.0.1:${server.ports.fallback}/live`;
      await session(
        'fallback',
        'ffmpeg',
        [
          '-hide_banner',
          '-nostdin',
          '-loglevel',
          'warning',
          '-re',
          '-i',
          mp3,
          '-c',
          'copy',
          '-f',
          'mp3',
          '-legacy_icecast',
          '1',
          '-content_type',
          'audio/mpeg',
          url,
        ],
        async (since) => {
          const line = await server.waitForLog(
            'ffmpeg legacy "source connected" on fallback',
            logs.sourceConnected('fallback', /Lavf/),
            20_000,
            since,
          );
          expect(line.protocol).toBe('icecast-source');
          await expectOnAir(660);
        },
      );
    },
  );

  const liq = (output: string): string => `settings.init.allow_root.set(true)
settings.log.stdout.set(true)
settings.log.file.set(false)
settings.log.level.set(3)
s = sine(880.)
s = insert_metadata(s)
def upd() =
  s.insert_metadata([("title","Tïtle One"),("artist","Ärtist")])
end
thread.run(delay=2., upd)
${output}
`;
  const titleHas =
    (text: string) =>
    (l: LogLine): boolean =>
      typeof l.msg === 'string' && /metadata update/i.test(l.msg) && String(l.title ?? '').includes(text);

  it.skipIf(skipLiquidsoap !== undefined)(
    `Liquidsoap output.icecast (SOURCE, UTF-8 metadata) on the primary${skipLiquidsoap ? ` (skipped: ${skipLiquidsoap})` : ''}`,
    async () => {
      const script = join(dir.path, 'out.liq');
      writeFileSync(
        script,
        liq(
          `output.icecast(%mp3(bitrate=128), host="127.0.0.1", port=${server.ports.primary}, password="${server.sourcePassword}", mount="/live", name="Liq Name", s)`,
        ),
      );
      await session('primary', 'liquidsoap', [script], async (since) => {
        await server.waitForLog('Liquidsoap "source connected" on primary', logs.sourceConnected('primary', /Liquidsoap/), 30_000, since);
        const meta = await server.waitForLog('Liquidsoap title update', titleHas('Tïtle One'), 30_000, since);
        expect(meta.title).toBe('Ärtist - Tïtle One');
        const icy = await readIcy(`${server.httpBase}/listen/live.mp3`, {
          timeoutMs: 30_000,
          untilTitle: (t) => t.includes('Tïtle One'),
          minAudioBytes: 16_000,
        });
        expect(icy.titles, `ICY titles on /listen/live.mp3\n${server.describe()}`).toContain('Ärtist - Tïtle One');
        await expectOnAir(880);
      });
    },
  );

  it.skipIf(skipLiquidsoap !== undefined)(
    `Liquidsoap protocol="icy" (Shoutcast v1, Latin-1 admin.cgi title) on the primary's Shoutcast port${skipLiquidsoap ? ` (skipped: ${skipLiquidsoap})` : ''}`,
    async () => {
      const script = join(dir.path, 'icy.liq');
      // Liquidsoap's icy protocol streams to port + 1, as Shoutcast v1 clients do.
      expect(server.ports.primaryShoutcast).toBe(server.ports.primary + 1);
      writeFileSync(
        script,
        liq(
          `output.icecast(%mp3(bitrate=128), host="127.0.0.1", port=${server.ports.primary}, password="${server.sourcePassword}", protocol="icy", mount="/sc", s)`,
        ),
      );
      await session('primary', 'liquidsoap', [script], async (since) => {
        const line = await server.waitForLog(
          'Liquidsoap ICY "source connected" on primary',
          logs.sourceConnected('primary'),
          30_000,
          since,
        );
        expect(line.protocol).toBe('shoutcast');
        // The title arrives as GET /admin.cgi on the base port, percent-encoded Latin-1 with no charset.
        const meta = await server.waitForLog('Liquidsoap admin.cgi title update', titleHas('Tïtle One'), 30_000, since);
        expect(meta.title).toBe('Ärtist - Tïtle One');
        await expectOnAir(880);
      });
    },
  );
});
