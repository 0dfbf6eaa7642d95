// The Icecast statistics tree of this server (global counters and one source per mount), as
// /status-json.xsl and /admin/stats render it: the field names and values Icecast 2.4.4 publishes.
import type { Config } from '../config/load.js';
import type { Mount } from './mount.js';
import { iso8601, rfc822, type StatsTree } from './stats.js';
import { SERVER_ID, contentType, mountKbps } from './wire.js';

export interface Counters {
  /** Listener connections ever accepted. */
  listenerConnections: number;
  /** HTTP requests ever received. */
  clientConnections: number;
  /** Listeners connected now, across mounts. */
  total: number;
}

export function statsTree(
  config: Config,
  mounts: ReadonlyMap<string, Mount>,
  counters: Counters,
  startedAt: Date,
  listenUrl: (mount: string) => string,
): StatsTree {
  const sources = [...mounts.values()].map((m) => ({ mount: m.path, fields: sourceFields(m, config, listenUrl(m.path)) }));
  const listeners = [...mounts.values()].reduce((n, m) => n + m.listeners.size, 0);
  return {
    global: {
      admin: 'icemaster@localhost',
      client_connections: String(counters.clientConnections),
      clients: String(listeners),
      connections: String(counters.clientConnections),
      file_connections: '0',
      host: config.publicHostname,
      listener_connections: String(counters.listenerConnections),
      listeners: String(listeners),
      location: 'Earth',
      server_id: SERVER_ID,
      server_start: rfc822(startedAt),
      server_start_iso8601: iso8601(startedAt),
      source_client_connections: '0',
      source_relay_connections: '0',
      source_total_connections: '0',
      sources: String(mounts.size),
      stats: '0',
      stats_connections: '0',
    },
    sources,
  };
}

function sourceFields(m: Mount, config: Config, listenurl: string): Record<string, string> {
  const kbps = mountKbps(m.config);
  const start = new Date(m.startedAt);
  const f: Record<string, string> = {
    genre: config.stationGenre || 'various',
    listener_peak: String(m.peak),
    listeners: String(m.listeners.size),
    listenurl,
    max_listeners: m.config.maxListeners === undefined ? 'unlimited' : String(m.config.maxListeners),
    public: '1',
    server_description: config.stationDescription || 'Unspecified description',
    server_name: config.stationName || 'Unspecified name',
    server_type: contentType(m.config.codec),
    slow_listeners: String(m.slowListeners),
    source_ip: '127.0.0.1',
    stream_start: rfc822(start),
    stream_start_iso8601: iso8601(start),
    total_bytes_read: String(m.bytesIn),
    total_bytes_sent: String(m.bytesSent),
    user_agent: 'Antenna',
  };
  if (config.stationUrl) f.server_url = config.stationUrl;
  if (m.meta?.title) f.title = m.meta.title;
  if (m.config.codec === 'vorbis') {
    // What Icecast reads from the Vorbis identification header.
    Object.assign(f, {
      audio_bitrate: String(kbps * 1000),
      audio_channels: '2',
      audio_samplerate: '44100',
      'ice-bitrate': String(kbps),
      subtype: 'Vorbis',
    });
  } else {
    Object.assign(f, {
      audio_info: `ice-bitrate=${kbps};ice-channels=2;ice-samplerate=44100`,
      bitrate: String(kbps),
      'ice-bitrate': String(kbps),
      'ice-channels': '2',
      'ice-samplerate': '44100',
    });
  }
  return f;
}
