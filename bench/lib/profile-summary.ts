// Summarises a V8 .cpuprofile (from ANTENNA_BENCH_CPU_PROF): busy share, then self and inclusive time
// of the heaviest functions, optionally for a time window (seconds from the profile's start).
// Usage: npx tsx bench/lib/profile-summary.ts <file.cpuprofile> [fromS] [toS] [rows]
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, fromS = '0', toS = '1e9', rowsArg = '25'] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary <file.cpuprofile> [fromS] [toS] [rows]');
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const name = (n: Node): string =>
  `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
const from = Number(fromS) * 1e6;
const to = Number(toS) * 1e6;
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let t = 0;
let total = 0;
p.samples.forEach((id, i) => {
  const dt = p.timeDeltas[i] ?? 0;
  t += dt;
  if (t < from || t > to) return;
  total += dt;
  const n = byId.get(id) as Node;
  self.set(name(n), (self.get(name(n)) ?? 0) + dt);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const k = name(byId.get(cur) as Node);
    if (seen.has(k)) continue;
    seen.add(k);
    inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
  }
});
const idle = self.get('(idle) :0') ?? 0;
const rows = Number(rowsArg);
const pct = (v: number): string => `${((v / total) * 100).toFixed(1).padStart(5)} %`;
console.log(`window ${(total / 1e6).toFixed(1)} s, busy ${pct(total - idle)} of the main thread`);
console.log('self:');
for (const [k, v] of [...self]
  .filter(([k]) => !k.startsWith('(idle)'))
  .sort((a, b) => b[1] - a[1])
  .slice(0, rows))
  console.log(`  ${pct(v)}  ${k}`);
console.log('inclusive:');
for (const [k, v] of [...inclusive]
  .filter(([k]) => !k.startsWith('(root)') && !k.startsWith('(idle)'))
  .sort((a, b) => b[1] - a[1])
  .slice(0, rows))
  console.log(`  ${pct(v)}  ${k}`);
