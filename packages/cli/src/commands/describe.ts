/** `taskpool describe <endpoint>`: the worker's hello (server name, protocol, interface schema). */
import { parseArgs } from 'node:util';
import { createClient } from '@taskpool/client';
import { MAX_TIMER_MS } from '@taskpool/protocol';
import { integerOption, UsageError } from '../usage.js';

export async function runDescribe(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseDescribeArgs>;
  try {
    parsed = parseDescribeArgs(args);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const [endpoint, ...rest] = parsed.positionals;
  if (endpoint === undefined || rest.length > 0) throw new UsageError('describe takes an endpoint');
  const wait = integerOption('wait', parsed.values.wait, MAX_TIMER_MS) ?? 0;
  await using client = createClient({ connect: endpoint, minWorkers: 0, maxWorkers: 1 });
  // As `call`: fail at once when the server cannot be reached, unless --wait gives it time.
  await using co = await client.checkout({
    timeout: Math.min(wait + 10_000, MAX_TIMER_MS),
    waitForServer: wait,
  });
  console.log(JSON.stringify(co.worker, null, 2));
  return 0;
}

function parseDescribeArgs(args: string[]) {
  return parseArgs({ args, allowPositionals: true, options: { wait: { type: 'string' } } });
}
