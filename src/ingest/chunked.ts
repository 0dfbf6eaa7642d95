// Streaming de-chunker for `Transfer-Encoding: chunked` source bodies (Liquidsoap `chunked=true`):
// feed it packets as they arrive, get the payload bytes back; chunk boundaries may fall anywhere.

type State = 'size' | 'data' | 'data-crlf' | 'trailer' | 'done';

/** Longest chunk-size line accepted (hex digits plus extensions); longer means garbage. */
const MAX_SIZE_LINE = 256;

export class Dechunker {
  #state: State = 'size';
  #line = '';
  #remaining = 0;
  #error: string | undefined;

  /** True after the terminating zero-size chunk. */
  get done(): boolean {
    return this.#state === 'done';
  }

  /** Set when the framing was invalid; the caller ends the connection. */
  get error(): string | undefined {
    return this.#error;
  }

  /** Returns the payload bytes contained in `input` (subarrays of it, no copies of audio). */
  push(input: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let i = 0;
    while (i < input.length && this.#error === undefined && this.#state !== 'done') {
      switch (this.#state) {
        case 'size':
        case 'trailer':
        case 'data-crlf': {
          const lf = input.indexOf(0x0a, i);
          const end = lf === -1 ? input.length : lf;
          this.#line += input.toString('latin1', i, end);
          if (this.#line.length > MAX_SIZE_LINE) {
            this.#error = 'chunk size line too long';
            break;
          }
          i = end;
          if (lf === -1) break;
          i = lf + 1;
          const line = this.#line.replace(/\r$/, '');
          this.#line = '';
          this.#onLine(line);
          break;
        }
        case 'data': {
          const n = Math.min(this.#remaining, input.length - i);
          out.push(input.subarray(i, i + n));
          i += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = 'data-crlf';
          break;
        }
      }
    }
    return out;
  }

  #onLine(line: string): void {
    if (this.#state === 'data-crlf') {
      if (line !== '') this.#error = 'missing CRLF after chunk data';
      else this.#state = 'size';
      return;
    }
    if (this.#state === 'trailer') {
      if (line === '') this.#state = 'done';
      return;
    }
    const hex = line.split(';')[0]?.trim() ?? '';
    if (!/^[0-9a-fA-F]{1,8}$/.test(hex)) {
      this.#error = `invalid chunk size ${JSON.stringify(line.slice(0, 20))}`;
      return;
    }
    this.#remaining = parseInt(hex, 16);
    this.#state = this.#remaining === 0 ? 'trailer' : 'data';
  }
}
