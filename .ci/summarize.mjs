// Sums vitest's JSON reports of the CI suites into the one closing line "N passed, N failed, N skipped".
// A suite whose runner exited non-zero without a failed test (crash, timeout, failing hook, unhandled
// error) counts as one failure, so CI can never pass on a run that did not really finish.
// Usage: node .ci/summarize.mjs <out-dir> <failed-steps> <suite>...
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const [outDir, failedStepsArg, ...suites] = process.argv.slice(2);
let passed = 0;
let failed = Number(failedStepsArg ?? 0);
let skipped = 0;

function firstLine(text) {
  return String(text ?? '').split('\n')[0];
}

for (const suite of suites) {
  const rcFile = join(outDir, `${suite}.rc`);
  const rc = existsSync(rcFile) ? Number(readFileSync(rcFile, 'utf8').trim()) : 1;
  const reportFile = join(outDir, `${suite}.json`);
  let report;
  try {
    report = JSON.parse(readFileSync(reportFile, 'utf8'));
  } catch {
    console.log(`${suite}: no JSON report (runner exit ${rc}): counted as 1 failure`);
    failed += 1;
    continue;
  }
  const p = report.numPassedTests ?? 0;
  const f = report.numFailedTests ?? 0;
  const s = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // Files that failed outside any test (import error, failing beforeAll/afterAll).
  const brokenFiles = (report.testResults ?? []).filter(
    (r) => r.status === 'failed' && !(r.assertionResults ?? []).some((a) => a.status === 'failed'),
  );
  for (const r of brokenFiles) console.log(`${suite}: ${r.name} failed outside its tests: ${firstLine(r.message)}`);
  // Each failed test by name with its first error line, printed next to the totals: the CI record keeps
  // only the tail of the output, and a red run must say what broke without a rerun.
  for (const r of report.testResults ?? []) {
    for (const a of r.assertionResults ?? []) {
      if (a.status !== 'failed') continue;
      console.log(`${suite}: FAILED ${relative(process.cwd(), r.name)} > ${a.fullName ?? a.title}`);
      console.log(`    ${firstLine((a.failureMessages ?? [])[0]).slice(0, 400)}`);
    }
  }
  let extra = brokenFiles.length;
  if (rc !== 0 && f + extra === 0) {
    console.log(`${suite}: runner exited ${rc} with no failed test: counted as 1 failure`);
    extra = 1;
  }
  console.log(`${suite}: ${p} passed, ${f + extra} failed, ${s} skipped (runner exit ${rc})`);
  passed += p;
  failed += f + extra;
  skipped += s;
}

console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
