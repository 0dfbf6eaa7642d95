// Which malloc the process runs on, for the start-up log. glibc's malloc keeps the memory of a listener
// peak: after 3,000 HTTPS listeners left, RSS stayed at ~300 MB (~120 MB before the peak), since
// OpenSSL's freed buffers sit below live allocations and only malloc_trim(), which Node never calls,
// gives such pages back. jemalloc returns them within seconds (`npm run bench -- memory`), so the
// systemd unit (deploy/antenna.service) and `npm start` (scripts/start.sh) preload it, and start-up
// says whether that took.
import { readFileSync } from 'node:fs';

export type Allocator = 'jemalloc' | 'glibc' | 'unknown';

export interface AllocatorReport {
  readonly allocator: Allocator;
  /** LD_PRELOAD names jemalloc but it is not mapped (the library is not installed). */
  readonly preloadMissing: boolean;
}

/** Pure: the allocator from /proc/self/maps' text (null where there is none) and LD_PRELOAD. */
export function allocatorFrom(maps: string | null, ldPreload: string | undefined): AllocatorReport {
  const wanted = /jemalloc/.test(ldPreload ?? '');
  if (maps === null) return { allocator: 'unknown', preloadMissing: false };
  if (/\/libjemalloc[^/\s]*\.so/.test(maps)) return { allocator: 'jemalloc', preloadMissing: false };
  return { allocator: 'glibc', preloadMissing: wanted };
}

export function detectAllocator(): AllocatorReport {
  let maps: string | null;
  try {
    maps = readFileSync('/proc/self/maps', 'utf8');
  } catch {
    maps = null; // not Linux
  }
  return allocatorFrom(maps, process.env.LD_PRELOAD);
}
