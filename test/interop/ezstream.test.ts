// ezstream 1.0.2 (libshout 2.4.6) as the studio encoder on the primary port: libshout's
// OPTIONS / GET /admin/!POKE / SOURCE-without-auth (401) / SOURCE-with-auth sequence, then its
// /admin/metadata title update, must end up on air: in the ICY title and status-json of a mount.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dominantTones, decodeToPcm } from '../helpers/interop-audio.js';
import { getText, readIcy } from '../helpers/interop-http.js';
import { makeToneMp3, missing, start, tempDir, until, withOutput, type Running } from '../helpers/interop-programs.js';
import { logs, startAntenna, type AntennaServer, stopCleanly, LEAN_OUTPUTS } from '../helpers/interop-server.js';

const skip = missing('ezstream');
const TITLE = 'Ezstream Tïtle 440';
const EZ_TONE = 440;
const EMERGENCY_TONE = 523;

function ezstreamXml(port: number, password: string, file: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<ezstream>
  <servers><server><name>default</name><protocol>HTTP</protocol><hostname>127.0.0.1</hostname>
    <port>${port}</port><user>source</user><password>${password}</password></server></servers>
  <streams><stream><mountpoint>/live</mountpoint><format>MP3</format><stream_name>EZ Name</stream_name>
    <stream_genre>EZGenre</stream_genre><stream_bitrate>128</stream_bitrate><stream_channels>2</stream_channels>
    <stream_samplerate>44100</stream_samplerate><public>No</public></stream></streams>
  <intakes><intake><type>file</type><filename>${file}</filename></intake></intakes>
  <metadata><format_str>@t@</format_str></metadata>
</ezstream>
`;
}

describe.skipIf(skip !== undefined)(`ezstream → primary port${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let server: AntennaServer;
  let ez: Running | undefined;
  let dir: ReturnType<typeof tempDir>;

  beforeAll(async () => {
    dir = tempDir('ezstream');
    server = await startAntenna({
      env: {
        ANTENNA_RETURN_HOLD_SECONDS: '0',
        ...LEAN_OUTPUTS,
      },
    });
  });

  afterAll(async () => {
    await ez?.stop();
    dir?.remove();
    if (!server) return; // start-up failed: beforeAll already reported why
    await stopCleanly(server);
  });

  it('connects with libshout, sends its title, and the title and audio go on air', async () => {
    const mp3 = join(dir.path, 'tone.mp3');
    await makeToneMp3(mp3, 30, { freq: EZ_TONE, title: TITLE });
    const conf = join(dir.path, 'ezstream.xml');
    writeFileSync(conf, ezstreamXml(server.ports.primary, server.sourcePassword, mp3));
    chmodSync(conf, 0o600); // ezstream refuses a config with a password that others can read
    ez = start('ezstream', ['-c', conf]);

    await withOutput(ez, server.waitForLog('libshout "source connected" on primary', logs.sourceConnected('primary', /libshout/), 20_000));
    await withOutput(ez, server.waitForLog(`"metadata update" with title ${TITLE}`, logs.metadata(TITLE), 20_000));
    expect(ez.proc.exitCode, `ezstream exited early:\n${ez.output.text}`).toBeNull();

    // On air: a listener's ICY title becomes ezstream's title...
    const url = `${server.httpBase}/listen/live.mp3`;
    const heard = await readIcy(url, { timeoutMs: 30_000, untilTitle: (t) => t === TITLE, minAudioBytes: 16_000 });
    expect(heard.status, `GET /listen/live.mp3: ${heard.error ?? ''}\n${server.describe()}`).toBe(200);
    expect(heard.titles, `ICY titles heard on /listen/live.mp3\n${server.describe()}`).toContain(TITLE);

    // ...and what it hears is ezstream's 440 Hz tone, not the emergency 523 Hz one.
    const decoded = await decodeToPcm(url, 6);
    const tones = dominantTones(decoded.pcm, [EZ_TONE, EMERGENCY_TONE]);
    expect(tones, `dominant tone per 0.5 s on /listen/live.mp3 (ffmpeg: ${decoded.stderr})`).toContain(EZ_TONE);

    // status-json reports the same title (one mount: `source` is an object, as in Icecast).
    const status = await getText(`${server.httpBase}/status-json.xsl`);
    expect(status.status, status.body).toBe(200);
    const src = (JSON.parse(status.body) as { icestats: { source?: unknown } }).icestats.source;
    expect(Array.isArray(src), 'one mount: `source` must be an object, not an array').toBe(false);
    expect((src as { title?: unknown }).title).toBe(TITLE);

    await ez.stop();
    await server.waitForLog('"source disconnected" on primary', logs.sourceDisconnected('primary'), 20_000);
    // Back on emergency audio once the studio has gone.
    await until('the emergency title back on /listen/live.mp3', 30_000, async () => {
      const r = await readIcy(url, { timeoutMs: 5000, untilTitle: (t) => t === 'Interop Emergency Tone', minAudioBytes: 1 });
      return r.titles.includes('Interop Emergency Tone') || undefined;
    });
  });
});
