// Icecast 2.4.4's statistics tree and its two renderings: /admin/stats XML and /status-json.xsl JSON,
// with the quirks consumers depend on (source absent/object/array, sorted keys, "dummy":null, value
// type inference, offsets without a colon) but always valid JSON. Pure functions over strings.
import { xmlSafe } from '../util/text.js';

/** Stats values are strings, as in Icecast; the JSON rendering infers types from them. */
export type Fields = Readonly<Record<string, string>>;

export interface StatsTree {
  readonly global: Fields;
  readonly sources: readonly { readonly mount: string; readonly fields: Fields }[];
}

/** Keys status-json.xsl leaves out (server-only or per-client data). */
const JSON_HIDDEN_SOURCE = new Set([
  'max_listeners',
  'public',
  'source_ip',
  'slow_listeners',
  'total_bytes_read',
  'total_bytes_sent',
  'user_agent',
]);
function jsonHiddenGlobal(key: string): boolean {
  return key === 'sources' || key === 'clients' || key === 'stats' || key === 'listeners' || key.includes('connections');
}

/** `Tue, 24 Nov 2026 00:16:24 +0000` */
export function rfc822(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

/** `2026-11-24T00:16:24+0000`: no colon in the offset (icecast_exporter's Go layout needs that). */
export function iso8601(d: Date): string {
  return d.toISOString().slice(0, 19) + '+0000';
}

const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * xml2json.xslt's inference, made safe: numbers and true/false as JSON literals, empty as null, the
 * rest as strings. Icecast emits `"title":-` for a title of "-"; here that is a string.
 */
export function jsonValue(v: string): string {
  const t = v.trim();
  if (t === '') return 'null';
  if (NUMBER.test(t)) return t;
  if (/^(true|false)$/i.test(t)) return t.toLowerCase();
  return JSON.stringify(v);
}

function jsonObject(fields: Fields, hidden: (k: string) => boolean, extra = ''): string {
  const parts = Object.keys(fields)
    .filter((k) => !hidden(k))
    .sort()
    .map((k) => `${JSON.stringify(k)}:${jsonValue(fields[k] as string)}`);
  return parts.join(',') + extra;
}

function byMount<T extends { mount: string }>(a: T, b: T): number {
  return a.mount < b.mount ? -1 : a.mount > b.mount ? 1 : 0;
}

export function statusJson(tree: StatsTree): string {
  const sources = [...tree.sources].sort(byMount).map((s) => `{${jsonObject(s.fields, (k) => JSON_HIDDEN_SOURCE.has(k))},"dummy":null}`);
  const global = jsonObject(tree.global, jsonHiddenGlobal);
  let source = '';
  if (sources.length === 1) source = `"source":${sources[0] as string}`;
  else if (sources.length > 1) source = `"source":[${sources.join(',')}]`;
  // Keys are sorted and "source" sorts after "server_start_iso8601", the last visible global key.
  const body = source ? `${global},${source}` : `${global},"dummy":null`;
  return `{"icestats":{${body}}}`;
}

/**
 * libxml's escaping without a declared encoding: markup characters as entities, non-ASCII as &#xHH;.
 * Characters XML cannot carry at all (control characters) are dropped, so the document stays well-formed.
 */
export function xmlText(s: string): string {
  let out = '';
  for (const ch of xmlSafe(s)) {
    const c = ch.codePointAt(0) as number;
    if (ch === '&') out += '&amp;';
    else if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (c > 0x7f) out += `&#x${c.toString(16).toUpperCase()};`;
    else out += ch;
  }
  return out;
}

export function xmlAttr(s: string): string {
  return xmlText(s).replace(/"/g, '&quot;');
}

function xmlFields(fields: Fields): string {
  return Object.keys(fields)
    .sort()
    .map((k) => `<${k}>${xmlText(fields[k] as string)}</${k}>`)
    .join('');
}

export const XML_DECL = '<?xml version="1.0"?>\n';

export function statsXml(tree: StatsTree): string {
  const sources = [...tree.sources].sort(byMount).map((s) => `<source mount="${xmlAttr(s.mount)}">${xmlFields(s.fields)}</source>`);
  return `${XML_DECL}<icestats>${xmlFields(tree.global)}${sources.join('')}</icestats>\n`;
}

export interface MountListing {
  readonly mount: string;
  readonly listeners: number;
  readonly connectedSeconds: number;
  readonly contentType: string;
}

export function listMountsXml(mounts: readonly MountListing[]): string {
  const body = [...mounts]
    .sort(byMount)
    .map(
      (m) =>
        `<source mount="${xmlAttr(m.mount)}"><fallback></fallback><listeners>${m.listeners}</listeners>` +
        `<Connected>${m.connectedSeconds}</Connected><content-type>${xmlText(m.contentType)}</content-type></source>`,
    )
    .join('');
  return `${XML_DECL}<icestats>${body}</icestats>\n`;
}

export interface ClientListing {
  readonly ip: string;
  readonly userAgent: string;
  readonly connectedSeconds: number;
  readonly id: number;
}

/** Capital-L `Listeners`, as 2.4.4 writes it. */
export function listClientsXml(mount: string, clients: readonly ClientListing[]): string {
  const ls = clients
    .map(
      (c) =>
        `<listener><IP>${xmlText(c.ip)}</IP><UserAgent>${xmlText(c.userAgent)}</UserAgent>` +
        `<Connected>${c.connectedSeconds}</Connected><ID>${c.id}</ID></listener>`,
    )
    .join('');
  return `${XML_DECL}<icestats><source mount="${xmlAttr(mount)}"><Listeners>${clients.length}</Listeners>${ls}</source></icestats>\n`;
}

export function iceResponse(message: string, ok: boolean): string {
  return `${XML_DECL}<iceresponse><message>${xmlText(message)}</message><return>${ok ? 1 : 0}</return></iceresponse>\n`;
}
