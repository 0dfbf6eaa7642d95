// The process's file-descriptor limit (RLIMIT_NOFILE) and how the listener port may use it: Node has
// no getrlimit, so Linux's /proc/self/limits is read, with `ulimit -n` from sh as the fallback.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { HttpBudget } from '../types/snapshots.js';
export type { HttpBudget } from '../types/snapshots.js';

/** The soft RLIMIT_NOFILE, or undefined when it cannot be read or is unlimited. */
export function readNofileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)\s+/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m?.[1]) return m[1] === 'unlimited' ? undefined : Number(m[1]);
  } catch {
    // not Linux: ask the shell, which inherits our limit
  }
  try {
    const out = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8', timeout: 2000 }).trim();
    return /^\d+$/.test(out) ? Number(out) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Splits the descriptor limit: `reserve` stays free for sources, admin, HLS files, ffmpeg pipes and the
 * API; of the rest at most a quarter may be idle (pre-request) connections; listeners get what remains.
 * `maxConnections` is one pool for the plain and the HTTPS port together (src/util/connection-pool.ts):
 * a TLS connection costs one descriptor like a plain one, and a station's audience may sit on either port.
 */
export function httpBudget(
  nofile: number | undefined,
  config: { readonly fdReserve: number; readonly httpMaxPending: number; readonly maxListeners: number },
): HttpBudget {
  if (nofile === undefined) {
    return { nofile, maxConnections: Infinity, maxPending: config.httpMaxPending, maxListeners: config.maxListeners };
  }
  const usable = Math.max(16, nofile - config.fdReserve);
  const maxPending = Math.max(8, Math.min(config.httpMaxPending, Math.floor(usable / 4)));
  return { nofile, maxConnections: usable, maxPending, maxListeners: Math.min(config.maxListeners, usable - maxPending) };
}

/** The listener count Antenna is built and measured for on one process (README, listener fan-out). */
const PROMISED_LISTENERS = 10_000;

type LimitsConfig = Parameters<typeof httpBudget>[1] & {
  readonly httpMaxPendingPerAddress: number;
  readonly httpHeadTimeoutMs: number;
  readonly maxSourceConnections: number;
  readonly maxSourcePendingPerAddress: number;
};

/**
 * The budget for this process's descriptor limit, logged once at start. A cap below what the station
 * asked for is a warning only when it also falls below the 10,000 listeners we promise (e.g. the common
 * default of 1,024 descriptors caps a station near 600); 18,720 of a default 20,000 is information.
 */
export function descriptorBudget(config: LimitsConfig, log: Pick<Logger, 'info' | 'warn'>, nofile = readNofileLimit()): HttpBudget {
  const budget = httpBudget(nofile, config);
  log.info(
    {
      nofile: budget.nofile ?? 'unlimited',
      fdReserve: config.fdReserve,
      httpMaxConnections: Number.isFinite(budget.maxConnections) ? budget.maxConnections : 'unlimited',
      httpMaxPending: budget.maxPending,
      httpMaxPendingPerAddress: config.httpMaxPendingPerAddress,
      httpHeadTimeoutMs: config.httpHeadTimeoutMs,
      maxListeners: budget.maxListeners,
      sourceMaxPending: config.maxSourceConnections,
      sourceMaxPendingPerAddress: config.maxSourcePendingPerAddress,
    },
    'connection limits',
  );
  if (budget.maxListeners < config.maxListeners) {
    const level = budget.maxListeners < Math.min(config.maxListeners, PROMISED_LISTENERS) ? 'warn' : 'info';
    log[level](
      { configured: config.maxListeners, allowed: budget.maxListeners, nofile: budget.nofile },
      'maxListeners lowered to fit the file-descriptor limit; raise it with LimitNOFILE / ulimit -n',
    );
  }
  return budget;
}
