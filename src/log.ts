// The root pino logger. Components take child loggers ({ component: 'encoder', mount }) from it;
// secrets are redacted wherever they might appear in a logged object.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'password',
  '*.password',
  'sourcePassword',
  '*.sourcePassword',
  'adminPassword',
  '*.adminPassword',
  'relayPassword',
  '*.relayPassword',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'apiKey',
  '*.apiKey',
  'token',
  '*.token',
  'posthogKey',
  '*.posthogKey',
  'pushoverToken',
  '*.pushoverToken',
  'pushoverUser',
  '*.pushoverUser',
  'webhookUrls',
  '*.webhookUrls',
  'webhookSecret',
  '*.webhookSecret',
  'jwt',
  '*.jwt',
  'appwriteApiKey',
  '*.appwriteApiKey',
  'metricsToken',
  '*.metricsToken',
  'headers["x-appwrite-jwt"]',
  '*.headers["x-appwrite-jwt"]',
];

export function createRootLogger(level: LevelWithSilent, destination?: NodeJS.WritableStream): Logger {
  const opts = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { app: 'antenna' } };
  return destination ? pino(opts, destination as pino.DestinationStream) : pino(opts);
}
