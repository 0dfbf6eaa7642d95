// Issue 13 §1 on the real server: titles are data. A NUL byte in a title once wedged both Ogg mounts
// until a restart; control characters made /admin/stats and .xspf malformed XML; a quote-semicolon in a
// title could smuggle a StreamUrl into the ICY block.
import { describe, expect, it } from 'vitest';
import { antennaFixture, ADMIN_PASSWORD, SOURCE_PASSWORD } from '../helpers/antenna.js';
import { listen } from '../helpers/listener.js';
import { rawExchange } from '../helpers/source-client.js';
import { xmlProblem } from '../helpers/well-formed.js';

const f = antennaFixture();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

const MOUNTS = [
  { mount: '/listen/live.mp3', codec: 'mp3', bitrate: 128_000 },
  { mount: '/listen/live.ogg', codec: 'vorbis', quality: 2 },
  { mount: '/listen/live-96.ogg', codec: 'vorbis', quality: 0 },
];

/** A title update as libshout sends it, on the source port; `song` is already percent-encoded. */
async function sendTitle(port: number, song: string): Promise<string> {
  const head = `GET /admin/metadata?mode=updinfo&mount=/live&song=${song} HTTP/1.0\r\nAuthorization: ${basic('source', SOURCE_PASSWORD)}\r\n\r\n`;
  return (await rawExchange(port, head)).toString('latin1');
}

/** Audio bytes a fresh listener receives in `ms`, after its connect burst has passed. */
async function liveRate(port: number, path: string, ms: number): Promise<number> {
  const l = listen(port, path);
  try {
    await l.head;
    await sleep(1000); // the burst arrives at once; what follows is real time
    const from = l.audioBytes();
    await sleep(ms);
    return l.audioBytes() - from;
  } finally {
    l.close();
  }
}

async function onAir(title: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (f.t.antenna.mixer.currentMeta.title !== title) {
    if (Date.now() > end)
      throw new Error(`title never on air: ${JSON.stringify(title)}, is ${JSON.stringify(f.t.antenna.mixer.currentMeta.title)}`);
    await sleep(50);
  }
}

describe('hostile titles (issue 13 §1)', () => {
  it('a title with a NUL byte never silences the Ogg mounts', async () => {
    const t = await f.start({ mounts: MOUNTS, hlsTiers: [{ name: '64k', bitrate: 64_000 }] }, { record: false });
    f.source('primary', { frequency: 440 });
    const { primary, http } = t.antenna.ports;
    await sleep(1500);
    expect(await sendTitle(primary, 'a%00b')).toMatch(/Metadata update successful/);
    // Stored and shown without the control character.
    await onAir('ab');
    await sleep(1500); // past the 1 s re-chain spacing: the NUL title gets its own Ogg chain attempt
    expect(await sendTitle(primary, 'fixed')).toMatch(/Metadata update successful/);
    await onAir('fixed');
    await sleep(2500);
    const [ogg, ogg96, mp3] = await Promise.all([
      liveRate(http, '/listen/live.ogg', 2000),
      liveRate(http, '/listen/live-96.ogg', 2000),
      liveRate(http, '/listen/live.mp3', 2000),
    ]);
    // Vorbis q2 is ~96 kbit/s and q0 ~64 kbit/s: 2 s carry well over 5 kB each.
    expect(mp3).toBeGreaterThan(10_000);
    expect(ogg).toBeGreaterThan(5_000);
    expect(ogg96).toBeGreaterThan(5_000);
    const stuck = t.antenna.snapshot().encoders.filter((e) => e.spec.codec === 'vorbis' && !e.running);
    expect(stuck).toEqual([]);
  }, 40_000);

  it('control characters and quotes in a title keep XML, JSON, ICY and playlists well-formed', async () => {
    const t = await f.start({ mounts: MOUNTS.slice(0, 2), hlsTiers: [{ name: '64k', bitrate: 64_000 }] }, { record: false });
    f.source('primary', { frequency: 440 });
    const { primary, http } = t.antenna.ports;
    const icy = listen(http, '/listen/live.mp3', { icy: true });
    await icy.head;
    await sleep(1000);
    // Every C0 control, DEL, a C1 control, markup, and an attempt to add a StreamUrl field.
    const controls = Array.from({ length: 32 }, (_, i) => `%${i.toString(16).padStart(2, '0')}`).join('');
    const song = `${controls}%7F%C2%85%3C%26%3E%22x%27%3BStreamUrl%3D%27http%3A%2F%2Fevil%2F%27%3B`;
    expect(await sendTitle(primary, song)).toMatch(/Metadata update successful/);
    const end = Date.now() + 10_000;
    while (!/x/.test(t.antenna.mixer.currentMeta.title)) {
      if (Date.now() > end) throw new Error('title never on air');
      await sleep(50);
    }
    const stored = t.antenna.mixer.currentMeta.title;
    expect(stored).not.toMatch(/\p{Cc}/u);
    await sleep(2000); // the title reaches the mounts with its audio

    const stats = await (
      await fetch(`http://127.0.0.1:${http}/admin/stats`, { headers: { authorization: basic('admin', ADMIN_PASSWORD) } })
    ).text();
    expect(stats).toContain('StreamUrl');
    expect(xmlProblem(stats)).toBeUndefined();
    const xspf = await (await fetch(`http://127.0.0.1:${http}/listen/live.mp3.xspf`)).text();
    expect(xspf).toContain('StreamUrl');
    expect(xmlProblem(xspf)).toBeUndefined();
    const json = JSON.parse(await (await fetch(`http://127.0.0.1:${http}/status-json.xsl`)).text()) as {
      icestats: { source: { title?: string }[] };
    };
    expect(json.icestats.source.some((s) => s.title?.includes('StreamUrl'))).toBe(true);

    // A player that reads StreamTitle up to the first `';` sees no second field.
    let block = icy.titles.find((x) => x.raw.includes('evil'));
    for (const until = Date.now() + 10_000; !block; block = icy.titles.find((x) => x.raw.includes('evil'))) {
      if (Date.now() > until)
        throw new Error(`no ICY block with the title: ${icy.titles.map((x) => x.raw.toString('latin1')).join(' | ')}`);
      await sleep(100);
    }
    icy.close();
    const text = block.raw.toString('utf8').replace(/\0+$/, '');
    const fields = text.slice(0, text.indexOf("';") + 2);
    expect(fields.startsWith("StreamTitle='")).toBe(true);
    expect(text.slice(fields.length)).toBe('');
    expect(text).not.toMatch(/StreamUrl='/);
    expect(text).not.toMatch(/\p{Cc}/u);
  }, 40_000);
});
