import { defineConfig } from 'vitest/config';

// Core suite: real server, real ffmpeg (the embedded build), loopback only. Interop tests with
// Debian programs live in test/interop and run through vitest.interop.config.ts from .ci/run.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Audio tests are timing-sensitive on a 2-core machine: run files one at a time.
    fileParallelism: false,
    reporters: ['default'],
  },
});
