import { pino, type Logger } from 'pino';

/** Paths redacted from every log record: secrets never reach a log line. */
export const redactPaths = [
  'password', '*.password', '*.*.password', 'token', '*.token', 'secret', '*.secret', '*.*_secret', '*.*_key',
  'connectionString', '*.connectionString', 'headers.authorization', 'PGPASSWORD', '*.PGPASSWORD',
];

export function createLogger(level: string, name: string): Logger {
  return pino({ name, level, redact: { paths: redactPaths, censor: '[redacted]' } });
}

export type { Logger };
