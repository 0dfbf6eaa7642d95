// Loading a codec library into Node through koffi's FFI (no compiler needed: koffi ships prebuilt).
// Each library is optional: a machine without it runs the ffmpeg child instead, and the loader's error
// says which Debian package would bring it.
import type koffiModule from 'koffi';
import type { LibraryHandle } from 'koffi';

export type Koffi = typeof koffiModule;
export type KoffiFunction = ReturnType<LibraryHandle['func']>;

/** A codec library that did not load or that returned an error (its own code, where it has one). */
export class NativeCodecError extends Error {
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
    this.name = 'NativeCodecError';
  }
}

/** koffi and the library `name` (a soname); throws NativeCodecError naming `debianPackage` if either is missing. */
export async function loadNative(
  name: string,
  debianPackage: string,
  fail: (message: string) => Error = (m) => new NativeCodecError(m),
): Promise<{ koffi: Koffi; lib: LibraryHandle }> {
  let koffi: Koffi;
  try {
    koffi = (await import('koffi')).default;
  } catch (err) {
    throw fail(`koffi (the FFI that calls it) did not load: ${(err as Error).message}`);
  }
  try {
    return { koffi, lib: koffi.load(name) };
  } catch (err) {
    throw fail(`${name} did not load (${(err as Error).message.split('\n')[0] ?? ''}); on Debian: apt-get install ${debianPackage}`);
  }
}
