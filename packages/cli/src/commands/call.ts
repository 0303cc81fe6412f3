/** `taskpool call <endpoint> <method> [json-arg ...]`: one call, its result printed as JSON. */
import { parseArgs } from 'node:util';
import { createClient } from '@taskpool/client';
import { integerOption, UsageError } from '../usage.js';

function parseJsonArgument(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // A bare word is a string, as a shell user would expect.
    return text;
  }
}

export async function runCall(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseCallArgs>;
  try {
    parsed = parseCallArgs(args);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const [endpoint, method, ...rest] = parsed.positionals;
  if (endpoint === undefined || method === undefined) {
    throw new UsageError('call takes an endpoint and a method');
  }
  const timeout = integerOption('timeout', parsed.values.timeout) ?? 30_000;
  await using client = createClient({ connect: endpoint, minWorkers: 0, maxWorkers: 1, timeout });
  const result = await client.call(method, rest.map(parseJsonArgument));
  console.log(JSON.stringify(result, null, 2));
  return 0;
}

function parseCallArgs(args: string[]) {
  return parseArgs({ args, allowPositionals: true, options: { timeout: { type: 'string' } } });
}
