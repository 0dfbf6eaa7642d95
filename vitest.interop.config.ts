import { defineConfig } from 'vitest/config';

// Interop suite: real third-party programs from Debian (butt, ezstream, darkice, liquidsoap, mpv, mpg123, icecast2,
// chromium). .ci/run installs them; each test skips itself with a reason if its program is absent.
export default defineConfig({
  test: {
    include: ['test/interop/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 90_000,
    fileParallelism: false,
  },
});
