/**
 * Streams without a zod interface: a plain record of handlers, a client typed by
 * `MethodsOf` or not at all, and the protocol version a worker announces.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type MethodsOf, ProtocolError } from '@taskpool/client';
import { encodeFrame } from '@taskpool/protocol/internal';
import type { ForkedServer } from '@taskpool/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type handlers from './fixtures/plain-stream-worker.js';
import { serve } from './helpers/harness.js';

let server: ForkedServer;

beforeAll(async () => {
  server = await serve('plain-stream-worker.ts');
});

afterAll(async () => {
  await server?.close();
});

type Plain = MethodsOf<(typeof handlers)['interface']>;

describe('streams from a plain record of handlers', () => {
  it('reads an async generator handler as a stream: the worker says which methods stream', async () => {
    await using client = createClient<Plain>({ connect: server.endpoint });
    await using co = await client.checkout();
    expect(co.worker?.streams).toEqual(['count']);
    const stream = co.count(3);
    const items: number[] = [];
    for await (const item of stream) items.push(item);
    expect(items).toEqual([1, 2, 3]);
    await expect(stream.result).resolves.toEqual({ total: 3 });
  });

  it('reads a handler that returns an async iterable with co.stream(); call() refuses it', async () => {
    await using client = createClient({ connect: server.endpoint });
    await using co = await client.checkout();
    const letters: unknown[] = [];
    for await (const letter of co.stream('letters', ['abc'], { highWaterMark: 1 })) {
      letters.push(letter);
    }
    expect(letters).toEqual(['a', 'b', 'c']);
    await expect(co.call('letters', ['abc'])).rejects.toMatchObject({ code: 'STREAM_REQUIRED' });
    await expect(co.call('echo', ['still here'])).resolves.toBe('still here');
  });

  it('reads a plain method with stream(): no items, its result as result', async () => {
    await using client = createClient({ connect: server.endpoint });
    await using co = await client.checkout();
    const stream = co.stream('echo', ['just this']);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    await expect(stream.result).resolves.toBe('just this');
  });
});

describe('the protocol version a worker announces', () => {
  /** A one-connection server that sends `hello` with `protocol`, then answers calls with their args. */
  async function fakeWorker(protocol: number): Promise<{ server: Server; path: string }> {
    const path = join(tmpdir(), `taskpool-fake-${process.pid}-${protocol}-${Date.now()}.sock`);
    const fake = createServer((socket) => {
      socket.write(
        encodeFrame({ type: 'hello', protocol, pid: 1, server: 'old', worker: 1, interface: null }),
      );
      let buffered = Buffer.alloc(0);
      socket.on('data', (chunk) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 4 && buffered.length >= 4 + buffered.readUInt32BE(0)) {
          const size = buffered.readUInt32BE(0);
          const message = JSON.parse(buffered.subarray(4, 4 + size).toString());
          buffered = buffered.subarray(4 + size);
          if (message.type === 'call') {
            socket.write(encodeFrame({ type: 'result', id: message.id, value: message.args }));
          }
        }
      });
    });
    fake.listen(path);
    await once(fake, 'listening');
    return { server: fake, path };
  }

  it('talks to a version-1 worker, but a stream on it is refused, fatally, saying why', async () => {
    const { server: fake, path } = await fakeWorker(1);
    try {
      await using client = createClient({ connect: `unix:${path}`, minWorkers: 0 });
      await using co = await client.checkout();
      await expect(co.call('anything', [1, 2])).resolves.toEqual([1, 2]);
      const error = await co
        .stream('anything')
        .next()
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toMatchObject({ code: 'INCOMPATIBLE_PROTOCOL' });
      expect((error as Error).message).toMatch(/protocol 1, which has no streams/);
      // Fatal, as INCOMPATIBLE_PROTOCOL is: the checkout is poisoned with it.
      await expect(co.call('again', [3])).rejects.toBe(error);
    } finally {
      fake.close();
    }
  });

  it('refuses a worker from the future at once, with INCOMPATIBLE_PROTOCOL, not a wait', async () => {
    const { server: fake, path } = await fakeWorker(9);
    try {
      // The default deadline is 30 s: the refusal must not wait for it.
      await using client = createClient({ connect: `unix:${path}`, minWorkers: 0 });
      const error = await client.checkout().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toMatchObject({ code: 'INCOMPATIBLE_PROTOCOL' });
      expect((error as Error).message).toMatch(/speaks protocol 9, this client 1 to 4/);
    } finally {
      fake.close();
    }
  });
});
