/**
 * A worker that cannot start, in words: the `WORKER_START_FAILED` error naming the worker
 * code and why it failed, with the load error as `cause`.
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { WorkerStartFailedError } from '@taskpool/protocol';

/** A module URL or path as a reader would look for it: file URLs as paths. */
function displayModule(module: string): string {
  if (!module.startsWith('file:')) return module;
  try {
    return fileURLToPath(module);
  } catch {
    return module;
  }
}

/** `TypeError [ERR_X]: message`, as Node prints an error's first line. */
function headline(error: Error & { code?: unknown }): string {
  const code = typeof error.code === 'string' ? ` [${error.code}]` : '';
  return `${error.name}${code}: ${error.message}`;
}

/** A hint for the failures whose fix is not in the message. */
function hint(module: string, error: Error & { code?: unknown }): string {
  if (error.code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.[cm]?tsx?$/.test(module)) {
    return ' (a TypeScript module needs a loader in execArgv, such as --import tsx, or a build to JavaScript)';
  }
  return '';
}

/** The worker code could not be loaded: `cause` is what loading it threw. */
export function cannotLoad(module: string, cause: Error): WorkerStartFailedError {
  const where = displayModule(module);
  return new WorkerStartFailedError(
    `worker code ${where} cannot load: ${headline(cause)}${hint(where, cause)}`,
    { cause },
  );
}

/** The worker exited, or was killed, before it was ready, without saying why. */
export function didNotStart(module: string, what: string): WorkerStartFailedError {
  return new WorkerStartFailedError(`worker code ${displayModule(module)} did not start: ${what}`);
}
