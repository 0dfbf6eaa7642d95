// Pure decisions of the certificate manager: when to renew, how long to wait after a failure, when a
// certificate counts as expiring. No timers, no I/O: times in, times out (ms since the epoch).
import type { RenewalWindow } from '../types/snapshots.js';
export type { RenewalWindow } from '../types/snapshots.js';

export interface RenewalInput {
  readonly notBefore: number;
  readonly notAfter: number;
  readonly now: number;
  /** The CA's window, when its directory offers renewalInfo and answered. */
  readonly window?: RenewalWindow | undefined;
  /** A number in [0, 1): where in the CA's window to renew (RFC 9773 asks for a uniformly random point). */
  readonly random: number;
}

/**
 * When to order the successor of a certificate: at the point of the CA's window picked by `random`
 * when it gives one, else when a third of the lifetime is left (day 60 of 90; day 4 of a 6-day
 * certificate). Never before now; a window already over means now.
 */
export function renewalTime(c: RenewalInput): number {
  const w = c.window;
  if (w && Number.isFinite(w.start) && Number.isFinite(w.end) && w.end > w.start) {
    if (w.end <= c.now) return c.now;
    const start = Math.max(w.start, c.now);
    return Math.round(start + Math.min(Math.max(c.random, 0), 1) * (w.end - start));
  }
  const lifetime = Math.max(0, c.notAfter - c.notBefore);
  return Math.max(c.now, c.notAfter - lifetime / 3);
}

/** How long the manager may sleep before it looks again (ARI windows move; timers cap at ~24.8 days). */
export const RECHECK_MS = 6 * 3600_000;

/** The next wake-up: the renewal time, or the next recheck if that comes first. */
export function nextWake(renewAt: number, now: number): number {
  return Math.min(renewAt, now + RECHECK_MS);
}

export interface RetryInput {
  /** 1 for the first failure. */
  readonly attempt: number;
  /** The certificate in use, if any: retries must come often enough to beat its expiry. */
  readonly notAfter?: number | undefined;
  readonly now: number;
  /** A number in [0, 1) for ±10 % jitter, so many servers do not retry in step. */
  readonly random: number;
}

export const RETRY_BASE_MS = 60_000;
export const RETRY_MAX_MS = 6 * 3600_000;

/**
 * Delay before the next attempt after `attempt` failures: 1 min doubling to 6 h; while a certificate is
 * still in use, at most an eighth of its remaining time (so a 6-day certificate gets several tries a day),
 * never under a minute (the CA's rate limits count failures too).
 */
export function retryDelay(r: RetryInput): number {
  let d = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, r.attempt - 1));
  if (r.notAfter !== undefined) d = Math.min(d, Math.max(RETRY_BASE_MS, (r.notAfter - r.now) / 8));
  const jitter = 0.9 + 0.2 * Math.min(Math.max(r.random, 0), 1);
  return Math.max(RETRY_BASE_MS * 0.9, Math.round(d * jitter));
}

/** Past its renewal time with a sixth of its lifetime left or less: the operator should hear of it. */
export function isExpiring(c: { readonly notBefore: number; readonly notAfter: number; readonly now: number }): boolean {
  return c.notAfter - c.now <= (c.notAfter - c.notBefore) / 6;
}

/** Whether a kept certificate may serve `domains` now without ordering a new one first. */
export function keptIsUsable(c: { readonly notAfter: number; readonly now: number; readonly covers: boolean }): boolean {
  return c.covers && c.notAfter > c.now + 60_000;
}
