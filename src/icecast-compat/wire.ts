// Bytes Icecast clients expect, byte for byte: listener response heads, ICY metadata blocks, error
// pages and playlists (reference §2.1–§2.2, captures/icecast2.4.4_server_responses.txt).
import type { MountConfig } from '../config/load.js';
import type { Config } from '../config/load.js';
import { CHANNELS, SAMPLE_RATE } from '../types/pcm.js';
import { xmlSafe } from '../util/text.js';

export const SERVER_ID = 'Icecast 2.4.4';
const CORS_EXPOSE = 'Icy-MetaInt, Icy-Br, Icy-Description, Icy-Genre, Icy-Name, Ice-Audio-Info, Icy-Url, Icy-Pub';
export const CORS_ALLOW_HEADERS = 'Origin, Accept, X-Requested-With, Content-Type, Range, Icy-MetaData';

/** libvorbis nominal bitrates (kbit/s, 44.1 kHz stereo) by quality, for icy-br of quality-mode mounts. */
const VORBIS_NOMINAL = [45, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 500];

export function contentType(codec: MountConfig['codec']): string {
  return codec === 'mp3' ? 'audio/mpeg' : codec === 'aac' ? 'audio/aac' : 'application/ogg';
}

/** Nominal kbit/s of a mount (exact for CBR, libvorbis's nominal for a quality). */
export function mountKbps(m: Pick<MountConfig, 'bitrate' | 'quality'>): number {
  if (m.bitrate !== undefined) return Math.round(m.bitrate / 1000);
  const q = Math.max(-1, Math.min(10, Math.round(m.quality ?? 3)));
  return VORBIS_NOMINAL[q + 1] ?? 112;
}

/** A header value must not end the header block early. */
function clean(v: string): string {
  return v.replace(/[\r\n]+/g, ' ');
}

export function httpDate(d = new Date()): string {
  return d.toUTCString();
}

export type StationInfo = Pick<Config, 'stationName' | 'stationDescription' | 'stationGenre' | 'stationUrl'>;

/** The status line and headers of a listener response (no body); `metaint` only when ICY was asked for. */
export function listenerHead(mount: MountConfig, station: StationInfo, metaint: number | undefined): string {
  const kbps = mountKbps(mount);
  const lines = [
    'HTTP/1.0 200 OK',
    `Server: ${SERVER_ID}`,
    'Connection: Close',
    `Date: ${httpDate()}`,
    `Content-Type: ${contentType(mount.codec)}`,
    'Cache-Control: no-cache, no-store',
    'Expires: Mon, 26 Jul 1997 05:00:00 GMT',
    'Pragma: no-cache',
    'Access-Control-Allow-Origin: *',
    `Access-Control-Allow-Headers: ${CORS_ALLOW_HEADERS}`,
    `Access-Control-Expose-Headers: ${CORS_EXPOSE}`,
    // icy-* without a space after the colon, as Icecast writes them (some players match it literally).
    `icy-br:${kbps}`,
    `ice-audio-info: ice-bitrate=${kbps};ice-channels=${CHANNELS};ice-samplerate=${SAMPLE_RATE}`,
    `icy-description:${clean(station.stationDescription)}`,
    `icy-genre:${clean(station.stationGenre)}`,
    `icy-name:${clean(station.stationName)}`,
    'icy-pub:1',
  ];
  if (station.stationUrl) lines.push(`icy-url:${clean(station.stationUrl)}`);
  if (metaint !== undefined) lines.push(`icy-metaint:${metaint}`);
  return lines.join('\r\n') + '\r\n\r\n';
}

/**
 * The same response as header fields for an HTTP/2 stream: lower-case names, no Connection (h2 forbids
 * connection-specific fields) and never icy-metaint (ICY interleaving is an HTTP/1.x convention).
 */
export function listenerHeaders(mount: MountConfig, station: StationInfo): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of listenerHead(mount, station, undefined).split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    if (name === 'connection') continue;
    out[name] = line.slice(i + 1).trim();
  }
  return out;
}

/** ICY is only for mounts without in-band metadata: Icecast never sends it on Ogg (titles are in the stream). */
export function wantsIcy(codec: MountConfig['codec'], requestHeader: string | string[] | undefined): boolean {
  if (codec === 'vorbis') return false;
  const v = Array.isArray(requestHeader) ? requestHeader[0] : requestHeader;
  const n = Number.parseInt(v ?? '', 10);
  return Number.isFinite(n) && n !== 0;
}

