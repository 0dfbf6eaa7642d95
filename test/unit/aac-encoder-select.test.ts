// Who encodes AAC (ANTENNA_AAC_ENCODER): the decision alone, with a library that loads or does not.
import { describe, expect, it } from 'vitest';
import { FdkAacError, loadFdkAac, selectAacEncoder, type FdkAacLibrary } from '../../src/encoders/fdk-aac.js';
import { AntennaError } from '../../src/errors.js';

const loaded: FdkAacLibrary = {
  name: 'libfdk-aac.so.2',
  open: () => {
    throw new Error('not opened in this test');
  },
};
const ok = (): Promise<FdkAacLibrary> => Promise.resolve(loaded);
const missing = (): Promise<FdkAacLibrary> => Promise.reject(new FdkAacError('libfdk-aac.so.2 did not load (not found)'));

describe('selectAacEncoder', () => {
  it('auto: FDK when it loads, saying why; ffmpeg when it does not, saying why', async () => {
    expect(await selectAacEncoder('auto', ok)).toMatchObject({ engine: 'fdk-aac', library: loaded, why: expect.stringMatching(/loaded/) });
    const fallback = await selectAacEncoder('auto', missing);
    expect(fallback).toEqual({ engine: 'ffmpeg', why: 'no FDK AAC: libfdk-aac.so.2 did not load (not found)' });
  });

  it('ffmpeg: never loads the library', async () => {
    let tried = false;
    const choice = await selectAacEncoder('ffmpeg', () => ((tried = true), ok()));
    expect(choice).toEqual({ engine: 'ffmpeg', why: 'set by ANTENNA_AAC_ENCODER' });
    expect(tried).toBe(false);
  });

  it('fdk-aac: the library or a fatal error that names the setting and the cause', async () => {
    expect(await selectAacEncoder('fdk-aac', ok)).toMatchObject({ engine: 'fdk-aac', why: 'set by ANTENNA_AAC_ENCODER' });
    const err = await selectAacEncoder('fdk-aac', missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AntennaError);
    expect(err).toMatchObject({ code: 'AAC_ENCODER_UNAVAILABLE', fatal: true });
    expect((err as Error).message).toBe('ANTENNA_AAC_ENCODER=fdk-aac: libfdk-aac.so.2 did not load (not found)');
  });

  it('a library that is not there is a clear FdkAacError, with the Debian package to install', async () => {
    const err = await loadFdkAac('libfdk-aac-not-here.so.9').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FdkAacError);
    expect((err as Error).message).toMatch(
      /^libfdk-aac-not-here\.so\.9 did not load \(.*\); on Debian: apt-get install libfdk-aac2 \(non-free\)$/,
    );
  });
});
