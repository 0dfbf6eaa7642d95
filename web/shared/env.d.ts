// Module declarations for what esbuild bundles that TypeScript cannot see by itself.
declare module '*.css';
declare module 'hls.js/light' {
  // The light build is the same class with fewer features (no subtitles, alternate audio or DRM).
  import Hls from 'hls.js';
  export default Hls;
}