/** The 0-length block: "metadata unchanged since you last got it". */
export const ICY_EMPTY = Buffer.from([0]);
const ICY_MAX = 255 * 16;

/**
 * `StreamTitle='…';` NUL-padded to 16-byte units, in the mount's charset; cut to Icecast's 4080-byte cap.
 * Players read the title up to the first `';` (or search the block for `StreamUrl='`), so an apostrophe
 * in a title could end it early and smuggle in a field of its own: apostrophes are sent as U+2019 (´ on
 * Latin-1 mounts), which no player parses as a delimiter. Control characters (a NUL ends the block for
 * C players) are dropped.
 */
export function icyBlock(title: string, charset: 'utf-8' | 'latin1'): Buffer {
  const enc = charset === 'latin1' ? 'latin1' : 'utf8';
  const safe = title.replace(/\p{Cc}/gu, '').replace(/'/g, charset === 'latin1' ? '\u00b4' : '\u2019');
  // Latin-1 cannot hold every character: those become '?' rather than garbage bytes.
  const text = charset === 'latin1' ? [...safe].map((ch) => ((ch.codePointAt(0) as number) > 0xff ? '?' : ch)).join('') : safe;
  let body = Buffer.from(`StreamTitle='${text}';`, enc);
  if (body.length > ICY_MAX) {
    let cut = Buffer.from(text, enc).subarray(0, ICY_MAX - 16);
    // Never end in the middle of a UTF-8 sequence.
    while (enc === 'utf8' && cut.length > 0 && ((cut[cut.length - 1] as number) & 0xc0) === 0x80) cut = cut.subarray(0, -1);
    if (enc === 'utf8' && cut.length > 0 && ((cut[cut.length - 1] as number) & 0xc0) === 0xc0) cut = cut.subarray(0, -1);
    body = Buffer.concat([Buffer.from("StreamTitle='"), cut, Buffer.from("';")]);
  }
  const units = Math.ceil(body.length / 16);
  const block = Buffer.alloc(1 + units * 16);
  block[0] = units;
  body.copy(block, 1);
  return block;
}

function errorHead(status: string, type: string): string {
  return (
    [
      `HTTP/1.0 ${status}`,
      `Server: ${SERVER_ID}`,
      'Connection: Close',
      `Date: ${httpDate()}`,
      `Content-Type: ${type}`,
      'Cache-Control: no-cache, no-store',
      'Expires: Mon, 26 Jul 1997 05:00:00 GMT',
      'Pragma: no-cache',
      'Access-Control-Allow-Origin: *',
    ].join('\r\n') + '\r\n\r\n'
  );
}

/** Icecast's HTML error page (client_send_error, non-plain). */
export function errorPage(code: number, message: string): string {
  return `<html><head><title>Error ${code}</title></head><body><b>${code} - ${message}</b></body></html>\r\n`;
}

/** A whole raw error response, as Icecast writes it (HTTP/1.0, then close). */
export function rawError(code: 403 | 404, message: string): string {
  const status = code === 404 ? '404 File Not Found' : '403 Forbidden';
  return errorHead(status, 'text/html; charset=utf-8') + errorPage(code, message);
}

export const NOT_FOUND_MESSAGE = 'The file you requested could not be found';
export const MOUNT_FULL_MESSAGE = 'max listeners reached';
export const SERVER_FULL_MESSAGE = 'Icecast connection limit reached';

export function m3u(url: string): string {
  return `${url}\r\n`;
}

function xmlEscape(s: string): string {
  return xmlSafe(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function xspf(url: string, station: StationInfo, title: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<playlist xmlns="http://xspf.org/ns/0/" version="1">\n' +
    `  <title>${xmlEscape(station.stationName)}</title>\n` +
    '  <trackList>\n    <track>\n' +
    `      <location>${xmlEscape(url)}</location>\n` +
    `      <title>${xmlEscape(title)}</title>\n` +
    `      <annotation>${xmlEscape(station.stationDescription)}</annotation>\n` +
    (station.stationUrl ? `      <info>${xmlEscape(station.stationUrl)}</info>\n` : '') +
    '    </track>\n  </trackList>\n</playlist>\n'
  );
}
