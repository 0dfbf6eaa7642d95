// Errors the status API answers with: a stable code from src/errors.ts, the HTTP status it maps to,
// and a message that says what to do. Sent as { error: { code, message } }.
import { AntennaError, type ErrorCode } from '../errors.js';

export class ApiError extends AntennaError {
  declare readonly statusCode: number;

  constructor(status: number, code: ErrorCode, message: string) {
    super(code, message, { statusCode: status });
    this.name = 'ApiError';
  }
}
