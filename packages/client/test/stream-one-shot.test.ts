/**
 * `client.stream()` (a stream on a checkout of its own) and `client.map()` (one call per
 * input, bounded, in input order), against a real server.
 */
import { CancelledError, createClient, RemoteError } from '@taskpool/client';
import type { ForkedServer } from '@taskpool/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from './helpers/harness.js';
import { feed } from './streams/feed.js';

let server: ForkedServer;

beforeAll(async () => {
  server = await serve('stream-worker.ts', { maxWorkers: 4 });
});

afterAll(async () => {
  await server?.close();
});

describe('client.stream', () => {
  it('takes a checkout on the first next() and releases it when the stream ends', async () => {
    await using client = createClient({ connect: server.endpoint, interface: feed, minWorkers: 0 });
    const stream = client.stream('count', [100, 1], { highWaterMark: 4 });
    expect(client.stats().checkouts).toBe(0);
    const items: number[] = [];
    for await (const item of stream) {
      items.push(item);
      // The worker cannot end a stream of 100 with a window of 4 before most are read.
      if (item < 90) expect(client.stats().checkouts).toBe(1);
    }
    expect(items).toHaveLength(100);
    await expect(stream.result).resolves.toEqual({ total: 100 });
    await waitFor(() => client.stats().checkouts === 0);
  });

  it('releases the checkout after a break, once the worker has stopped the generator', async () => {
    await using client = createClient({
      connect: server.endpoint,
      interface: feed,
      maxWorkers: 1,
      minWorkers: 1,
    });
    for await (const item of client.stream('count', [1_000_000])) if (item === 2) break;
    // The only worker comes back: the next one-shot call gets it, with the stream stopped.
    const state = await client.call('produced');
    expect(state.finallies).toBeGreaterThanOrEqual(1);
    expect(client.stats().checkouts).toBe(0);
  });

  it('releases the checkout once the worker has ended the stream, read to the end or not', async () => {
    await using client = createClient({
      connect: server.endpoint,
      interface: feed,
      maxWorkers: 1,
      minWorkers: 1,
    });
    const stream = client.stream('count', [3]);
    expect((await stream.next()).value).toBe(1);
    await expect(stream.result).resolves.toEqual({ total: 3 });
    // The only worker is free for the next caller, with two items still unread.
    await expect(client.call('echo', ['next'])).resolves.toBe('next');
    expect((await stream.next()).value).toBe(2);
  });

  it('rejects the first next() with what prevented the checkout', async () => {
    await using client = createClient({
      connect: 'unix:/nonexistent/taskpool.sock',
      interface: feed,
    });
    const stream = client.stream('count', [3], { waitForServer: 0 });
    await expect(stream.next()).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(stream.result).rejects.toMatchObject({ code: 'TIMEOUT' });
    // Thrown once; the stream is over after it.
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it('a return() before the first next() takes no checkout at all', async () => {
    await using client = createClient({ connect: server.endpoint, interface: feed });
    const stream = client.stream('count', [3]);
    await stream.return();
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    await expect(stream.result).rejects.toBeInstanceOf(CancelledError);
    expect(client.stats().checkouts).toBe(0);
  });

  it('refuses bad options through the first next()', async () => {
    await using client = createClient({ connect: server.endpoint, interface: feed });
    const stream = client.stream('count', [3], { highWaterMark: 0 });
    await expect(stream.next()).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/highWaterMark/),
    });
  });
});

describe('client.map', () => {
  it('yields 10,000 results in input order, never more than `concurrency` calls at once', async () => {
    // Without metrics: stats() is read twice per input here, and its metrics' percentiles
    // would take most of the test's time.
    await using client = createClient({
      connect: server.endpoint,
      interface: feed,
      maxWorkers: 4,
      metrics: false,
    });
    let read = 0;
    let most = 0;
    /** One-shot calls in flight: waiting for a worker, or holding one. */
    const inFlight = () => client.stats().waiting + client.stats().checkouts;
    function* inputs() {
      for (let value = 0; value < 10_000; value++) {
        read++;
        most = Math.max(most, inFlight());
        yield { value, ms: value % 97 === 0 ? 5 : 0 };
      }
    }
    const results: number[] = [];
    for await (const result of client.map('slowEcho', inputs(), { concurrency: 3 })) {
      most = Math.max(most, inFlight());
      results.push(result);
    }
    expect(read).toBe(10_000);
    expect(results).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBeGreaterThanOrEqual(2);
  });

  it('stops reading input on break and cancels what is in flight', async () => {
    await using client = createClient({ connect: server.endpoint, interface: feed, maxWorkers: 4 });
    let read = 0;
    let closed = false;
    const inputs = {
      *[Symbol.iterator]() {
        try {
          for (let value = 0; ; value++) {
            read++;
            yield value;
          }
        } finally {
          closed = true;
        }
      },
    };
    const results: number[] = [];
    for await (const result of client.map('failOn', inputs, { concurrency: 2 })) {
      results.push(result);
      if (results.length === 5) break;
    }
    expect(results).toEqual([0, 1, 2, 3, 4]);
    expect(closed).toBe(true);
    expect(read).toBeLessThanOrEqual(5 + 2 + 1);
  });

  it('yields the results before a failed call, then throws its error, reading no further', async () => {
    await using client = createClient({ connect: server.endpoint, interface: feed });
    let read = 0;
    function* inputs() {
      for (let value = 0; value < 1_000; value++) {
        read++;
        yield value;
      }
    }
    const results: number[] = [];
    const error = await (async () => {
      for await (const result of client.map('failOn', inputs(), { concurrency: 4 })) {
        results.push(result);
      }
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as Error).message).toBe('unlucky 13');
    expect(results).toEqual(Array.from({ length: 13 }, (_, i) => i));
    expect(read).toBeLessThanOrEqual(13 + 4 + 1);
  });

  it('stops when its signal aborts, with the reason', async () => {
    await using client = createClient({ connect: server.endpoint, interface: feed });
    const controller = new AbortController();
    const results: number[] = [];
    const error = await (async () => {
      for await (const result of client.map(
        'slowEcho',
        (function* () {
          for (let value = 0; ; value++) yield { value, ms: 20 };
        })(),
        { concurrency: 2, signal: controller.signal },
      )) {
        results.push(result);
        if (results.length === 3) controller.abort(new Error('stop now'));
      }
    })().catch((caught: unknown) => caught);
    expect((error as Error).message).toBe('stop now');
    expect(results).toEqual([0, 1, 2]);
  });

  it('refuses what is not iterable', async () => {
    await using client = createClient({ connect: server.endpoint, interface: feed });
    await expect(client.map('echo', 42 as unknown as string[]).next()).rejects.toMatchObject({
      code: 'INVALID_ARGS',
      message: expect.stringMatching(/iterable/),
    });
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
