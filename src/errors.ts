// Every error Antenna raises or reports, with a stable code. Pipeline faults travel as data
// ({ code, fatal, cause }) through events; HTTP-facing errors carry the status they map to.

export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'FFMPEG_NOT_FOUND'
  | 'AAC_ENCODER_UNAVAILABLE'
  | 'MP3_VORBIS_ENCODER_UNAVAILABLE'
  | 'FFMPEG_START_FAILED'
  | 'FFMPEG_DIED'
  | 'PORT_IN_USE'
  | 'SOURCE_BAD_REQUEST'
  | 'SOURCE_HEADER_TOO_LARGE'
  | 'SOURCE_HEADER_TIMEOUT'
  | 'SOURCE_AUTH_FAILED'
  | 'SOURCE_MOUNT_IN_USE'
  | 'SOURCE_TIMEOUT'
  | 'SOURCE_UNSUPPORTED_FORMAT'
  | 'DECODER_FAILED'
  | 'EMERGENCY_FILE_UNUSABLE'
  | 'ENCODER_FAILED'
  | 'ENCODER_STALLED'
  | 'LISTENER_TOO_SLOW'
  | 'LISTENER_LIMIT'
  | 'NOT_FOUND'
  // status API (src/api): each answered with its HTTP status and a JSON body { error: { code, message } }
  | 'AUTH_REQUIRED'
  | 'AUTH_INVALID'
  | 'AUTH_RATE_LIMITED'
  | 'NOT_TEAM_MEMBER'
  | 'MEMBERSHIP_NOT_CONFIRMED'
  | 'WRITE_ROLE_REQUIRED'
  | 'AUTH_UNAVAILABLE'
  | 'BAD_REQUEST'
  | 'BUSY'
  | 'UPLOAD_TOO_LARGE'
  | 'UPLOAD_NOT_AUDIO'
  | 'UPLOAD_SILENT'
  | 'LIBRARY_FULL'
  | 'EMERGENCY_FILE_ACTIVE'
  | 'EMERGENCY_FILE_BUILT_IN'
  | 'NO_SOURCE'
  | 'EMERGENCY_ON_AIR'
  // tls (src/tls): carried in certificate-failed events and the status API, never fatal
  | 'TLS_ISSUANCE_FAILED'
  | 'TLS_CERT_FILE_UNUSABLE';

export class AntennaError extends Error {
  readonly code: ErrorCode;
  readonly fatal: boolean;
  readonly statusCode: number | undefined;

  constructor(code: ErrorCode, message: string, opts: { fatal?: boolean; cause?: unknown; statusCode?: number } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AntennaError';
    this.code = code;
    this.fatal = opts.fatal ?? false;
    this.statusCode = opts.statusCode;
  }
}

/** A fault reported by a pipeline component; the supervisor decides what to do with it. */
export interface PipelineFault {
  readonly code: ErrorCode;
  readonly fatal: boolean;
  readonly message: string;
  readonly cause?: unknown;
}

export function fault(code: ErrorCode, message: string, fatal = false, cause?: unknown): PipelineFault {
  return cause === undefined ? { code, fatal, message } : { code, fatal, message, cause };
}
