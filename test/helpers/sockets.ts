/**
 * Socket paths for tests: in the run's private directory (mode 0700, made and removed by
 * the global setup in test/socket-directory.ts), named with the test process's id. A
 * server refuses a directory other users can write to, such as the temporary directory.
 */
import { join } from 'node:path';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's socket directory (test/socket-directory.ts provides it). */
    socketDirectory: string;
  }
}

/** A path for a Unix socket, unique within this run when `name` is within this process. */
export function socketPath(name: string): string {
  return join(inject('socketDirectory'), `${process.pid}-${name}`);
}
