// `npm run bench`: builds the server, runs each benchmark against it as a separate process, prints
// the figures and writes them to bench/results/latest.json (with the date and machine).
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { runAacCost } from './aac-cost.js';
import { runEncoderCost } from './encoders.js';
import { runFanout } from './fanout.js';
import { runHls } from './hls.js';
import { runIdle } from './idle.js';
import { runMemory } from './memory.js';
import { runOnAir } from './onair.js';
import { stopDescendantsOnSignal } from './lib/proctree.js';
import { runTlsFanout } from './tls.js';

const log = (s: string): void => void process.stdout.write(`[bench] ${s}\n`);

const signals = stopDescendantsOnSignal(log);

async function main(): Promise<void> {
  execSync('npm run build --silent', { stdio: 'inherit' });
  const which = new Set(process.argv.slice(2));
  const all = which.size === 0;
  const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? '?', memGb: Math.round(totalmem() / 2 ** 30), node: process.version };
  const results: Record<string, unknown> = { date: new Date().toISOString(), machine };
  if (all || which.has('onair')) results.onair = await runOnAir(log);
  if (all || which.has('idle')) results.idle = await runIdle(log);
  if (all || which.has('hls')) results.hls = await runHls(log);
  if (all || which.has('encoders')) results.encoders = await runEncoderCost(log);
  if (all || which.has('aac')) results.aac = await runAacCost(log);
  if (all || which.has('fanout')) results.fanout = await runFanout(log);
  if (all || which.has('tls')) results.tls = await runTlsFanout(log);
  if (all || which.has('memory')) results.memory = await runMemory(log);
  mkdirSync('bench/results', { recursive: true });
  // Merge: sections that did not run this time keep their last figures (each carries its own date).
  const file = 'bench/results/latest.json';
  const previous = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  for (const [k, v] of Object.entries(results))
    if (k !== 'date' && k !== 'machine' && v && typeof v === 'object') (v as Record<string, unknown>).date ??= results.date;
  writeFileSync(file, JSON.stringify({ ...previous, ...results }, null, 2) + '\n');
  process.stdout.write(JSON.stringify(results, null, 2) + '\n');
}

main().catch((err: unknown) => {
  console.error(err);
  // After a signal the children's deaths fail the run; the signal handler exits once they are gone.
  if (!signals.stopping) process.exit(1);
});
