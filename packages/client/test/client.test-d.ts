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
  });
});

describe('an untyped client', () => {
  const client = createClient({ connect: 'unix:/tmp/x.sock' });

  it('has methods of any name returning Promise<unknown>', async () => {
    const co = await client.checkout();
    expectTypeOf(co.call('anything', [1, 'two'])).toEqualTypeOf<Promise<unknown>>();
    expectTypeOf(co.invoke(1, 2)).toEqualTypeOf<Promise<unknown>>();
    expectTypeOf(client.call('anything', [1])).toEqualTypeOf<Promise<unknown>>();
  });
});
