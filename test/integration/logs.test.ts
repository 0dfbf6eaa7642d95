// Logs people can read and machines can parse: one JSON object per line, each key once, and a
// normal run (start, a source, listeners on every mount, stop) logs nothing at warn or above.
import { execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { antennaFixture } from '../helpers/antenna.js';
import { listen } from '../helpers/listener.js';
import { sleep, waitFor } from '../helpers/programme.js';

const fx = antennaFixture();

// A normal run serves built pages (`npm start` builds them first); without them the server rightly warns.
beforeAll(() => {
  execFileSync(process.execPath, ['--import', 'tsx', 'web/build.ts'], { stdio: 'ignore' });
});

/** The top-level keys of one JSON object line, in order, duplicates kept (JSON.parse would hide them). */
function topLevelKeys(line: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '"') {
      let j = i + 1;
      while (j < line.length && line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(line.slice(i, j + 1)) as string);
      expectKey = false;
      i = j;
    } else if (ch === '{' || ch === '[') {
      depth++;
      expectKey = ch === '{' && depth === 1;
    } else if (ch === '}' || ch === ']') depth--;
    else if (ch === ',' && depth === 1) expectKey = true;
  }
  return keys;
}

describe('logs', () => {
  it('every line is JSON with each key once; a normal run logs no warnings', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const t = await fx.start({ logLevel: 'debug' }, { logTo: sink, record: false });
    fx.source('primary', { frequency: 440 });
    await waitFor(() => t.antenna.mixer.onAir === 'primary', 'primary on air');
    const mounts = t.antenna.snapshot().mounts.mounts.map((m) => m.mount);
    const ls = mounts.map((m) => listen(t.antenna.ports.http, m));
    await Promise.all(ls.map((l) => l.waitForBytes(2000)));
    await sleep(500);
    for (const l of ls) l.close();
    await t.stop();

    expect(lines.length).toBeGreaterThan(10);
    const problems: string[] = [];
    for (const line of lines) {
      const obj = JSON.parse(line) as { level: number; msg?: string };
      const keys = topLevelKeys(line);
      const dup = keys.filter((k, i) => keys.indexOf(k) !== i);
      if (dup.length > 0) problems.push(`duplicate ${dup.join(', ')}: ${line}`);
      if (obj.level >= 40) problems.push(`level ${obj.level}: ${line}`);
    }
    expect(problems).toEqual([]);
    // Components are named once, by the stage that owns them.
    const components = new Set(lines.map((l) => (JSON.parse(l) as { component?: string }).component));
    for (const c of ['mixer', 'ingest', 'encoders', 'icecast-compat', 'hls']) expect(components).toContain(c);
  });

  it('topLevelKeys sees duplicates that JSON.parse hides', () => {
    expect(topLevelKeys('{"a":1,"component":"x","b":{"component":"y"},"component":"z","s":"q\\"uote"}')).toEqual([
      'a',
      'component',
      'b',
      'component',
      's',
    ]);
  });
});
