/** `taskpool describe <endpoint>`: the worker's hello (server name, protocol, interface schema). */
import { MAX_TIMER_MS } from '@taskpool/protocol';
import { reach } from '../reach.js';
import { integerOption, parseCommand, UsageError } from '../usage.js';

/** How long describe waits for a server that was reached to hand over a worker, in ms. */
const DESCRIBE_TIMEOUT = 30_000;

export async function runDescribe(args: string[]): Promise<number> {
  const { positionals, values } = parseCommand(args, ['wait']);
  const [endpoint, ...rest] = positionals;
  if (endpoint === undefined || rest.length > 0) throw new UsageError('describe takes an endpoint');
  const wait = integerOption('wait', values.wait, { max: MAX_TIMER_MS }) ?? 0;
  await using server = await reach(endpoint, wait, DESCRIBE_TIMEOUT);
  console.log(JSON.stringify(server.checkout.worker, null, 2));
  return 0;
}
