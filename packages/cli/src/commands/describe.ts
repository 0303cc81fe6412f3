/**
 * `taskpool describe <endpoint>`: the worker's hello (server name, protocol, interface
 * schema). A server that withholds its interface from this client (not authenticated, not
 * on its Unix socket) fails the command, saying so: its hello has no interface to show.
 */
import { reach, timeoutOption, waitOption } from '../reach.js';
import { CONNECT_FLAGS, CONNECT_OPTIONS, connectSecurity, withheldInterface } from '../security.js';
import { parseCommand, UsageError } from '../usage.js';

export async function runDescribe(args: string[]): Promise<number> {
  const { positionals, values } = parseCommand(args, ['wait', ...CONNECT_OPTIONS], CONNECT_FLAGS);
  const [endpoint, ...rest] = positionals;
  if (endpoint === undefined || rest.length > 0) throw new UsageError('describe takes an endpoint');
  const wait = waitOption(values.wait);
  const security = connectSecurity(values);
  // The default timeout: how long a server that was reached may take to hand over a worker.
  await using server = await reach(endpoint, wait, timeoutOption(undefined), security);
  const withheld = withheldInterface(endpoint, server.checkout.worker);
  if (withheld !== undefined) {
    console.error(`taskpool: ${withheld}`);
    return 1;
  }
  console.log(JSON.stringify(server.checkout.worker, null, 2));
  return 0;
}
