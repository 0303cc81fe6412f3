import { type Checkout, type Client, createClient, type MethodsOf } from '@taskpool/client';
import type { HandlerContext } from '@taskpool/protocol';
import { describe, expectTypeOf, it } from 'vitest';
import { hasher } from './hasher.js';

describe('a client typed by a zod interface', () => {
  const client = createClient({ connect: 'unix:/tmp/x.sock', interface: hasher });

  it('gives typed checkout methods', async () => {
    const co = await client.checkout();
    expectTypeOf(co.hash).toEqualTypeOf<(args_0: string) => Promise<string>>();
    expectTypeOf(co.verify).returns.resolves.toEqualTypeOf<boolean>();
    expectTypeOf(co.release).toEqualTypeOf<() => Promise<void>>();
    expectTypeOf(co.pid).toEqualTypeOf<number | undefined>();
  });

  it('rejects wrong arguments and unknown methods', async () => {
    const co = await client.checkout();
    // @ts-expect-error a number is not a string
    void co.hash(1);
    // @ts-expect-error verify takes two arguments
    void co.verify('x');
    // @ts-expect-error no such method
    void co.nope();
  });

  it('types co.call like the methods themselves', async () => {
    const co = await client.checkout();
    expectTypeOf(co.call('hash', ['x'])).toEqualTypeOf<Promise<string>>();
    expectTypeOf(co.call('verify', ['x', 'y'], { timeout: 1_000 })).toEqualTypeOf<
      Promise<boolean>
    >();
    expectTypeOf(co.call('hash', ['x'] as const)).toEqualTypeOf<Promise<string>>();
    // @ts-expect-error wrong argument type
    void co.call('hash', [1]);
    // @ts-expect-error verify takes two arguments
    void co.call('verify', ['x']);
    // @ts-expect-error hash takes an argument
    void co.call('hash');
    // @ts-expect-error unknown method
    void co.call('nope', []);
    // @ts-expect-error a typed interface has no nameless function
    void co.call(null, ['x']);
  });

  it('types one-shot calls', () => {
    expectTypeOf(client.call('hash', ['x'])).resolves.toEqualTypeOf<string>();
    // @ts-expect-error wrong argument type
    void client.call('hash', [1]);
    // @ts-expect-error unknown method
    void client.call('nope', []);
  });
});

describe('a client typed by its handlers', () => {
  const handlers = {
    add: (a: number, b: number) => a + b,
    slow: async (ms: number, _ctx: HandlerContext) => ms,
    pid: () => process.pid,
  };
  const client: Client<MethodsOf<typeof handlers>> = createClient<MethodsOf<typeof handlers>>({
    connect: 'unix:/tmp/x.sock',
  });

  it('drops the context argument and promisifies results', async () => {
    const co: Checkout<MethodsOf<typeof handlers>> = await client.checkout();
    expectTypeOf(co.add).toEqualTypeOf<(a: number, b: number) => Promise<number>>();
    expectTypeOf(co.slow).toEqualTypeOf<(ms: number) => Promise<number>>();
    // @ts-expect-error a string is not a number
    void co.add('1', 2);
    expectTypeOf(co.call('add', [1, 2])).toEqualTypeOf<Promise<number>>();
    expectTypeOf(co.call('pid')).toEqualTypeOf<Promise<number>>();
    expectTypeOf(client.call('pid')).toEqualTypeOf<Promise<number>>();
    // @ts-expect-error a string is not a number
    void co.call('add', ['1', 2]);
    // @ts-expect-error no such handler
    void co.call('sub', [1, 2]);
  });
});

describe('an untyped client', () => {
  const client = createClient({ connect: 'unix:/tmp/x.sock' });

  it('has methods of any name returning Promise<unknown>', async () => {
    const co = await client.checkout();
    expectTypeOf(co.call('anything', [1, 'two'])).toEqualTypeOf<Promise<unknown>>();
    expectTypeOf(co.invoke(1, 2)).toEqualTypeOf<Promise<unknown>>();
    expectTypeOf(client.call('anything', [1])).toEqualTypeOf<Promise<unknown>>();
    expectTypeOf(co.call('anything')).toEqualTypeOf<Promise<unknown>>();
    expectTypeOf(co.call(null, ['first arg'])).toEqualTypeOf<Promise<unknown>>();
    const args: readonly unknown[] = [1];
    expectTypeOf(co.call('anything', args, { timeout: 1_000 })).toEqualTypeOf<Promise<unknown>>();
  });
});
