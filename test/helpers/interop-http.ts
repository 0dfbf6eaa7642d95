// Listener-side HTTP for the interop suite: an ICY-aware reader that keeps titles and audio bytes
// (bounded), and small text GETs with optional Basic auth.
import { request, type IncomingHttpHeaders } from 'node:http';

export interface IcyRead {
  readonly status: number;
  readonly httpVersion: string;
  readonly headers: IncomingHttpHeaders;
  /** StreamTitle of every metadata block, in order ('' for empty and zero-length "unchanged" blocks). */
  readonly titles: string[];
  /** Audio bytes with the ICY blocks removed (at most maxAudioBytes). */
  readonly audio: Buffer;
  readonly error?: string;
}

export interface IcyReadOptions {
  readonly timeoutMs: number;
  /** Stop early once a title matching this arrives and at least minAudioBytes were read. */
  readonly untilTitle?: (title: string) => boolean;
  readonly minAudioBytes?: number;
  readonly maxAudioBytes?: number;
  readonly headers?: Record<string, string>;
}

/** GET a stream with `Icy-MetaData: 1` and de-interleave audio and StreamTitle blocks. */
export function readIcy(url: string, opts: IcyReadOptions): Promise<IcyRead> {
  const maxAudio = opts.maxAudioBytes ?? 2_000_000;
  const minAudio = opts.minAudioBytes ?? 0;
  return new Promise((resolve) => {
    const audio: Buffer[] = [];
    let audioLen = 0;
    const titles: string[] = [];
    let done = false;
    let head: Pick<IcyRead, 'status' | 'httpVersion' | 'headers'> = { status: 0, httpVersion: '', headers: {} };
    const req = request(url, { headers: { 'Icy-MetaData': '1', 'User-Agent': 'antenna-interop/1', ...opts.headers } }, (res) => {
      head = { status: res.statusCode ?? 0, httpVersion: res.httpVersion, headers: res.headers };
      const metaint = Number(res.headers['icy-metaint'] ?? 0);
      let untilMeta = metaint;
      let metaLeft = -1; // -1: reading audio; >=0: bytes of the current metadata block still to read
      let meta: Buffer[] = [];
      const finish = (error?: string): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        res.destroy();
        req.destroy();
        resolve({
          status: res.statusCode ?? 0,
          httpVersion: res.httpVersion,
          headers: res.headers,
          titles,
          audio: Buffer.concat(audio),
          ...(error ? { error } : {}),
        });
      };
      const keepAudio = (b: Buffer): void => {
        if (audioLen >= maxAudio) return;
        const part = b.subarray(0, maxAudio - audioLen);
        audio.push(part);
        audioLen += part.length;
      };
      res.on('data', (chunk: Buffer) => {
        let buf = chunk;
        while (buf.length > 0) {
          if (metaint === 0) {
            keepAudio(buf);
            break;
          }
          if (metaLeft < 0 && untilMeta > 0) {
            const n = Math.min(untilMeta, buf.length);
            keepAudio(buf.subarray(0, n));
            untilMeta -= n;
            buf = buf.subarray(n);
            continue;
          }
          if (metaLeft < 0) {
            metaLeft = (buf[0] ?? 0) * 16;
            buf = buf.subarray(1);
            meta = [];
          }
          const n = Math.min(metaLeft, buf.length);
          meta.push(buf.subarray(0, n));
          metaLeft -= n;
          buf = buf.subarray(n);
          if (metaLeft === 0) {
            titles.push(streamTitle(Buffer.concat(meta)));
            metaLeft = -1;
            untilMeta = metaint;
          }
        }
        // Icecast sends a title once, then zero-length blocks until it changes: any block counts.
        if (opts.untilTitle && titles.some(opts.untilTitle) && audioLen >= minAudio) finish();
        else if (!opts.untilTitle && minAudio > 0 && audioLen >= minAudio) finish();
      });
      res.on('end', () => finish('stream ended'));
      res.on('error', (err) => finish(err.message));
    });
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      req.destroy();
      resolve({
        ...head,
        titles,
        audio: Buffer.concat(audio),
        error: `timeout after ${opts.timeoutMs} ms (titles seen: ${JSON.stringify(titles.slice(-5))}, audio bytes: ${audioLen})`,
      });
    }, opts.timeoutMs);
    req.on('error', (err) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ status: 0, httpVersion: '', headers: {}, titles, audio: Buffer.concat(audio), error: err.message });
    });
    req.end();
  });
}

/** StreamTitle='…'; from an ICY block (title may contain quotes: take up to the last `';`). */
export function streamTitle(block: Buffer): string {
  const s = block.toString('latin1').replace(/\0+$/, '');
  const m = /StreamTitle='(.*?)';(?!.*StreamTitle)/s.exec(s);
  if (!m) return '';
  // ICY blocks on MP3 mounts are Latin-1 unless UTF-8 decodes cleanly (a utf-8 charset mount).
  const raw = Buffer.from(m[1] ?? '', 'latin1');
  const utf8 = raw.toString('utf8');
  return utf8.includes('\uFFFD') ? raw.toString('latin1') : utf8;
}

export interface HttpText {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A plain GET (optionally with Basic auth), whole body as UTF-8 text (bounded to 4 MB). */
export function getText(url: string, auth?: { user: string; pass: string }, timeoutMs = 10_000): Promise<HttpText> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (auth) headers.Authorization = 'Basic ' + Buffer.from(`${auth.user}:${auth.pass}`).toString('base64');
    const req = request(url, { headers, timeout: timeoutMs }, (res) => {
      const parts: Buffer[] = [];
      let len = 0;
      res.on('data', (d: Buffer) => {
        len += d.length;
        if (len > 4_000_000) {
          req.destroy(new Error(`${url}: body over 4 MB`));
          return;
        }
        parts.push(d);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
