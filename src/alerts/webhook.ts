// Webhook delivery: each alert as a JSON POST, signed with HMAC-SHA256 of the exact body under the
// shared secret (`X-Antenna-Signature: sha256=<hex>`). The body carries `content` (Discord) and `text`
// (Slack) next to the structured fields, so the common receivers take it as is.
import { createHmac } from 'node:crypto';
import type { Alert } from './rules.js';
import type { SendResult } from './sink-queue.js';

export const SIGNATURE_HEADER = 'x-antenna-signature';

export interface WebhookPayload {
  readonly type: 'alert';
  readonly station: string;
  readonly incident: string;
  readonly kind: string;
  readonly phase: 'open' | 'close';
  readonly title: string;
  readonly message: string;
  readonly priority: number;
  readonly count: number;
  readonly at: string;
  readonly durationMs?: number;
  readonly suppressedBefore?: number;
  /** Discord's field. */
  readonly content: string;
  /** Slack's field. */
  readonly text: string;
}

export function webhookBody(station: string, a: Alert): string {
  const line = `${a.title}\n${a.message}`;
  const p: WebhookPayload = {
    type: 'alert',
    station,
    incident: a.incident,
    kind: a.kind,
    phase: a.phase,
    title: a.title,
    message: a.message,
    priority: a.priority,
    count: a.count,
    at: new Date(a.at).toISOString(),
    ...(a.durationMs !== undefined ? { durationMs: a.durationMs } : {}),
    ...(a.suppressedBefore ? { suppressedBefore: a.suppressedBefore } : {}),
    // Discord refuses content over 2,000 characters.
    content: line.slice(0, 2000),
    text: line,
  };
  return JSON.stringify(p);
}

export function sign(secret: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
}

/** A URL fit for logs: webhook URLs often carry their token in the path (Discord, Slack). */
export function urlLabel(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid url)';
  }
}

export async function sendWebhook(url: string, secret: string, body: string, signal: AbortSignal): Promise<SendResult> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Antenna' };
  if (secret !== '') headers[SIGNATURE_HEADER] = sign(secret, body);
  const res = await fetch(url, { method: 'POST', headers, body, signal });
  await res.body?.cancel().catch(() => undefined);
  if (res.status >= 200 && res.status < 300) return { ok: true, detail: String(res.status) };
  if (res.status === 429) {
    const after = Number(res.headers.get('retry-after'));
    return {
      ok: false,
      retry: true,
      detail: '429 rate limited',
      ...(Number.isFinite(after) && after > 0 ? { pauseUntil: Date.now() + after * 1000 } : {}),
    };
  }
  if (res.status >= 500 || res.status === 408) return { ok: false, retry: true, detail: String(res.status) };
  return { ok: false, retry: false, detail: String(res.status) };
}
