/** Shared parts of the security tests: an in-process server serving secure-worker. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerOptions, TaskServer } from '@taskpool/server';
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

/** A new Unix socket path in a new private directory. */
export function privateSocket(): string {
  return join(mkdtempSync(join(tmpdir(), 'taskpool-security-')), 'taskpool.sock');
}
