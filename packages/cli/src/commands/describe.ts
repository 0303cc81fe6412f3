/** `taskpool describe <endpoint>`: the worker's hello (server name, protocol, interface schema). */
import { createClient } from '@taskpool/client';
import { UsageError } from '../usage.js';

export async function runDescribe(args: string[]): Promise<number> {
  const [endpoint, ...rest] = args;
  if (endpoint === undefined || rest.length > 0) throw new UsageError('describe takes an endpoint');
  await using client = createClient({
    connect: endpoint,
    minWorkers: 0,
    maxWorkers: 1,
    timeout: 10_000,
  });
  await using co = await client.checkout();
  console.log(JSON.stringify(co.worker, null, 2));
  return 0;
}
