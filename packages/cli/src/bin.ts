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
  --timeout MS  call: the deadline of the call, and of waiting for a busy server's worker
                (default 30000)
  --wait MS     call, describe: keep trying this long to reach a server that cannot be
                reached yet (default 0: fail at once, saying why)

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
 * the client's report of each endpoint: `cannot connect to unix:/x.sock: ENOENT: no such
 * file or directory`.
 */
function explain(error: unknown): string {
  const { code, message, data } = error as { code?: string; message?: string; data?: unknown };
  const endpoints = (data as { endpoints?: EndpointReport[] } | undefined)?.endpoints;
  if (
    code === 'TIMEOUT' &&
    Array.isArray(endpoints) &&
    endpoints.every((report) => report.error !== undefined && report.connections === 0)
  ) {
    return endpoints
      .map(({ endpoint, error: last, attempts }) => {
        const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
        return `cannot connect to ${endpoint}: ${last}${tries}`;
      })
      .join('; ');
  }
  return `${code ? `${code}: ` : ''}${message ?? String(error)}`;
}
