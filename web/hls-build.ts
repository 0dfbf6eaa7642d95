// An esbuild plugin that builds hls.js from the TypeScript sources its npm package ships, instead of the
// prebuilt light bundle: only the features our own streams use (ADTS AAC segments with ID3 timestamps,
// see src/hls/playlist.ts), so the station page's player is ~15 KB gzipped smaller than hls.light.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { transform, type Plugin } from 'esbuild';

const require = createRequire(import.meta.url);
const pkgFile = require.resolve('hls.js/package.json');
const src = join(dirname(pkgFile), 'src');
const version = (JSON.parse(await readFile(pkgFile, 'utf8')) as { version: string }).version;

/**
 * hls.js's own build-time feature switches (its build-config.js), all off: none of them applies to an
 * unencrypted single-rendition-group audio stream we produce ourselves (no subtitles, alternate audio, DRM,
 * CMCD, content steering, variable substitution, AC-3/HEVC, interstitials, I-frame playlists). Media
 * Capabilities is only used to pick among video renditions.
 */
const FLAGS = [
  'SUBTITLES',
  'ALT_AUDIO',
  'EME_DRM',
  'CMCD',
  'CONTENT_STEERING',
  'VARIABLE_SUBSTITUTION',
  'M2TS_ADVANCED_CODECS',
  'MEDIA_CAPABILITIES',
  'INTERSTITIALS',
  'IFRAMES',
] as const;

export const hlsDefines: Record<string, string> = {
  ...Object.fromEntries(FLAGS.map((f) => [`__USE_${f}__`, 'false'])),
  __VERSION__: JSON.stringify(version),
  __IN_WORKER__: 'false',
};

/**
 * Modules the switched-off features live in, replaced by hls.js's own empty ESM shim exactly as its light
 * build does (its build-config.js `getAliasesForDist`); the ESM build also leaves the worker out (no
 * `__HLS_WORKER_BUNDLE__` wrapper exists to start it from), so transmuxing runs on the main thread, as
 * with the prebuilt hls.light.mjs.
 */
const EMPTY = [
  'controller/eme-controller',
  'utils/mediakeys-helper',
  'controller/cmcd-controller',
  'utils/cues',
  'controller/timeline-controller',
  'controller/subtitle-track-controller',
  'controller/subtitle-stream-controller',
  'controller/audio-track-controller',
  'controller/audio-stream-controller',
  'utils/variable-substitution',
  'demux/audio/ac3-demuxer',
  'demux/video/hevc-video-parser',
  'utils/mediacapabilities-helper',
  'controller/content-steering-controller',
  'controller/interstitials-controller',
  'controller/interstitial-player',
  'controller/interstitials-schedule',
  'loader/interstitial-event',
  'loader/interstitial-asset-list',
  'demux/transmuxer-worker',
];

/**
 * Beyond the light build: the container demuxers our segments never need. The transmuxer probes each
 * demuxer in turn (`Demuxer.probe(data)`); these answer "not mine", so only the AAC demuxer ever takes a
 * segment, and a stream of another kind fails with hls.js's usual "no demux matching" error.
 */
const NOT_MINE = 'export default class { static probe() { return false; } }';
const STUBS: Record<string, string> = {
  'demux/tsdemuxer': NOT_MINE, // MPEG-TS (and with it the H.264 parser)
  'demux/mp4demuxer': NOT_MINE, // fragmented MP4
  'demux/audio/mp3demuxer': NOT_MINE, // MPEG audio segments
  'remux/passthrough-remuxer': 'export default class {}', // only ever paired with the MP4 demuxer
};

/** Which shim a module of hls.js resolves to, if it is left out of our build. */
function shimFor(file: string): string | undefined {
  const rel = file.slice(src.length + 1).replace(/\.(ts|js)$/, '');
  if (STUBS[rel] !== undefined) return STUBS[rel];
  // hls.js's empty-es.js: a CommonJS object, so its importers' named imports read as undefined, as in its build.
  if (EMPTY.includes(rel)) return 'module.exports = {};';
  return undefined;
}

export function hlsFromSource(): Plugin {
  return {
    name: 'hls.js-from-source',
    setup(b) {
      // The pages import 'hls.js/light' (typed by the package's own .d.ts); it is built from src/ here.
      b.onResolve({ filter: /^hls\.js\/light$/ }, () => ({ path: join(src, 'exports-default.ts') }));
      b.onResolve({ filter: /^\.\.?\// }, async (args) => {
        if (!args.importer.startsWith(src)) return undefined;
        for (const ext of ['.ts', '.js', '']) {
          const file = join(args.resolveDir, args.path + ext);
          const shim = shimFor(file);
          if (shim !== undefined) return { path: file, namespace: 'hls-shim', pluginData: shim };
        }
        return undefined;
      });
      b.onLoad({ filter: /.*/, namespace: 'hls-shim' }, (args) => ({ contents: args.pluginData as string, loader: 'js' }));
      // Compiled on their own terms, not the pages' tsconfig: hls.js's classes rely on assigned (not
      // defined) class fields, as its Babel build ("loose" class properties) produces; a subclass's
      // field declaration must not reset what the base constructor set.
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (!args.path.startsWith(src)) return undefined;
        const code = await readFile(args.path, 'utf8');
        const out = await transform(code, {
          loader: 'ts',
          sourcefile: args.path,
          tsconfigRaw: { compilerOptions: { useDefineForClassFields: false, verbatimModuleSyntax: false } },
        });
        return { contents: out.code, loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}
