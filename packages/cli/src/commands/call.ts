/** `taskpool call <endpoint> <method> [json-arg ...]`: one call, its result printed as JSON. */
import { parseArgs } from 'node:util';
import { createClient } from '@taskpool/client';
import { MAX_TIMER_MS } from '@taskpool/protocol';
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
  // A deadline of 0 would fail in createClient as INVALID_OPTION: a usage error here.
  const timeout =
    integerOption('timeout', parsed.values.timeout, { min: 1, max: MAX_TIMER_MS }) ?? 30_000;
  const wait = integerOption('wait', parsed.values.wait, { max: MAX_TIMER_MS }) ?? 0;
  await using client = createClient({
    connect: endpoint,
    minWorkers: 0,
    maxWorkers: 1,
    timeout,
    // The server's hello may wait as long as the call: a busy server's own refusal
    // (SERVER_BUSY, after its connectionTimeout) then comes before the client gives up.
    connectTimeout: timeout,
  });
  // A command has no reason to wait for a server that may come later: it says at once why
  // it cannot reach one, unless --wait gives it time. A server whose workers are all busy
  // holds the connection until one is free or its connectionTimeout refuses it
  // (SERVER_BUSY, said as such); --timeout bounds that wait too.
  await using co = await client.checkout({
    timeout: Math.min(wait + timeout, MAX_TIMER_MS),
    waitForServer: wait,
  });
  const result = await co.call(method, rest.map(parseJsonArgument), { timeout });
  console.log(JSON.stringify(result, null, 2));
  return 0;
}

function parseCallArgs(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: { timeout: { type: 'string' }, wait: { type: 'string' } },
  });
}
