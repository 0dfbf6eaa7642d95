// /status-json.xsl as its real consumers read it: AzuraCast's nowplaying Icecast adapter and the
// Prometheus icecast_exporter (ports of their parsing below), and key for key against what a stock
// Icecast 2.4.4 serves for a live mount.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpegPath } from '../../src/ffmpeg/path.js';
import { getText } from '../helpers/interop-http.js';
import { startIcecast, type Icecast } from '../helpers/interop-icecast.js';
import { makeToneMp3, missing, start, tempDir, until, type Running } from '../helpers/interop-programs.js';
import { startAntenna, type AntennaServer, stopCleanly } from '../helpers/interop-server.js';

type Json = Record<string, unknown>;

/** AzuraCast/nowplaying src/Adapter/Icecast.php (JSON path), in TypeScript. */
function azuracastParse(payload: string): Map<string, { title: string; listeners: number; format: unknown; bitrate: unknown }> {
  // AzuraCast's own fix-up for Icecast's invalid `"title": -`.
  const fixed = payload.replace('"title": -', '"title": " - "');
  const ret = JSON.parse(fixed) as { icestats?: { source?: Json | Json[] } };
  if (!ret.icestats || ret.icestats.source === undefined) throw new Error('AzuraCast: no icestats.source (treated as offline)');
  const sources = ret.icestats.source;
  // PHP: key($sources) === 0 ? $sources : [$sources]
  const rows = Array.isArray(sources) ? sources : [sources];
  const out = new Map<string, { title: string; listeners: number; format: unknown; bitrate: unknown }>();
  for (const row of rows) {
    const listenurl = row.listenurl;
    if (typeof listenurl !== 'string') throw new Error('AzuraCast: listenurl is not a string');
    const path = new URL(listenurl).pathname; // parse_url($row['listenurl'], PHP_URL_PATH)
    out.set(path, {
      title: String(row.yp_currently_playing ?? row.title ?? ''),
      listeners: Number.parseInt(String(row.listeners), 10), // (int) cast
      format: row.server_type,
      bitrate: row.audio_bitrate ?? row.bitrate ?? null,
    });
  }
  return out;
}

/** markuslindenberg/icecast_exporter: Go structs + time layout "2006-01-02T15:04:05-0700". */
function exporterParse(payload: string): {
  serverStart: Date;
  sources: { listeners: number; listenurl: string; serverType: string; streamStart: Date }[];
} {
  const goTime = (v: unknown, field: string): Date => {
    if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4}$/.test(v)) {
      throw new Error(`icecast_exporter: ${field} = ${JSON.stringify(v)} does not parse with layout 2006-01-02T15:04:05-0700`);
    }
    const d = new Date(v.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    if (Number.isNaN(d.getTime())) throw new Error(`icecast_exporter: ${field} = ${v} is not a real time`);
    return d;
  };
  const goInt = (v: unknown, field: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v))
      throw new Error(`icecast_exporter: ${field} = ${JSON.stringify(v)} cannot unmarshal into int`);
    return v;
  };
  const goString = (v: unknown, field: string): string => {
    if (typeof v !== 'string') throw new Error(`icecast_exporter: ${field} = ${JSON.stringify(v)} cannot unmarshal into string`);
    return v;
  };
  const root = JSON.parse(payload) as { icestats: Json };
  const raw = root.icestats.source;
  const list = (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]) as Json[];
  return {
    serverStart: goTime(root.icestats.server_start_iso8601, 'server_start_iso8601'),
    sources: list.map((s) => ({
      listeners: goInt(s.listeners, 'listeners'),
      listenurl: goString(s.listenurl, 'listenurl'),
      serverType: goString(s.server_type, 'server_type'),
      streamStart: goTime(s.stream_start_iso8601, 'stream_start_iso8601'),
    })),
  };
}

const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

