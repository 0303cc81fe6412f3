/** `taskpool describe <endpoint>`: the worker's hello (server name, protocol, interface schema). */
import { parseArgs } from 'node:util';
import { createClient } from '@taskpool/client';
import { MAX_TIMER_MS } from '@taskpool/protocol';
import { integerOption, UsageError } from '../usage.js';

/** How long describe waits for a server that was reached to say hello, in ms. */
const DESCRIBE_TIMEOUT = 30_000;

export async function runDescribe(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseDescribeArgs>;
  try {
    parsed = parseDescribeArgs(args);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const [endpoint, ...rest] = parsed.positionals;
  if (endpoint === undefined || rest.length > 0) throw new UsageError('describe takes an endpoint');
  const wait = integerOption('wait', parsed.values.wait, { max: MAX_TIMER_MS }) ?? 0;
  // As `call` with its default --timeout: a busy server's own refusal (SERVER_BUSY, after
  // its connectionTimeout) comes before the client gives up on its hello.
  await using client = createClient({
    connect: endpoint,
    minWorkers: 0,
    maxWorkers: 1,
    connectTimeout: DESCRIBE_TIMEOUT,
  });
  // As `call`: fail at once when the server cannot be reached, unless --wait gives it time.
  await using co = await client.checkout({
    timeout: Math.min(wait + DESCRIBE_TIMEOUT, MAX_TIMER_MS),
    waitForServer: wait,
  });
  console.log(JSON.stringify(co.worker, null, 2));
  return 0;
}

function parseDescribeArgs(args: string[]) {
  return parseArgs({ args, allowPositionals: true, options: { wait: { type: 'string' } } });
}
