// The status API over fetch: every call carries the signed-in operator's Authorization header (HTTP
// Basic for the admin, Bearer <Appwrite JWT> otherwise), and a refusal comes back as an ApiFailure
// with the server's stable code and message, which the pages show as they are.
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
  /** No answer at all (server down, network gone): the page says "offline", not "refused". */
  get offline(): boolean {
    return this.status === 0;
  }
}

/**
 * The longest a call may go unanswered before it counts as offline. A connection that died without a
 * reset (a laptop lid, a changed Wi-Fi) otherwise leaves fetch waiting for minutes, and the status
 * loop with it. Longer than the server's own longest wait (Appwrite, at most 60 s by its setting, then 503).
 */
const CALL_TIMEOUT_MS = 65_000;

/** The value of the Authorization header, or null before sign-in. */
export type AuthHeader = () => Promise<string | null>;

async function failure(res: Response): Promise<ApiFailure> {
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    return new ApiFailure(res.status, body.error?.code ?? `HTTP_${res.status}`, body.error?.message ?? res.statusText);
  } catch {
    return new ApiFailure(res.status, `HTTP_${res.status}`, res.statusText || `HTTP ${res.status}`);
  }
}

/** The JSON of a 2xx answer; an answer cut off on the way (or not JSON) is an ApiFailure too, never a stray TypeError. */
async function read<T>(res: Response): Promise<T> {
  try {
    return (await res.json()) as T;
  } catch (err) {
    throw new ApiFailure(0, 'OFFLINE', `the server's answer was cut off (${err instanceof Error ? err.message : String(err)})`);
  }
}

export class Api {
  /**
   * @param renew makes new credentials after the server refused them (401): an Appwrite JWT that
   * expired or was revoked early. The call is then made once more; whatever `renew` throws reaches the caller.
   */
  constructor(
    readonly auth: AuthHeader,
    private readonly renew?: () => Promise<void>,
  ) {}

  async request(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await this.#once(method, path, body);
    } catch (err) {
      if (!(err instanceof ApiFailure && err.status === 401 && this.renew)) throw err;
      await this.renew();
      return this.#once(method, path, body);
    }
  }

  async #once(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {};
    const a = await this.auth();
    if (a) headers.authorization = a;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(path, {
        method,
        headers,
        cache: 'no-store',
        signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw new ApiFailure(0, 'OFFLINE', `the server does not answer (${err instanceof Error ? err.message : String(err)})`);
    }
    if (!res.ok) throw await failure(res);
    return res;
  }

  async get<T>(path: string): Promise<T> {
    return read<T>(await this.request('GET', path));
  }

  async post<T>(path: string, body?: unknown): Promise<T> {
    return read<T>(await this.request('POST', path, body));
  }

  async delete(path: string): Promise<void> {
    await this.request('DELETE', path);
  }

  /**
   * A multipart upload with progress (fetch has no upload progress): resolves with the server's JSON,
   * rejects with an ApiFailure carrying the server's reason (413 too big, 422 not audio or silent, …).
   */
  async upload<T>(path: string, file: File, onProgress: (fraction: number) => void, signal?: AbortSignal): Promise<T> {
    const a = await this.auth();
    return new Promise<T>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', path);
      if (a) xhr.setRequestHeader('authorization', a);
      xhr.responseType = 'text';
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) onProgress(e.loaded / e.total);
      };
      xhr.onload = () => {
        let body: unknown = null;
        try {
          body = JSON.parse(xhr.responseText) as unknown;
        } catch {
          /* not JSON: the status alone explains it */
        }
        if (xhr.status >= 200 && xhr.status < 300) return resolve(body as T);
        const e = (body as { error?: { code?: string; message?: string } } | null)?.error;
        reject(new ApiFailure(xhr.status, e?.code ?? `HTTP_${xhr.status}`, e?.message ?? (xhr.statusText || `HTTP ${xhr.status}`)));
      };
      xhr.onerror = () => reject(new ApiFailure(0, 'OFFLINE', 'the upload was cut off: the server does not answer'));
      xhr.onabort = () => reject(new ApiFailure(0, 'ABORTED', 'upload cancelled'));
      signal?.addEventListener('abort', () => xhr.abort());
      const form = new FormData();
      form.append('file', file, file.name);
      xhr.send(form);
    });
  }
}

/** HTTP Basic for the admin credentials; UTF-8 safe (btoa alone takes Latin-1 only). */
export function basicAuth(user: string, password: string): string {
  const utf8 = new TextEncoder().encode(`${user}:${password}`);
  let bin = '';
  for (const b of utf8) bin += String.fromCharCode(b);
  return `Basic ${btoa(bin)}`;
}
