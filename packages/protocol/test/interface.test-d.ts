import type { CascadeCall, ClientMethods, HandlerContext, Handlers } from '@taskpool/protocol';
import { defineInterface } from '@taskpool/protocol';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';

const hasher = defineInterface({
  hash: { args: z.tuple([z.string()]), result: z.string() },
  verify: { args: z.tuple([z.string(), z.string()]), result: z.boolean() },
  count: { args: z.tuple([z.string().transform((s) => s.length)]), result: z.number() },
});
type Schema = typeof hasher.schema;

describe('defineInterface types', () => {
  it('gives the client signatures', () => {
    type Client = ClientMethods<Schema>;
    expectTypeOf<Client['hash']>().toEqualTypeOf<(args_0: string) => Promise<string>>();
    expectTypeOf<Client['verify']>().parameters.toEqualTypeOf<[string, string]>();
    expectTypeOf<Client['verify']>().returns.toEqualTypeOf<Promise<boolean>>();
    // The client passes a transform's input.
    expectTypeOf<Client['count']>().parameters.toEqualTypeOf<[string]>();
  });

  it('gives the handler signatures, with the context last', () => {
    type H = Handlers<Schema>;
    expectTypeOf<Parameters<H['hash']>[0]>().toEqualTypeOf<string>();
    expectTypeOf<Parameters<H['hash']>[1]>().toEqualTypeOf<HandlerContext<CascadeCall<Schema>>>();
    // The handler receives a transform's output.
    expectTypeOf<Parameters<H['count']>[0]>().toEqualTypeOf<number>();
    expectTypeOf<ReturnType<H['verify']>>().toEqualTypeOf<boolean | Promise<boolean>>();
  });

  it('rejects wrong handlers', () => {
    hasher.implement({
      // @ts-expect-error hash must return a string
      hash: (p: string) => p.length,
      verify: () => true,
      count: (n) => n,
    });
    hasher.implement({
      hash: (p) => p,
      // @ts-expect-error verify's first argument is a string
      verify: (a: number) => a > 1,
      count: (n) => n,
    });
    hasher.implement({
      hash: async (p) => p,
      verify: async (crypted, plain, ctx) => {
        expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
        const again = await ctx.call('hash', plain);
        expectTypeOf(again).toEqualTypeOf<string>();
        // @ts-expect-error cascade checks argument types too
        await ctx.call('hash', 1);
        return crypted === again;
      },
      count: (n) => n,
    });
  });

  it('rejects wrong client calls', () => {
    const client = {} as ClientMethods<Schema>;
    // @ts-expect-error wrong argument type
    void client.hash(1);
    // @ts-expect-error missing argument
    void client.verify('a');
    // @ts-expect-error unknown method
    void client.nope();
  });
});
