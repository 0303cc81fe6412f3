/**
 * Where the supervisor's messages go: a pino-compatible logger (`info`, `warn`, `error`,
 * each taking an object of fields, then a message), or by default stderr, one line per
 * warning or error as before, and nothing for `info`.
 *
 * @module
 */

/** A logger the server writes to: pino, or anything with the same three methods. */
export interface ServerLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

const line = (_fields: Record<string, unknown>, message: string) => {
  process.stderr.write(`taskpool server: ${message}\n`);
};

/** The default: warnings and errors as `taskpool server: …` lines on stderr; no info. */
export const stderrLogger: ServerLogger = {
  info: () => {},
  warn: line,
  error: line,
};

/** True for something with `info`, `warn` and `error` functions. */
export function isLogger(value: unknown): value is ServerLogger {
  if (typeof value !== 'object' || value === null) return false;
  const logger = value as Record<string, unknown>;
  return (
    typeof logger.info === 'function' &&
    typeof logger.warn === 'function' &&
    typeof logger.error === 'function'
  );
}
