// Classifies ffmpeg's stderr lines (run with `-loglevel level+warning`, so each carries its level)
// into log levels. Pure and unit-tested: a normal start logs nothing above info.

export type FfmpegRole = 'encoder' | 'decoder' | 'file';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface StderrLine {
  readonly level: LogLevel;
  /** ffmpeg's own level word (`warning`, `error`…), or undefined when the line carried none. */
  readonly ffmpegLevel: string | undefined;
  /** The line without its `[level]` tag. */
  readonly text: string;
}

/** Messages ffmpeg prints on healthy runs: information, not problems. */
const BENIGN = [
  /Guessed Channel Layout/i,
  /Estimating duration from bitrate/i,
  /Skipping \d+ bytes of junk/i,
  /Queue input is backward in time/i,
  /EOF timestamp not reliable/i,
];

// `[mp3 @ 0x55d…] [warning] Header missing`, or `[warning] message` for lines without a context.
const TAGGED = /^((?:\[[^\]]*@ 0x[0-9a-f]+\] )?)\[(trace|debug|verbose|info|warning|error|fatal|panic|quiet)\] (.*)$/;

/**
 * The log level for one stderr line. A decoder's errors are about the source's bytes (logged as
 * warnings: the session's own disconnect is what the operator needs); its warnings are the usual
 * imperfections of a stream joined mid-way (info). An encoder's are ours: errors are errors.
 *
 * `stopping`: Antenna has already asked this child to go (SIGTERM, or its input ended), so what it says
 * now is about a flush nobody will hear: ffmpeg 5.1's libmp3lame, stopped mid-stream, may say "Trying
 * to remove 1152 samples, but the queue is empty", and a trailer written into a closed pipe fails. Those
 * are debug, so that every normal shutdown does not log warnings; the exit itself is still reported.
 */
export function classifyStderr(line: string, role: FfmpegRole, stopping = false): StderrLine {
  const m = TAGGED.exec(line);
  const ffmpegLevel = m?.[2];
  const text = m ? `${m[1] ?? ''}${m[3] ?? ''}` : line;
  if (stopping || BENIGN.some((re) => re.test(text))) return { level: 'debug', ffmpegLevel, text };
  const severe = ffmpegLevel === 'error' || ffmpegLevel === 'fatal' || ffmpegLevel === 'panic';
  let level: LogLevel;
  if (ffmpegLevel === undefined) level = 'warn';
  else if (severe) level = role === 'encoder' ? 'error' : 'warn';
  else if (ffmpegLevel === 'warning') level = role === 'encoder' ? 'warn' : 'info';
  else level = 'debug';
  return { level, ffmpegLevel, text };
}
