// Real listener programs against Antenna's default mounts: mpg123 (decodes to a WAV we measure, and
// prints the ICY title) and mpv (the ffmpeg demuxers a desktop player uses) on MP3, AAC and Ogg.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dominantTones, rmsDb } from '../helpers/interop-audio.js';
import { readIcy } from '../helpers/interop-http.js';
import { missing, run, tempDir } from '../helpers/interop-programs.js';
import { startAntenna, type AntennaServer, stopCleanly } from '../helpers/interop-server.js';

const EMERGENCY_TONE = 523;
const TITLE = 'Interop Emergency Tone';
const skipMpg123 = missing('mpg123');
const skipMpv = missing('mpv');

describe.skipIf(skipMpg123 !== undefined && skipMpv !== undefined)('listener programs on the default mounts', () => {
  let server: AntennaServer;
  let dir: ReturnType<typeof tempDir>;

  beforeAll(async () => {
    dir = tempDir('listeners');
    server = await startAntenna(); // the default six mounts and three HLS tiers
  });

  afterAll(async () => {
    dir?.remove();
    if (!server) return; // start-up failed: beforeAll already reported why
    await stopCleanly(server);
  });

  it('answers a listener like Icecast does: raw body (no chunking), icy-metaint, audio/mpeg', async () => {
    const r = await readIcy(`${server.httpBase}/listen/live.mp3`, { timeoutMs: 10_000, minAudioBytes: 20_000 });
    expect(r.status, r.error).toBe(200);
    expect(r.headers['content-type']).toBe('audio/mpeg');
    // Players and relay edges read the body as raw bytes: Icecast never chunks a stream.
    expect(r.headers['transfer-encoding']).toBeUndefined();
    expect(Number(r.headers['icy-metaint'])).toBeGreaterThan(0);
    expect(r.titles).toContain(TITLE);
  });

  it.skipIf(skipMpg123 !== undefined)(
    `mpg123 plays /listen/live.mp3 and shows the ICY title${skipMpg123 ? ` (skipped: ${skipMpg123})` : ''}`,
    async () => {
      const wav = join(dir.path, 'mpg123.wav');
      // -n 200 frames = 5.2 s of audio, then mpg123 exits by itself.
      const r = await run('mpg123', ['--no-control', '-v', '-n', '200', '-w', wav, `${server.httpBase}/listen/live.mp3`], 60_000);
      expect(r.code, `mpg123 exit code\n${r.output}`).toBe(0);
      expect(r.output, 'mpg123 must not report an error').not.toMatch(/error|warning: .*(junk|resync)/i);
      expect(r.output, 'mpg123 shows the ICY title').toContain(`StreamTitle='${TITLE}';`);
      const pcm = readFileSync(wav).subarray(44); // after the canonical WAV header
      expect(pcm.length, 'decoded audio bytes').toBeGreaterThan(44_100 * 4 * 4);
      expect(rmsDb(pcm), 'level of what mpg123 decoded').toBeGreaterThan(-40);
      expect(
        dominantTones(pcm, [EMERGENCY_TONE, 440]).filter((t) => t === EMERGENCY_TONE).length,
        'windows carrying the emergency tone',
      ).toBeGreaterThan(5);
    },
  );

  for (const mount of ['/listen/live.mp3', '/listen/live-64.aac', '/listen/live.ogg']) {
    it.skipIf(skipMpv !== undefined)(`mpv --ao=null plays ${mount} for 3 s${skipMpv ? ` (skipped: ${skipMpv})` : ''}`, async () => {
      const r = await run(
        'mpv',
        ['--no-config', '--no-video', '--ao=null', '--length=3', '--msg-level=all=info', `${server.httpBase}${mount}`],
        60_000,
      );
      expect(r.code, `mpv exit code\n${r.output}`).toBe(0);
      expect(r.output, 'mpv found an audio track').toMatch(/\(\+\) Audio/);
      expect(r.output, 'mpv reached the end of its 3 s').toMatch(/Exiting\.\.\. \(End of file\)/);
      // MP3/AAC carry the title as ICY; Ogg in the Vorbis comment header.
      expect(r.output, 'mpv shows the title').toContain(TITLE);
    });
  }
});
