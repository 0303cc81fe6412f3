/**
 * Streams on a checkout, against a real server: items in order with the generator's
 * return value, credit-based backpressure, cancel from every side reaching the worker's
 * generator, errors after the items before them, and the checkout's rules while a stream
 * is open.
 */
import {
  CancelledError,
  createClient,
  RemoteError,
  StreamActiveError,
  type TaskpoolError,
  ValidationError,
  WorkerLostError,
} from '@taskpool/client';
import type { ForkedServer } from '@taskpool/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from './helpers/harness.js';
import { feed } from './streams/feed.js';

let server: ForkedServer;

beforeAll(async () => {
  server = await serve('stream-worker.ts');
});

afterAll(async () => {
  await server?.close();
});

const clientOf = (
  options: Parameters<typeof createClient>[0] extends infer O ? Partial<O> : never = {},
) => createClient({ connect: server.endpoint, interface: feed, ...options });

describe('a stream on a checkout', () => {
  it('yields every item in order, then the return value as result', async () => {
    await using client = clientOf();
    await using co = await client.checkout();
    const stream = co.count(5);
    const items: number[] = [];
    for await (const item of stream) items.push(item);
    expect(items).toEqual([1, 2, 3, 4, 5]);
    await expect(stream.result).resolves.toEqual({ total: 5 });
    // The checkout goes on as usual after the stream.
    await expect(co.echo('after')).resolves.toBe('after');
  });

  it('takes options after the arguments, and co.stream() does the same', async () => {
    await using client = clientOf();
    await using co = await client.checkout();
    const items: number[] = [];
    for await (const item of co.count(3, 10, { highWaterMark: 1 })) items.push(item);
    expect(items).toEqual([10, 11, 12]);
    const again: number[] = [];
    const stream = co.stream('count', [2, 7], { highWaterMark: 2 });
    for await (const item of stream) again.push(item);
    expect(again).toEqual([7, 8]);
    expect(await stream.result).toEqual({ total: 2 });
  });

  it('stops the generator on break: its finally runs, and it made no more than the window ahead', async () => {
    await using client = clientOf();
    await using co = await client.checkout();
    const before = await co.produced();
    let read = 0;
    for await (const _ of co.count(1_000_000, 1, { highWaterMark: 4 })) {
      if (++read === 3) break;
    }
    // The next call runs on the worker after the stream has stopped.
    const after = await co.produced();
    expect(after.finallies - before.finallies).toBe(1);
    expect(after.items - before.items).toBeGreaterThanOrEqual(3);
    expect(after.items - before.items).toBeLessThanOrEqual(3 + 4);
  });

  it('leaves a slow consumer at most highWaterMark items behind the producer', async () => {
    await using client = clientOf();
    await using co = await client.checkout();
    const before = await co.produced();
    const stream = co.count(100_000, 1, { highWaterMark: 8 });
    let read = 0;
    for await (const _ of stream) {
      read++;
      if (read === 20) break;
      // A consumer slower than the producer: the producer would run far ahead without credit.
      await new Promise((resolve) => setTimeout(resolve, read === 10 ? 200 : 1));
    }
    const after = await co.produced();
    expect(after.items - before.items).toBeLessThanOrEqual(20 + 8);
  });

  it('delivers the items before an error, then rejects with it; the checkout stays usable', async () => {
    await using client = clientOf();
    await using co = await client.checkout();
    const stream = co.failAfter(3);
    const items: number[] = [];
    const error = await (async () => {
      for await (const item of stream) items.push(item);
    })().catch((caught: unknown) => caught);
    expect(items).toEqual([0, 1, 2]);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as Error).message).toBe('failed after 3 items');
    await expect(stream.result).rejects.toBe(error);
    await expect(co.echo('still usable')).resolves.toBe('still usable');
  });

  it('cancel() aborts ctx.signal before returning the generator, and resolves once it stopped', async () => {
    await using client = clientOf();
    await using co = await client.checkout();
    const before = await co.produced();
    const stream = co.waitForAbort();
    expect(await stream.next()).toEqual({ done: false, value: 1 });
    await stream.cancel();
    const after = await co.produced();
    expect(after.aborts - before.aborts).toBe(1);
    expect(after.finallies - before.finallies).toBe(1);
    await expect(stream.result).rejects.toBeInstanceOf(CancelledError);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it('a signal that aborts cancels the stream: next() rejects with its reason', async () => {
    await using client = clientOf();
    await using co = await client.checkout();
    const before = await co.produced();
    const controller = new AbortController();
    const stream = co.waitForAbort({ signal: controller.signal });
    expect((await stream.next()).value).toBe(1);
    const waiting = stream.next();
    controller.abort(new Error('enough'));
    await expect(waiting).rejects.toThrow('enough');
    await expect(stream.result).rejects.toThrow('enough');
    const after = await co.produced();
    expect(after.aborts - before.aborts).toBe(1);
  });

  it('refuses a call while a stream is read, with STREAM_ACTIVE, and allows it after a break', async () => {
    // (A stream whose worker has finished, its last items unread, no longer holds the worker.)
    await using client = clientOf();
    await using co = await client.checkout();
    const stream = co.count(1_000, 1, { highWaterMark: 4 });
    expect((await stream.next()).value).toBe(1);
    const refused = await co.echo('now').catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(StreamActiveError);
    expect((refused as TaskpoolError).fatal).toBe(false);
    // A second stream is refused too, through its first next().
    await expect(co.count(1).next()).rejects.toBeInstanceOf(StreamActiveError);
    // The stream goes on.
    expect((await stream.next()).value).toBe(2);
    await stream.return();
    await expect(co.echo('after')).resolves.toBe('after');
  });

  it('disposing the checkout cancels an open stream', async () => {
    await using client = clientOf({ maxWorkers: 1, minWorkers: 1 });
    let pid: number | undefined;
    {
      await using co = await client.checkout();
      pid = co.pid;
      const stream = co.waitForAbort();
      await stream.next();
    }
    // The same worker comes back, healthy, with the stream stopped.
    await using co = await client.checkout();
    expect(co.pid).toBe(pid);
    const state = await co.produced();
    expect(state.aborts).toBeGreaterThanOrEqual(1);
  });

  it('checks each item against yields: a bad item fails the stream with INVALID_RESULT', async () => {
    await using client = clientOf();
    await using co = await client.checkout();
    const error = await co
      .badItem()
      .next()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as TaskpoolError).code).toBe('INVALID_RESULT');
    expect((error as Error).message).toMatch(/invalid item of badItem/);
    await expect(co.echo('ok')).resolves.toBe('ok');
  });

  it('checks the return value against result', async () => {
    await using client = clientOf();
    await using co = await client.checkout();
    const stream = co.badResult();
    expect((await stream.next()).value).toBe(1);
    await expect(stream.next()).rejects.toMatchObject({ code: 'INVALID_RESULT' });
    await expect(stream.result).rejects.toMatchObject({ code: 'INVALID_RESULT' });
  });

  it('refuses to call a streaming method with call(): STREAM_REQUIRED, nothing ran', async () => {
    await using client = createClient({ connect: server.endpoint });
    await using co = await client.checkout();
    const before = (await co.call('produced')) as { items: number };
    await expect(co.call('count', [3])).rejects.toMatchObject({ code: 'STREAM_REQUIRED' });
    const after = (await co.call('produced')) as { items: number };
    expect(after.items).toBe(before.items);
  });

  it('kills a generator that does not stop within cancelGrace: the checkout is fatal', async () => {
    await using client = clientOf({ cancelGrace: 200 });
    const co = await client.checkout();
    const stream = co.deaf();
    expect((await stream.next()).value).toBe(1);
    // The consumer is let go at once; the worker is given cancelGrace to stop.
    await expect(stream.return()).resolves.toEqual({ done: true, value: undefined });
    const error = await co.echo('after').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WorkerLostError);
    expect((error as Error).message).toMatch(/cancelGrace/);
    await co.release();
  });

  it('times out a next() that waits longer than timeout for an item: TIMEOUT, fatal', async () => {
    await using client = clientOf();
    const co = await client.checkout();
    const stream = co.waitForAbort({ timeout: 300 });
    expect((await stream.next()).value).toBe(1);
    const error = await stream.next().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'TIMEOUT', fatal: true });
    expect((error as Error).message).toMatch(/waiting for the next item of waitForAbort/);
    await expect(co.echo('after')).rejects.toBe(error);
    await co.release();
  });

  it('does not count the time the consumer spends elsewhere against timeout', async () => {
    await using client = clientOf();
    await using co = await client.checkout();
    // A second is plenty for the worker to send an item on a busy machine; the consumer
    // spends longer than that between reads, which must not count.
    const stream = co.count(2, 1, { timeout: 1_000, highWaterMark: 1 });
    const items: number[] = [];
    for await (const item of stream) {
      items.push(item);
      await new Promise((resolve) => setTimeout(resolve, 1_300));
    }
    expect(items).toEqual([1, 2]);
  });

  it('cancels a stream nobody reads after streamIdleTimeout, and says so to the next read', async () => {
    await using client = clientOf();
    await using co = await client.checkout();
    const before = await co.produced();
    const stream = co.waitForAbort({ streamIdleTimeout: 100 });
    expect((await stream.next()).value).toBe(1);
    // Not read again: the stream is cancelled, its result rejects with why.
    const reason = await stream.result.catch((caught: unknown) => caught);
    expect(reason).toBeInstanceOf(CancelledError);
    expect((reason as Error).message).toMatch(
      /nothing read from it for 100 ms \(streamIdleTimeout\)/,
    );
    await expect(stream.next()).rejects.toBe(reason);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    const after = await co.produced();
    expect(after.aborts - before.aborts).toBe(1);
  });

  it('merges what the generator logged into the checkout log, with the last frame', async () => {
    const { DeferredLog } = await import('@taskpool/client');
    await using client = clientOf();
    const log = new DeferredLog();
    await using co = await client.checkout({ log });
    for await (const _ of co.count(2)) {
      // read it all
    }
    const record = log.toJSON();
    expect(record.timers?.some(([name]) => name === 'count')).toBe(true);
  });

  it('takes undefined for an optional argument left out before the options', async () => {
    await using client = clientOf();
    await using co = await client.checkout();
    const items: number[] = [];
    // JSON would carry the undefined as null, which the worker's .optional() refuses.
    for await (const item of co.count(3, undefined, { highWaterMark: 2 })) items.push(item);
    expect(items).toEqual([1, 2, 3]);
  });

  it('runs a call made after leaving a stream whose generator failed meanwhile', async () => {
    await using client = clientOf();
    await using co = await client.checkout();
    for (let round = 0; round < 20; round++) {
      const stream = co.failSoon();
      expect((await stream.next()).value).toBe(0);
      await stream.return();
      // The generator may throw before the cancel reaches it: the call must run anyway.
      await expect(co.echo(`round ${round}`)).resolves.toBe(`round ${round}`);
    }
  });

  it('leaves the checkout alone when a stream that failed to go out has its signal aborted', async () => {
    await using client = clientOf({ cancelGrace: 50, maxFrameBytes: 16 * 1024 });
    await using co = await client.checkout();
    const controller = new AbortController();
    // Too large for a frame: refused before it is sent.
    const hugeArgs = co.stream('echo' as 'count', ['x'.repeat(20_000)] as never, {
      signal: controller.signal,
    });
    await expect(hugeArgs.next()).rejects.toMatchObject({ code: 'INVALID_ARGS' });
    controller.abort();
    // Longer than cancelGrace: a stray cancel would have poisoned the checkout by now.
    await expect(co.slowEcho({ value: 7, ms: 200 })).resolves.toBe(7);
  });

  it('refuses a highWaterMark above MAX_STREAM_CREDIT', async () => {
    await using client = clientOf();
    await using co = await client.checkout();
    await expect(co.count(1, 1, { highWaterMark: 2 ** 20 + 1 }).next()).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/highWaterMark: expected an integer from 1 to 1048576/),
    });
  });
});
