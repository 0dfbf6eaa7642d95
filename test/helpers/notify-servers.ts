// Local HTTP servers that speak the wire protocols of the services Antenna notifies: PostHog's /batch/
// (gzip bodies, as posthog-node sends them), Pushover's /1/messages.json (answers scripted per
// request), and a webhook receiver that checks the HMAC-SHA256 signature. Loopback, port 0.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface LocalServer {
  readonly url: string;
  close(): Promise<void>;
}

async function listen(
  handler: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void,
): Promise<{ server: Server } & LocalServer> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks), res));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// --- PostHog -----------------------------------------------------------------------------------------

export interface PosthogEvent {
  readonly event: string;
  readonly distinct_id: string;
  readonly properties: Record<string, unknown>;
  readonly timestamp: string;
  readonly uuid: string;
}

export interface PosthogBatch {
  readonly at: number;
  readonly gzip: boolean;
  readonly apiKey: string;
  readonly events: readonly PosthogEvent[];
}

export type PosthogMode = 'ok' | 'error' | 'hang';

export interface PosthogServer extends LocalServer {
  readonly batches: PosthogBatch[];
  readonly events: () => PosthogEvent[];
  /** Requests answered (or left hanging), any status. */
  requests: number;
  mode: PosthogMode;
}

export async function startPosthogServer(mode: PosthogMode = 'ok'): Promise<PosthogServer> {
  const state = { batches: [] as PosthogBatch[], requests: 0, mode };
  const base = await listen((req, body, res) => {
    state.requests++;
    if (req.method !== 'POST' || req.url !== '/batch/') {
      res.writeHead(404).end();
      return;
    }
    if (state.mode === 'hang') return; // never answers: the client's timeout must act
    if (state.mode === 'error') {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"unavailable"}');
      return;
    }
    const gzip = req.headers['content-encoding'] === 'gzip';
    const parsed = JSON.parse((gzip ? gunzipSync(body) : body).toString('utf8')) as { api_key: string; batch: PosthogEvent[] };
    state.batches.push({ at: Date.now(), gzip, apiKey: parsed.api_key, events: parsed.batch });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":1}');
  });
  return {
    url: base.url,
    close: base.close,
    batches: state.batches,
    events: () => state.batches.flatMap((b) => b.events),
    get requests() {
      return state.requests;
    },
    set requests(n) {
      state.requests = n;
    },
    get mode() {
      return state.mode;
    },
    set mode(m) {
      state.mode = m;
    },
  };
}

// --- Pushover ----------------------------------------------------------------------------------------

export interface PushoverReply {
  readonly status: number;
  /** Seconds from now for X-Limit-App-Reset. */
  readonly resetInS?: number;
  readonly remaining?: number;
  readonly errors?: readonly string[];
  /** Answer after this long. */
  readonly delayMs?: number;
  /** Never answer. */
  readonly hang?: boolean;
}

export interface PushoverRequest {
  readonly at: number;
  readonly form: Record<string, string>;
  readonly status: number;
}

export interface PushoverServer extends LocalServer {
  readonly requests: PushoverRequest[];
  /** Most requests seen in flight at once. */
  readonly maxConcurrent: () => number;
  /** Replies used in turn; the last one repeats. */
  replies: PushoverReply[];
}

export async function startPushoverServer(replies: PushoverReply[] = [{ status: 200 }]): Promise<PushoverServer> {
  const requests: PushoverRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let n = 0;
  const s = { replies };
  const base = await listen((req, body, res) => {
    if (req.method !== 'POST' || req.url !== '/1/messages.json') {
      res.writeHead(404).end();
      return;
    }
    const reply = s.replies[Math.min(n++, s.replies.length - 1)] ?? { status: 200 };
    const form = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
    requests.push({ at: Date.now(), form, status: reply.status });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    if (reply.hang) return;
    const answer = (): void => {
      inFlight--;
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-limit-app-limit': '10000',
        'x-limit-app-remaining': String(reply.remaining ?? 9000),
        'x-limit-app-reset': String(Math.floor(Date.now() / 1000) + (reply.resetInS ?? 86_400)),
      };
      const request = `req-${requests.length}`;
      const payload =
        reply.status === 200 ? { status: 1, request } : { status: 0, errors: reply.errors ?? ['something went wrong'], request };
      res.writeHead(reply.status, headers).end(JSON.stringify(payload));
    };
    if (reply.delayMs) setTimeout(answer, reply.delayMs);
    else answer();
  });
  return {
    url: base.url,
    close: base.close,
    requests,
    maxConcurrent: () => maxInFlight,
    get replies() {
      return s.replies;
    },
    set replies(r) {
      s.replies = r;
      n = 0;
    },
  };
}

// --- webhooks ----------------------------------------------------------------------------------------

export interface WebhookDelivery {
  readonly at: number;
  readonly body: Record<string, unknown>;
  readonly signatureValid: boolean;
  readonly status: number;
}

export interface WebhookServer extends LocalServer {
  readonly deliveries: WebhookDelivery[];
  /** Statuses answered in turn; the last one repeats. */
  statuses: number[];
}

export async function startWebhookServer(secret: string, statuses: number[] = [200]): Promise<WebhookServer> {
  const deliveries: WebhookDelivery[] = [];
  const s = { statuses };
  let n = 0;
  const base = await listen((req, body, res) => {
    const given = String(req.headers['x-antenna-signature'] ?? '');
    const expected = 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
    const signatureValid = given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
    const status = s.statuses[Math.min(n++, s.statuses.length - 1)] ?? 200;
    deliveries.push({ at: Date.now(), body: JSON.parse(body.toString('utf8')) as Record<string, unknown>, signatureValid, status });
    res.writeHead(signatureValid ? status : 401).end();
  });
  return {
    url: base.url + '/hooks/secret-token-in-path',
    close: base.close,
    deliveries,
    get statuses() {
      return s.statuses;
    },
    set statuses(v) {
      s.statuses = v;
      n = 0;
    },
  };
}
