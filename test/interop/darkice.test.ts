// DarkIce 1.3 as the studio encoder on the fallback port. DarkIce sends its request head with bare
// LF line endings split across TCP segments. It needs a sound card: an ALSA `file` PCM whose
// `infile` is a FIFO fed in real time by ffmpeg -re gives it a paced 660 Hz tone without one.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpegPath } from '../../src/ffmpeg/path.js';
import { decodeToPcm, dominantTones } from '../helpers/interop-audio.js';
import { missing, start, tempDir, withOutput, type Running } from '../helpers/interop-programs.js';
import { logs, startAntenna, type AntennaServer, stopCleanly, LEAN_OUTPUTS } from '../helpers/interop-server.js';

const skip = missing('darkice', 'mkfifo');
const DARK_TONE = 660;
const EMERGENCY_TONE = 523;
const SECONDS = 25;

function darkiceCfg(port: number, password: string): string {
  return `[general]
duration = ${SECONDS}
bufferSecs = 1
reconnect = no

[input]
device = antennatone
sampleRate = 44100
bitsPerSample = 16
channel = 2

[icecast2-0]
bitrateMode = cbr
format = mp3
bitrate = 128
server = 127.0.0.1
port = ${port}
password = ${password}
mountPoint = dark.mp3
name = Dark Name
description = Dark Desc
url = http://dark.example
genre = DarkGenre
public = no
`;
}

describe.skipIf(skip !== undefined)(`darkice → fallback port${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let server: AntennaServer;
  let dir: ReturnType<typeof tempDir>;
  let feeder: Running | undefined;
  let dark: Running | undefined;

  beforeAll(async () => {
    dir = tempDir('darkice');
    server = await startAntenna({
      env: {
        ANTENNA_RETURN_HOLD_SECONDS: '0',
        ...LEAN_OUTPUTS,
      },
    });
  });

  afterAll(async () => {
    await dark?.stop();
    await feeder?.stop();
    dir?.remove();
    if (!server) return; // start-up failed: beforeAll already reported why
    await stopCleanly(server);
  });

  it('streams with bare-LF headers and its audio goes on air when the primary is empty', async () => {
    const fifo = join(dir.path, 'tone.fifo');
    const mk = spawnSync('mkfifo', [fifo]);
    expect(mk.status, String(mk.stderr)).toBe(0);
    const home = join(dir.path, 'home');
    mkdirSync(home);
    // alsa-lib reads ~/.asoundrc: the `file` plugin reads capture data from `infile` (raw s16le),
    // and the blocking FIFO read paces DarkIce at real time.
    writeFileSync(
      join(home, '.asoundrc'),
      `pcm.antennatone {\n  type file\n  slave.pcm "null"\n  file "/dev/null"\n  infile "${fifo}"\n  format "raw"\n}\n`,
    );
    const cfg = join(dir.path, 'darkice.cfg');
    writeFileSync(cfg, darkiceCfg(server.ports.fallback, server.sourcePassword));

    const ffmpeg = resolveFfmpegPath(process.env.FFMPEG_PATH);
    feeder = start(ffmpeg, [
      '-hide_banner',
      '-loglevel',
      'error',
      '-re',
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=${DARK_TONE}:sample_rate=44100:duration=${SECONDS + 5}`,
      '-ac',
      '2',
      '-f',
      's16le',
      '-y',
      fifo,
    ]);
    dark = start('darkice', ['-v', '3', '-c', cfg], { env: { ...process.env, HOME: home } });

    await withOutput(
      dark,
      server.waitForLog('DarkIce "source connected" on fallback', logs.sourceConnected('fallback', /DarkIce/), 20_000),
    );
    await withOutput(dark, server.waitForLog('first decoded PCM on fallback', logs.firstPcm('fallback'), 20_000));
    expect(dark.proc.exitCode, `darkice exited early:\n${dark.output.text}`).toBeNull();

    const url = `${server.httpBase}/listen/live.mp3`;
    const decoded = await decodeToPcm(url, 8);
    const tones = dominantTones(decoded.pcm, [DARK_TONE, EMERGENCY_TONE]);
    expect(tones, `dominant tone per 0.5 s on /listen/live.mp3 (ffmpeg: ${decoded.stderr})\n${server.describe()}`).toContain(DARK_TONE);

    await dark.stop();
    await server.waitForLog('"source disconnected" on fallback', logs.sourceDisconnected('fallback'), 20_000);
  });
});
