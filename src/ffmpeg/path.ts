// Which ffmpeg binary runs: FFMPEG_PATH if set, else the embedded @ffmpeg-installer build (4.1, 2018):
// every option this project passes exists in 4.1; newer ones must not be used.
import { createRequire } from 'node:module';
import { accessSync, constants } from 'node:fs';
import { AntennaError } from '../errors.js';

export function resolveFfmpegPath(configured: string | undefined): string {
  if (configured) {
    try {
      accessSync(configured, constants.X_OK);
    } catch (cause) {
      throw new AntennaError('FFMPEG_NOT_FOUND', `FFMPEG_PATH=${configured} is not an executable file`, { fatal: true, cause });
    }
    return configured;
  }
  try {
    const require = createRequire(import.meta.url);
    const installer = require('@ffmpeg-installer/ffmpeg') as { path: string };
    accessSync(installer.path, constants.X_OK);
    return installer.path;
  } catch (cause) {
    throw new AntennaError(
      'FFMPEG_NOT_FOUND',
      'the embedded ffmpeg (@ffmpeg-installer/ffmpeg) is missing: run npm install, or set FFMPEG_PATH',
      { fatal: true, cause },
    );
  }
}
