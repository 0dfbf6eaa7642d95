import { describe, expect, it } from 'vitest';
import { classifyStderr } from '../../src/ffmpeg/stderr.js';

describe('classifyStderr', () => {
  it("reads ffmpeg's level tag and strips it", () => {
    expect(classifyStderr('[mp3float @ 0x55d0c0a1b2c0] [error] Header missing', 'decoder')).toEqual({
      level: 'warn',
      ffmpegLevel: 'error',
      text: '[mp3float @ 0x55d0c0a1b2c0] Header missing',
    });
    expect(classifyStderr('[error] Error while decoding stream #0:0: Invalid data found', 'encoder')).toMatchObject({
      level: 'error',
      ffmpegLevel: 'error',
      text: 'Error while decoding stream #0:0: Invalid data found',
    });
  });

  it("an encoder's problems are ours (warn/error); a decoder's are the source's (info/warn)", () => {
    expect(classifyStderr('[libmp3lame @ 0x1] [warning] Queue input is full', 'encoder').level).toBe('warn');
    expect(classifyStderr('[mp3 @ 0x1] [warning] invalid concatenated file detected', 'decoder').level).toBe('info');
    expect(classifyStderr('[fatal] pipe:0: Invalid argument', 'decoder').level).toBe('warn');
    expect(classifyStderr('[fatal] pipe:0: Invalid argument', 'encoder').level).toBe('error');
  });

  it('messages of a healthy run are debug, whatever their tag', () => {
    expect(classifyStderr('[aac @ 0x1] [warning] Estimating duration from bitrate, this may be inaccurate', 'file').level).toBe('debug');
    expect(classifyStderr('[warning] Guessed Channel Layout for Input Stream #0.0 : stereo', 'decoder').level).toBe('debug');
  });

  it('once Antenna has asked the child to stop, what it says while it flushes is debug', () => {
    const lame = '[libmp3lame @ 0x5622e5a39fc0] [warning] Trying to remove 1152 samples, but the queue is empty';
    expect(classifyStderr(lame, 'encoder').level).toBe('warn');
    expect(classifyStderr(lame, 'encoder', true).level).toBe('debug');
    expect(classifyStderr('[error] Error writing trailer of pipe:1: Broken pipe', 'encoder', true)).toMatchObject({
      level: 'debug',
      ffmpegLevel: 'error',
    });
  });

  it('a line without a tag (a build that ignores level+) is a warning', () => {
    expect(classifyStderr('something odd', 'encoder')).toEqual({ level: 'warn', ffmpegLevel: undefined, text: 'something odd' });
  });
});
