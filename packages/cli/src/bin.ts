#!/usr/bin/env node
/**
 * The `taskpool` command line.
 *
 *   taskpool serve <worker-module> [--listen unix:/path|tcp://host:port] [--name NAME]
 *                  [--spares N] [--max-workers N] [--hung-worker-timeout MS]
 *   taskpool call <endpoint> <method> [json-arg ...] [--timeout MS]
 *   taskpool describe <endpoint>
 *
 * Exit codes: 0 done, 1 the call or server failed, 2 bad usage.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { runCall } from './commands/call.js';
import { runDescribe } from './commands/describe.js';
import { runServe } from './commands/serve.js';
import { UsageError } from './usage.js';

const HELP = `usage:
  taskpool serve <worker-module> [--listen unix:/path|tcp://host:port] [--name NAME]
                 [--spares N] [--max-workers N] [--hung-worker-timeout MS]
  taskpool call <endpoint> <method> [json-arg ...] [--timeout MS]
  taskpool describe <endpoint>`;

const commands: Record<string, (args: string[]) => Promise<number>> = {
  serve: runServe,
  call: runCall,
  describe: runDescribe,
};

async function main(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({
    args: argv.slice(0, 1),
    allowPositionals: true,
    strict: false,
  });
  const name = positionals[0];
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
    const { code, message } = error as { code?: string; message?: string };
    console.error(`taskpool: ${code ? `${code}: ` : ''}${message ?? String(error)}`);
    process.exitCode = 1;
  },
);
