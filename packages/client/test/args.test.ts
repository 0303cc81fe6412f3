// args.t: argument round trips (astral Unicode included), method calls, and errors in
// their scope, FIFO through one worker.
import { errorScope, RemoteError } from '@taskpool/client';
import { expect, it } from 'vitest';
import { serve, untypedClientOf } from './helpers/harness.js';

it('carries arguments and errors through one worker, first come first served', async () => {
  await using server = await serve('args-worker.ts');
  await using client = untypedClientOf(server, { maxWorkers: 1, name: 'MY CLIENT NAME' });
  const order: number[] = [];

  const first = client.withCheckout(async (co) => {
    const result = (await co.invoke(1, [2], { three: 3, λ: '𝇚' })) as unknown[];
    order.push(1);
    return result;
  });
  const second = client.withCheckout(async (co) => {
    order.push(2);
    return co.call('some_method', [1]);
  });
  const third = client.withCheckout(async (co) => {
    order.push(3);
    return co.call('error', ['die please']).catch((error: unknown) => error);
  });
  const caught: { error: unknown; trace: string }[] = [];
  const fourth = errorScope(
    () =>
      client.withCheckout(async (co) => {
        order.push(4);
        void co.call('error', ['again, plz die']); // nobody handles it: the scope's catch does
        await new Promise((resolve) => setTimeout(resolve, 200));
      }),
    { name: 'outer', catch: (error, trace) => caught.push({ error, trace }) },
  );

  const all = (await first) as unknown[];
  expect(all).toHaveLength(3);
  expect(all[0]).toBe(1);
  expect(all[1]).toEqual([2]);
  expect(all[2]).toEqual({ three: 3, λ: '𝇚' });
  expect((all[2] as { λ: string }).λ.codePointAt(0)).toBe(0x1d1da);
  expect(await second).toEqual(['some_method', 1]);
  const error = await third;
  expect(error).toBeInstanceOf(RemoteError);
  expect((error as Error).message).toMatch(/ERR: die please/);
  expect((error as Error).message).not.toMatch(/setup exception/);
  await fourth;
  expect(caught).toHaveLength(1);
  expect(caught[0]?.error).toBeInstanceOf(Error);
  expect(String(caught[0]?.error)).toMatch(/ERR: again, plz die/);
  expect(caught[0]?.trace).toContain('MY CLIENT NAME -> error');
  expect(caught[0]?.trace).toContain('outer');
  expect(order).toEqual([1, 2, 3, 4]);
});
