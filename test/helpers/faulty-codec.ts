// A real in-process codec library (libfdk-aac, LAME) with a switch that makes the next encode() of every
// encoder it opened throw once: how the tests make a library error without a broken library.

interface CodecLibrary<E extends { encode(pcm: Buffer): Buffer[] }, A extends unknown[]> {
  readonly name: string;
  open(...args: A): E;
}

export function faulty<E extends { encode(pcm: Buffer): Buffer[] }, A extends unknown[]>(
  lib: CodecLibrary<E, A>,
  error: string,
): CodecLibrary<E, A> & { fail(): void } {
  let failNext = false;
  return {
    name: lib.name,
    fail: () => void (failNext = true),
    open(...args: A): E {
      const enc = lib.open(...args);
      const encode = enc.encode.bind(enc);
      enc.encode = (pcm: Buffer): Buffer[] => {
        if (failNext) {
          failNext = false;
          throw new Error(error);
        }
        return encode(pcm);
      };
      return enc;
    },
  };
}
