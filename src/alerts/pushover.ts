// Pushover delivery (POST /1/messages.json with plain fetch): Pushover's rules as a SinkQueue policy.
// 5xx and network errors are retried no sooner than 5 s, 429 pauses the queue until the limit resets,
// a 4xx is never resent (repeated 4xx can get the sender blocked), at most two requests at a time.
import type { Alert } from './rules.js';
import type { SendResult } from './sink-queue.js';

export const PUSHOVER_LIMITS = { title: 250, message: 1024, url: 512 } as const;

/** The last figures Pushover gave for the app's monthly message allowance. */
export interface PushoverLimit {
  readonly limit: number | undefined;
  readonly remaining: number | undefined;
  /** Wall-clock ms when the allowance resets. */
  readonly resetAt: number | undefined;
}

export interface PushoverTarget {
  readonly api: string;
  readonly token: string;
  readonly user: string;
}

/** Cuts to `max` characters (code points, as Pushover counts), marking the cut with an ellipsis. */
export function fit(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : chars.slice(0, max - 1).join('') + '…';
}

export function pushoverForm(t: PushoverTarget, a: Alert): URLSearchParams {
  const suppressed = a.suppressedBefore ? `\n(${a.suppressedBefore} earlier alert(s) held back by the rate limit)` : '';
  const form = new URLSearchParams({
    token: t.token,
    user: t.user,
    title: fit(a.title, PUSHOVER_LIMITS.title),
    message: fit(a.message + suppressed, PUSHOVER_LIMITS.message),
    priority: String(a.priority),
    timestamp: String(Math.floor(a.at / 1000)),
  });
  return form;
}

/** One attempt; classifies the answer by Pushover's rules. `onLimit` gets the X-Limit-App-* figures. */
export async function sendPushover(
  t: PushoverTarget,
  a: Alert,
  signal: AbortSignal,
  onLimit: (l: PushoverLimit) => void,
): Promise<SendResult> {
  const res = await fetch(new URL('/1/messages.json', t.api), { method: 'POST', body: pushoverForm(t, a), signal });
  const num = (h: string): number | undefined => {
    const v = res.headers.get(h);
    return v === null || v === '' || Number.isNaN(Number(v)) ? undefined : Number(v);
  };
  const reset = num('x-limit-app-reset');
  const limit: PushoverLimit = {
    limit: num('x-limit-app-limit'),
    remaining: num('x-limit-app-remaining'),
    resetAt: reset === undefined ? undefined : reset * 1000,
  };
  if (limit.limit !== undefined || limit.remaining !== undefined) onLimit(limit);
  const body = await readJson(res);
  const request = typeof body?.request === 'string' ? ` request ${body.request}` : '';
  if (res.status === 200) {
    // The last message of the month's allowance: hold the rest until it resets rather than collect 429s.
    if (limit.remaining === 0 && limit.resetAt !== undefined)
      return { ok: true, detail: `200${request} (allowance spent)`, pauseUntil: limit.resetAt };
    return { ok: true, detail: `200${request}` };
  }
  if (res.status === 429) {
    // The monthly allowance is spent: nothing will go through before it resets.
    const pauseUntil = limit.resetAt ?? Date.now() + 3_600_000;
    return { ok: false, retry: true, detail: `429 over the monthly limit (resets ${new Date(pauseUntil).toISOString()})`, pauseUntil };
  }
  const errors = Array.isArray(body?.errors) ? body.errors.map(String).join('; ') : '';
  if (res.status >= 500) return { ok: false, retry: true, detail: `${res.status}${errors ? ': ' + errors : ''}` };
  return { ok: false, retry: false, detail: `${res.status}${errors ? ': ' + errors : ''}${request}` };
}

async function readJson(res: Response): Promise<{ request?: unknown; errors?: unknown } | undefined> {
  try {
    const v: unknown = JSON.parse(await res.text());
    return typeof v === 'object' && v !== null ? (v as { request?: unknown; errors?: unknown }) : undefined;
  } catch {
    return undefined;
  }
}
