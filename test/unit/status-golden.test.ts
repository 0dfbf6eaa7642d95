import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  iceResponse,
  iso8601,
  jsonValue,
  listClientsXml,
  listMountsXml,
  rfc822,
  statsXml,
  statusJson,
  type StatsTree,
} from '../../src/icecast-compat/stats.js';
import { icyBlock } from '../../src/icecast-compat/wire.js';

const CAPTURE = readFileSync(new URL('../fixtures/captures/icecast2.4.4_server_responses.txt', import.meta.url), 'utf8');

/** The body of a captured response, found after its "### <title>" line. */
function body(title: string, startsWith: string): string {
  const section = CAPTURE.slice(CAPTURE.indexOf(`### ${title}`));
  const start = section.indexOf(startsWith);
  const end = section.indexOf('\n###', start);
  return section.slice(start, end < 0 ? undefined : end).replace(/\n+$/, '');
}

function unescapeXml(s: string): string {
  return s
    .replace(/&#x([0-9A-F]+);/g, (_m, h: string) => String.fromCodePoint(Number.parseInt(h, 16)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Reads the captured /admin/stats XML back into a stats tree. */
function treeFromXml(xml: string): StatsTree {
  const fields = (s: string): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const m of s.matchAll(/<([a-z_0-9-]+)>([^<]*)<\/\1>/g)) out[m[1] as string] = unescapeXml(m[2] as string);
    return out;
  };
  const firstSource = xml.indexOf('<source ');
  const sources = [...xml.matchAll(/<source mount="([^"]+)">(.*?)<\/source>/g)].map((m) => ({
    mount: m[1] as string,
    fields: fields(m[2] as string),
  }));
  return { global: fields(xml.slice(0, firstSource)), sources };
}

describe('status-json.xsl and /admin/stats against Icecast 2.4.4 captures', () => {
  const statsCaptured = body('GET /admin/stats', '<?xml');
  const tree = treeFromXml(statsCaptured);

  it('renders /admin/stats byte for byte', () => {
    expect(statsXml(tree).trimEnd()).toBe(statsCaptured);
  });

  it('renders /status-json.xsl byte for byte from the same tree', () => {
    const jsonCaptured = body('GET /status-json.xsl', '{"icestats"');
    expect(statusJson(tree)).toBe(jsonCaptured);
  });

  it('source is absent / an object / an array for 0 / 1 / many mounts, and always valid JSON', () => {
    const none = JSON.parse(statusJson({ global: tree.global, sources: [] })) as { icestats: Record<string, unknown> };
    expect(none.icestats.source).toBeUndefined();
    expect(none.icestats.dummy).toBeNull();
    const one = JSON.parse(statusJson({ global: tree.global, sources: tree.sources.slice(0, 1) })) as { icestats: { source: unknown } };
    expect(Array.isArray(one.icestats.source)).toBe(false);
    expect((one.icestats.source as { listenurl: string }).listenurl).toBe('http://127.0.0.1:18000/ref.mp3');
    const weird = { mount: '/w.mp3', fields: { title: '-', genre: '1979', a: 'TRUE', b: '0123', c: '', d: 'tab\there "q" \\ \u0001' } };
    const parsed = JSON.parse(statusJson({ global: tree.global, sources: [weird] })) as { icestats: { source: Record<string, unknown> } };
    expect(parsed.icestats.source).toMatchObject({ title: '-', genre: 1979, a: true, b: '0123', c: null, d: 'tab\there "q" \\ \u0001' });
  });

  it('infers value types like xml2json.xslt', () => {
    expect(jsonValue('-1.5e3')).toBe('-1.5e3');
    expect(jsonValue('false')).toBe('false');
    expect(jsonValue('-')).toBe('"-"');
  });

  it('formats timestamps without a colon in the offset', () => {
    const d = new Date(Date.UTC(2026, 10, 24, 0, 16, 24));
    expect(rfc822(d)).toBe('Tue, 24 Nov 2026 00:16:24 +0000');
    expect(iso8601(d)).toBe('2026-11-24T00:16:24+0000');
  });

  it('renders listmounts, listclients and iceresponse as 2.4.4 does', () => {
    expect(
      listMountsXml([
        { mount: '/ref.ogg', listeners: 1, connectedSeconds: 8, contentType: 'application/ogg' },
        { mount: '/ref.mp3', listeners: 1, connectedSeconds: 8, contentType: 'audio/mpeg' },
      ]).trimEnd(),
    ).toBe(body('GET /admin/listmounts', '<?xml'));
    expect(listClientsXml('/ref.mp3', [{ ip: '127.0.0.1', userAgent: 'RefPlayer/1.0', connectedSeconds: 5, id: 188 }]).trimEnd()).toBe(
      body('GET /admin/listclients', '<?xml'),
    );
    expect(iceResponse('Metadata update successful', true)).toBe(
      '<?xml version="1.0"?>\n<iceresponse><message>Metadata update successful</message><return>1</return></iceresponse>\n',
    );
  });
});

describe('ICY metadata blocks', () => {
  it('pads StreamTitle to 16-byte units, length byte first', () => {
    const b = icyBlock('Artist - Title', 'utf-8');
    expect(b[0]).toBe(Math.ceil("StreamTitle='Artist - Title';".length / 16));
    expect(b.length).toBe(1 + (b[0] as number) * 16);
    expect(b.subarray(1).toString('latin1').replace(/\0+$/, '')).toBe("StreamTitle='Artist - Title';");
  });
  it('encodes Latin-1 mounts in Latin-1 and UTF-8 mounts in UTF-8', () => {
    expect(icyBlock('Artíst', 'latin1').includes(Buffer.from([0x41, 0x72, 0x74, 0xed]))).toBe(true);
    expect(icyBlock('Artíst', 'utf-8').includes(Buffer.from('Artíst', 'utf8'))).toBe(true);
  });
  it('caps a block at 255 units without cutting a UTF-8 character', () => {
    const b = icyBlock('é'.repeat(5000), 'utf-8');
    expect(b[0]).toBe(255);
    const text = b.subarray(1).toString('utf8').replace(/\0+$/, '');
    expect(text.endsWith("';")).toBe(true);
    expect(text.includes('\ufffd')).toBe(false);
  });
  it('sends an empty title block when nothing is on air yet', () => {
    expect(icyBlock('', 'utf-8').subarray(1).toString().replace(/\0+$/, '')).toBe("StreamTitle='';");
  });
});
