import pino from 'pino';

export type Logger = pino.Logger;
export type LogDestination = pino.DestinationStream;

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Where the JSON lines go; stdout by default. Tests pass a stream to read them back. */
  destination?: LogDestination;
}

/**
 * Credentials that may sit in a logged request or response. The API key travels in
 * Authorization or X-Api-Key, sessions in cookies; none of them may reach a log store.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers.cookie',
];

/** One JSON object per line, each carrying `service`, so logs of all three services can be mixed. */
export function createLogger(opts: LoggerOptions): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level ?? 'info',
    base: { service: opts.service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Level names ("warn") rather than numbers (40) read better in any log tool without a legend.
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
