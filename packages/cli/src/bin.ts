#!/usr/bin/env node
/**
 * The `taskpool` command line.
 *
 *   taskpool serve <worker-module> [--listen unix:/path|tcp://host:port] [--name NAME]
 *                  [--spares N] [--max-workers N] [--hung-worker-timeout MS]
 *   taskpool call <endpoint> <method> [json-arg ...] [--timeout MS] [--wait MS]
 *   taskpool describe <endpoint> [--wait MS]
 *
 * `call` and `describe` fail at once when the server cannot be reached (no such socket,
 * refused, or the server answers with an error instead of hello), saying why; `--wait MS`
 * keeps trying that long first.
 *
 * Exit codes: 0 done, 1 the call or server failed (or the server cannot be reached), 2 bad
 * usage.
 *
 * @module
 */
import type { EndpointReport } from '@taskpool/client';
import { runCall } from './commands/call.js';
import { runDescribe } from './commands/describe.js';
import { runServe } from './commands/serve.js';
import { UsageError } from './usage.js';

const HELP = `usage:
  taskpool serve <worker-module> [--listen unix:/path|tcp://host:port] [--name NAME]
                 [--spares N] [--max-workers N] [--hung-worker-timeout MS]
  taskpool call <endpoint> <method> [json-arg ...] [--timeout MS] [--wait MS]
  taskpool describe <endpoint> [--wait MS]

options:
  --timeout MS  call: the deadline of the call, and of the wait for a worker (default
                30000, at least 1). A server whose workers are all busy holds a new
                connection until one is free, up to its connectionTimeout; then it refuses
                it (SERVER_BUSY) and the command fails, saying the server is busy
  --wait MS     call, describe: keep trying this long to reach a server that cannot be
                reached yet, or is busy (default 0: fail at once, saying why)

exit codes: 0 done, 1 the call or the server failed, or the server cannot be reached,
  2 bad usage`;

const commands: Record<string, (args: string[]) => Promise<number>> = {
  serve: runServe,
  call: runCall,
  describe: runDescribe,
};

async function main(argv: string[]): Promise<number> {
  // The first word is read as it is: parseArgs would take `--help` for an option and
  // leave no command name.
  const name = argv[0];
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(HELP);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
  return command(argv.slice(1));
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`taskpool: ${error.message}\n${HELP}`);
      process.exitCode = 2;
      return;
    }
    console.error(`taskpool: ${explain(error)}`);
    process.exitCode = 1;
  },
);

/**
 * An error in one line. A server that could not be reached at all is said plainly, from
 * the client's report of each endpoint (`cannot connect to unix:/x.sock: ENOENT: no such
 * file or directory`), and a server that refused the connection as busy as such (`the
 * server at unix:/x.sock is busy (SERVER_BUSY): no worker became free within 10000 ms`).
 * The TIMEOUT of giving up on the server is never shown as it is: with `--wait 0` it
 * would read "timed out after 0 seconds", which says nothing.
 */
function explain(error: unknown): string {
  const { code, message, data } = error as { code?: string; message?: string; data?: unknown };
  const endpoints = (data as { endpoints?: EndpointReport[] } | undefined)?.endpoints;
  if (
    code === 'TIMEOUT' &&
    Array.isArray(endpoints) &&
    endpoints.some((report) => report.error !== undefined) &&
    endpoints.every((report) => report.connections === 0)
  ) {
    return endpoints.map(describeEndpoint).join('; ');
  }
  return `${code ? `${code}: ` : ''}${message ?? String(error)}`;
}

/** What one endpoint did, as `explain` says it. */
function describeEndpoint({ endpoint, error, code, attempts }: EndpointReport): string {
  if (error === undefined) return `${endpoint}: not reached`;
  const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
  if (code === 'SERVER_BUSY') {
    const detail = error.replace(/^SERVER_BUSY: /, '');
    return `the server at ${endpoint} is busy (SERVER_BUSY): ${detail}${tries}`;
  }
  return `cannot connect to ${endpoint}: ${error}${tries}`;
}
