/**
 * @module logger
 * pino JSON logs. The proxy logs call ids, services, statuses, charges and latencies, never headers
 * or bodies; the redact list is a second line of defence should someone log a request object.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/** Paths pino replaces with `[redacted]` wherever they appear. */
export const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'credentials',
  '*.credentials',
  'credentialHeaders',
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
];

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  const config = { level: options.level ?? 'info', base: { app: 'tollgate' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return options.destination ? pino(config, options.destination) : pino(config);
}
