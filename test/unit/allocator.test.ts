import { describe, expect, it } from 'vitest';
import { allocatorFrom } from '../../src/util/allocator.js';

const GLIBC = '7f1c2a000000-7f1c2a028000 r--p 00000000 fe:01 1234 /usr/lib/x86_64-linux-gnu/libc.so.6\n';
const JEMALLOC = '7f1c29e00000-7f1c29e2c000 r--p 00000000 fe:01 5678 /usr/lib/x86_64-linux-gnu/libjemalloc.so.2\n';

describe('allocatorFrom', () => {
  it('finds jemalloc mapped, whether LD_PRELOAD or the binary brought it', () => {
    expect(allocatorFrom(GLIBC + JEMALLOC, 'libjemalloc.so.2')).toEqual({ allocator: 'jemalloc', preloadMissing: false });
    expect(allocatorFrom(GLIBC + JEMALLOC, undefined)).toEqual({ allocator: 'jemalloc', preloadMissing: false });
  });
  it('is glibc otherwise, and says when a preloaded jemalloc did not load', () => {
    expect(allocatorFrom(GLIBC, undefined)).toEqual({ allocator: 'glibc', preloadMissing: false });
    expect(allocatorFrom(GLIBC, 'libjemalloc.so.2')).toEqual({ allocator: 'glibc', preloadMissing: true });
    // A path that merely contains the word is not the library.
    expect(allocatorFrom(`${GLIBC}7f00-7f01 r--p 0 fe:01 9 /srv/jemalloc-notes.txt\n`, undefined).allocator).toBe('glibc');
  });
  it('is unknown without /proc (not Linux)', () => {
    expect(allocatorFrom(null, 'libjemalloc.so.2')).toEqual({ allocator: 'unknown', preloadMissing: false });
  });
});
