/**
 * `taskpool call <endpoint> <method> [json-arg ...]`: one call, its result printed as JSON.
 * Arguments are read as `readArguments` says (`-` from standard input).
 */
import { MAX_TIMER_MS } from '@taskpool/protocol';
import { readArguments } from '../arguments.js';
import { reach } from '../reach.js';
import { integerOption, parseCommand, UsageError } from '../usage.js';

export async function runCall(args: string[]): Promise<number> {
  const { positionals, values } = parseCommand(args, ['timeout', 'wait']);
  const [endpoint, method, ...rest] = positionals;
  if (endpoint === undefined || method === undefined) {
    throw new UsageError('call takes an endpoint and a method');
  }
  // A deadline of 0 would fail in createClient as INVALID_OPTION: a usage error here.
  const timeout = integerOption('timeout', values.timeout, { min: 1, max: MAX_TIMER_MS }) ?? 30_000;
  const wait = integerOption('wait', values.wait, { max: MAX_TIMER_MS }) ?? 0;
  const callArgs = await readArguments('call', rest);
  await using server = await reach(endpoint, wait, timeout);
  const result = await server.checkout.call(method, callArgs, { timeout });
  console.log(JSON.stringify(result, null, 2));
  return 0;
}
