/**
 * `taskpool call <endpoint> <method> [json-arg ...]`: one call, its result printed as JSON.
 * Arguments are read as `readArguments` says (`-` from standard input).
 */
import { readArguments } from '../arguments.js';
import { reach, timeoutOption, waitOption } from '../reach.js';
import { CONNECT_FLAGS, CONNECT_OPTIONS, connectSecurity } from '../security.js';
import { parseCommand, UsageError } from '../usage.js';

export async function runCall(args: string[]): Promise<number> {
  const { positionals, values } = parseCommand(
    args,
    ['timeout', 'wait', ...CONNECT_OPTIONS],
    CONNECT_FLAGS,
  );
  const [endpoint, method, ...rest] = positionals;
  if (endpoint === undefined || method === undefined) {
    throw new UsageError('call takes an endpoint and a method');
  }
  const timeout = timeoutOption(values.timeout);
  const wait = waitOption(values.wait);
  const security = connectSecurity(values);
  const callArgs = await readArguments('call', rest);
  await using server = await reach(endpoint, wait, timeout, security);
  const result = await server.checkout.call(method, callArgs, { timeout });
  console.log(JSON.stringify(result, null, 2));
  return 0;
}
