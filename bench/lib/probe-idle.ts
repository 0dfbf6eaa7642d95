// Scratch probe (not part of npm run bench): Antenna's always-on tree with both sources, per process.
import { startServer } from './server.js';
import { startPcmSource } from '../../test/helpers/pcm-source.js';
import { measureTree } from './proctree.js';
import { machineCpu } from './load-run.js';
import { resolveFfmpegPath } from '../../src/ffmpeg/path.js';
const ffmpeg = resolveFfmpegPath(undefined);
const env = JSON.parse(process.argv[2] ?? '{}') as Record<string, string>;
const s = await startServer(env, process.env.PROF ? (c, a) => [c, [`--cpu-prof`, `--cpu-prof-dir=${process.env.PROF}`, ...a]] : undefined);
const url = (p: number): string => `icecast://source:${s.sourcePassword}@127.0.0.1:${p}/live`;
const a = startPcmSource(ffmpeg, url(s.ports.primary), 440);
const b = startPcmSource(ffmpeg, url(s.ports.fallback), 880);
await new Promise((r) => setTimeout(r, 8000));
const m = machineCpu();
const t = await measureTree(s.pid, Number(process.env.W ?? 20) * 1000);
console.log(
  JSON.stringify({
    cpu: t.cpuPercent,
    pss: t.pssMb,
    others: Math.round((m() - t.cpuPercent) * 10) / 10,
    procs: t.processes.map((p) => `${p.comm}:${p.cpuPercent}:${p.pssMb}`),
  }),
);
console.log(JSON.stringify(s.logs.filter((l) => /ffmpeg/.test(String(l.msg)) || (l.level as number) >= 40).slice(0, 6)));
await a.kill();
await b.kill();
await s.stop();
process.exit(0);
