import { type Checkout, createClient, type MethodsOf, type TaskStream } from '@taskpool/client';
import { defineInterface } from '@taskpool/protocol';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';

const logs = defineInterface({
  tail: {
    args: z.tuple([z.string(), z.object({ from: z.number() }).optional()]),
    yields: z.object({ n: z.number(), line: z.string() }),
    result: z.object({ lines: z.number() }),
  },
  ticks: { args: z.tuple([]), yields: z.number() },
  size: { args: z.tuple([z.string()]), result: z.number() },
});

type Line = { n: number; line: string };

describe('streams typed by a zod interface', () => {
  const client = createClient({ connect: 'unix:/tmp/x.sock', interface: logs });

  it('infers the item and result types', async () => {
    const co = await client.checkout();
    const stream = co.tail('app.log');
    expectTypeOf(stream).toEqualTypeOf<TaskStream<Line, { lines: number }>>();
    for await (const line of stream) expectTypeOf(line).toEqualTypeOf<Line>();
    expectTypeOf(stream.result).toEqualTypeOf<Promise<{ lines: number }>>();
    // Without a result schema, a stream returns nothing.
    expectTypeOf(co.ticks().result).toEqualTypeOf<Promise<void>>();
    // Options after the arguments (undefined for an optional one left out), or co.stream().
    expectTypeOf(co.tail('app.log', undefined, { highWaterMark: 64 })).toEqualTypeOf<
      TaskStream<Line, { lines: number }>
    >();
    expectTypeOf(
      co.stream('tail', ['app.log', { from: 3 }], { signal: AbortSignal.timeout(1) }),
    ).toEqualTypeOf<TaskStream<Line, { lines: number }>>();
    expectTypeOf(client.stream('ticks')).toEqualTypeOf<TaskStream<number, void>>();
  });

  it('rejects wrong uses', async () => {
    const co = await client.checkout();
    // @ts-expect-error tail takes a path
    void co.tail(42);
    // @ts-expect-error an unknown option
    void co.tail('app.log', undefined, { highWaterMarc: 64 });
    // @ts-expect-error a stream is not a promise
    await co.tail('app.log').then(() => {});
    // @ts-expect-error call() takes no streaming method
    void co.call('tail', ['app.log']);
    // @ts-expect-error stream() takes no plain method
    void co.stream('size', ['x']);
    // @ts-expect-error items are Lines, not strings
    for await (const line of co.tail('x')) expectTypeOf(line).toEqualTypeOf<string>();
  });

  it('types client.map by the method and its single argument', () => {
    expectTypeOf(client.map('size', ['a', 'b'])).toEqualTypeOf<AsyncIterableIterator<number>>();
    // @ts-expect-error size takes strings
    void client.map('size', [1, 2]);
    // @ts-expect-error map takes no streaming method
    void client.map('tail', ['x']);
  });

  it('checks streaming handlers: what they yield and return', () => {
    logs.implement({
      async *tail(path, options, ctx) {
        expectTypeOf(path).toEqualTypeOf<string>();
        expectTypeOf(options).toEqualTypeOf<{ from: number } | undefined>();
        expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
        yield { n: 1, line: path };
        return { lines: 1 };
      },
      async *ticks() {
        yield 1;
      },
      size: (path) => path.length,
    });
    logs.implement({
      // @ts-expect-error yields a string where an object is declared
      async *tail() {
        yield 'line';
        return { lines: 1 };
      },
      async *ticks() {
        yield 1;
      },
      size: (path) => path.length,
    });
    logs.implement({
      // @ts-expect-error returns a string where { lines } is declared
      async *tail() {
        yield { n: 1, line: 'x' };
        return 'done';
      },
      async *ticks() {
        yield 1;
      },
      size: (path) => path.length,
    });
  });
});

describe('streams typed from a record of handlers', () => {
  const handlers = {
    async *count(n: number) {
      yield n;
      return 'end';
    },
    echo: (text: string) => text,
  };

  it('makes an async generator handler a stream method', async () => {
    const client = createClient<MethodsOf<typeof handlers>>({ connect: 'unix:/tmp/x.sock' });
    const co: Checkout<MethodsOf<typeof handlers>> = await client.checkout();
    expectTypeOf(co.count(3)).toEqualTypeOf<TaskStream<number, string>>();
    expectTypeOf(co.echo('x')).toEqualTypeOf<Promise<string>>();
    expectTypeOf(co.stream('count', [3], { highWaterMark: 4 })).toEqualTypeOf<
      TaskStream<number, string>
    >();
    // @ts-expect-error count takes a number
    void co.count('3');
  });
});