describe('/status-json.xsl as its consumers parse it', () => {
  let multi: AntennaServer;
  let single: AntennaServer;

  beforeAll(async () => {
    const hls = JSON.stringify([{ name: 'aac_64k', bitrate: 64_000 }]);
    multi = await startAntenna({
      env: {
        ANTENNA_MOUNTS: JSON.stringify([
          { mount: '/listen/live.mp3', codec: 'mp3', bitrate: 128_000 },
          { mount: '/listen/live.ogg', codec: 'vorbis', quality: 2 },
        ]),
        ANTENNA_HLS_TIERS: hls,
      },
    });
    single = await startAntenna({
      env: { ANTENNA_MOUNTS: JSON.stringify([{ mount: '/listen/live.mp3', codec: 'mp3', bitrate: 128_000 }]), ANTENNA_HLS_TIERS: hls },
    });
  });

  afterAll(async () => {
    for (const s of [multi, single]) {
      if (!s) continue;
      await stopCleanly(s);
    }
  });

  it('serves JSON with Icecast headers; `source` is an array with two mounts, an object with one', async () => {
    const r = await getText(`${multi.httpBase}/status-json.xsl`);
    expect(r.status, `${r.body}\n${multi.describe()}`).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(Array.isArray((JSON.parse(r.body) as { icestats: Json }).icestats.source)).toBe(true);
    const one = await getText(`${single.httpBase}/status-json.xsl`);
    expect(one.status, one.body).toBe(200);
    const src = (JSON.parse(one.body) as { icestats: Json }).icestats.source;
    expect(typeOf(src)).toBe('object');
  });

  it('parses as AzuraCast nowplaying does', async () => {
    for (const s of [multi, single]) {
      // As on Icecast, a mount's title appears in the stats once its first audio has gone out.
      const body = await until('the on-air title in status-json', 15_000, async () => {
        const r = await getText(`${s.httpBase}/status-json.xsl`);
        return r.body.includes('Interop Emergency Tone') ? r.body : undefined;
      });
      const mounts = azuracastParse(body);
      const live = mounts.get('/listen/live.mp3');
      expect(live, `AzuraCast finds /listen/live.mp3 among ${[...mounts.keys()].join(', ')}`).toBeDefined();
      expect(live?.format).toBe('audio/mpeg');
      expect(live?.title).toBe('Interop Emergency Tone');
      expect(Number.isNaN(live?.listeners)).toBe(false);
    }
    const both = azuracastParse((await getText(`${multi.httpBase}/status-json.xsl`)).body);
    expect(both.get('/listen/live.ogg')?.format).toBe('application/ogg');
  });

  it('parses as icecast_exporter does (ISO 8601 offsets without a colon)', async () => {
    for (const s of [multi, single]) {
      const parsed = exporterParse((await getText(`${s.httpBase}/status-json.xsl`)).body);
      expect(Math.abs(parsed.serverStart.getTime() - Date.now())).toBeLessThan(10 * 60_000);
      expect(parsed.sources.length).toBeGreaterThan(0);
      for (const src of parsed.sources) expect(new URL(src.listenurl).protocol).toBe('http:');
    }
  });

  const skipIcecast = missing('icecast2');
  it.skipIf(skipIcecast !== undefined)(
    `has every key, with the same JSON type, that stock Icecast 2.4.4 serves${skipIcecast ? ` (skipped: ${skipIcecast})` : ''}`,
    async () => {
      const dir = tempDir('status-json');
      let ice: Icecast | undefined;
      let feeder: Running | undefined;
      try {
        ice = await startIcecast({ sourcePassword: 'hackme' });
        const mp3 = `${dir.path}/tone.mp3`;
        await makeToneMp3(mp3, 20);
        const ffmpeg = resolveFfmpegPath(process.env.FFMPEG_PATH);
        const target = `icecast://source:hackme@127.0.0.1:${ice.port}/live.mp3`;
        feeder = start(ffmpeg, [
          '-hide_banner',
          '-loglevel',
          'error',
          '-re',
          '-i',
          mp3,
          '-c',
          'copy',
          '-f',
          'mp3',
          '-content_type',
          'audio/mpeg',
          target,
        ]);
        const base = ice.base;
        await until('the ffmpeg source on stock Icecast', 15_000, async () =>
          (await getText(`${base}/status-json.xsl`)).body.includes('"source"') ? true : undefined,
        );
        await getText(`${base}/admin/metadata?mount=/live.mp3&mode=updinfo&song=Some%20Title`, { user: 'admin', pass: ice.adminPassword });
        await until('the title on stock Icecast', 10_000, async () =>
          (await getText(`${base}/status-json.xsl`)).body.includes('Some Title') ? true : undefined,
        );
        const reference = JSON.parse((await getText(`${base}/status-json.xsl`)).body) as { icestats: Json & { source: Json } };
        const ours = JSON.parse((await getText(`${single.httpBase}/status-json.xsl`)).body) as { icestats: Json & { source: Json } };
        for (const [key, value] of Object.entries(reference.icestats)) {
          if (key === 'source') continue;
          expect(typeOf(ours.icestats[key]), `icestats.${key}`).toBe(typeOf(value));
        }
        // Keys a live MP3 mount always has on Icecast (ffmpeg sends no ice-audio-info, so no bitrate keys).
        for (const [key, value] of Object.entries(reference.icestats.source)) {
          if (key === 'dummy') continue;
          expect(typeOf(ours.icestats.source[key]), `icestats.source.${key}`).toBe(typeOf(value));
        }
      } finally {
        await feeder?.stop();
        await ice?.close();
        dir.remove();
      }
    },
  );
});
