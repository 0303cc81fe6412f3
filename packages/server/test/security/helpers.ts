/** Shared parts of the security tests: an in-process server serving secure-worker. */
import { type ClientOptions, createClient } from '@taskpool/client';
import type { ServerOptions, TaskServer } from '@taskpool/server';
import { secured } from '../fixtures/secure-worker.js';
import { builtServer, fixture } from '../helpers/processes.js';

/** A server in this process (its stats() can be read), serving secure-worker. */
export function secureServer(options: Partial<ServerOptions> = {}): TaskServer {
  return builtServer.createServer({
    listen: 'tcp://127.0.0.1:0',
    workerModule: fixture('secure-worker.ts'),
    spares: 1,
    handleSignals: false,
    execArgv: [],
    ...options,
  });
}

/** Closes what a test made, newest first, after it. */
export type Cleanups = (() => Promise<unknown>)[];

/**
 * A client of secure-worker's interface that connects only when asked and gives up after
 * 5 s; closed with the test's `cleanups`.
 */
export function securedClient(
  cleanups: Cleanups,
  endpoint: string,
  options: Omit<Partial<ClientOptions>, 'interface'> = {},
) {
  const made = createClient({
    connect: endpoint,
    interface: secured,
    minWorkers: 0,
    timeout: 5_000,
    ...options,
  });
  cleanups.push(() => made.close());
  return made;
}
