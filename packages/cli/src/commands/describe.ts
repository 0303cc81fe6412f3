/** `taskpool describe <endpoint>`: the worker's hello (server name, protocol, interface schema). */
import { reach, timeoutOption, waitOption } from '../reach.js';
import { parseCommand, UsageError } from '../usage.js';

export async function runDescribe(args: string[]): Promise<number> {
  const { positionals, values } = parseCommand(args, ['wait']);
  const [endpoint, ...rest] = positionals;
  if (endpoint === undefined || rest.length > 0) throw new UsageError('describe takes an endpoint');
  // The default timeout: how long a server that was reached may take to hand over a worker.
  await using server = await reach(endpoint, waitOption(values.wait), timeoutOption(undefined));
  console.log(JSON.stringify(server.checkout.worker, null, 2));
  return 0;
}
