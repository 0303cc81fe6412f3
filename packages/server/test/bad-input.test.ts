import { encodeFrame } from '@taskpool/protocol/internal';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { startServer } from './helpers/processes.js';
import { RawClient } from './helpers/raw-client.js';

function frameOf(text: string): Buffer {
  const body = Buffer.from(text);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

describe('bad input to a worker', () => {
  it.each([
    ['an unknown name', 'nope'],
    ['constructor', 'constructor'],
    ['__proto__', '__proto__'],
    ['toString', 'toString'],
    ['hasOwnProperty', 'hasOwnProperty'],
    ['then', 'then'],
  ])('answers a call to %s with UNKNOWN_METHOD and keeps serving', async (_, method) => {
    await using server = await startServer('echo-worker.ts');
    await using client = await RawClient.connect(server.endpoint);
    expect(await client.call(method, [])).toMatchObject({
      type: 'error',
      error: { code: 'UNKNOWN_METHOD' },
    });
    expect(await client.value('echo', [1])).toEqual([1]);
  });

  it('answers a nameless call on a record interface with UNKNOWN_METHOD', async () => {
    await using server = await startServer('echo-worker.ts');
    await using client = await RawClient.connect(server.endpoint);
    expect(await client.call(null, ['first arg'])).toMatchObject({
      error: { code: 'UNKNOWN_METHOD' },
    });
  });

  it('turns thrown errors and non-errors into REMOTE_ERROR replies', async () => {
    await using server = await startServer('echo-worker.ts');
    await using client = await RawClient.connect(server.endpoint);
    expect(await client.call('throwError', ['ERR: die please'])).toMatchObject({
      error: { code: 'REMOTE_ERROR', name: 'TypeError', message: 'ERR: die please' },
    });
    expect(await client.call('throwString')).toMatchObject({
      error: { code: 'REMOTE_ERROR', message: 'a plain string' },
    });
    expect(await client.call('throwUndefined')).toMatchObject({
      error: { code: 'REMOTE_ERROR', message: 'undefined was thrown' },
    });
    expect(await client.call('rejectLater')).toMatchObject({
      error: { name: 'RangeError', message: 'later' },
    });
    expect(await client.value('echo', ['still here'])).toEqual(['still here']);
  });

  it.each([
    ['NaN', 'nan', /NaN/],
    ['Infinity', 'infinity', /Infinity/],
    ['a BigInt', 'bigint', /bigint/],
    ['a function', 'fn', /function/],
    ['a class instance', 'point', /instance of Point/],
    ['a cycle', 'cycle', /cycle/],
  ])(
    'answers a result holding %s with INVALID_RESULT, and the connection stays healthy',
    async (_, method, reason) => {
      await using server = await startServer('echo-worker.ts');
      await using client = await RawClient.connect(server.endpoint);
      const reply = await client.call(method);
      expect(reply).toMatchObject({ type: 'error', error: { code: 'INVALID_RESULT' } });
      expect(reply.type === 'error' && reply.error.message).toMatch(reason);
      expect(await client.value('echo', [2])).toEqual([2]);
    },
  );

  it('validates arguments and results against a zod interface, and describes it in hello', async () => {
    await using server = await startServer('hasher-worker.ts');
    await using client = await RawClient.connect(server.endpoint);
    expect(Object.keys((client.hello.interface as { methods: object }).methods)).toEqual([
      'hash',
      'verify',
      'broken',
    ]);
    expect(await client.value('hash', ['secret'])).toBe('hashed:secret');
    expect(await client.call('hash', [5])).toMatchObject({ error: { code: 'INVALID_ARGS' } });
    expect(await client.call('verify', ['only one'])).toMatchObject({
      error: { code: 'INVALID_ARGS' },
    });
    expect(await client.call('broken', [])).toMatchObject({ error: { code: 'INVALID_RESULT' } });
    expect(await client.value('verify', ['hashed:x', 'x'])).toBe(true);
  });

  it('refuses a result larger than maxFrameBytes with INVALID_RESULT', async () => {
    await using server = await startServer('echo-worker.ts', { maxFrameBytes: 1024 });
    await using client = await RawClient.connect(server.endpoint);
    expect(await client.call('big', [2048])).toMatchObject({ error: { code: 'INVALID_RESULT' } });
    expect(await client.value('big', [10])).toBe('x'.repeat(10));
  });

  it.each([
    ['garbage bytes', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    ['a 4 GiB length prefix', Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3])],
    ['a frame that is not JSON', frameOf('{"type":')],
    ['an unknown message type', frameOf('{"type":"sk"}')],
    ['a message only workers send', frameOf('{"type":"result","id":1,"value":1}')],
    ['a call with a string id', frameOf('{"type":"call","id":"1","method":"echo","args":[]}')],
  ])(
    'closes the connection on %s with PROTOCOL_ERROR, and keeps serving others',
    async (_, bytes) => {
      await using server = await startServer('echo-worker.ts');
      await using bad = await RawClient.connect(server.endpoint);
      await using good = await RawClient.connect(server.endpoint);
      bad.socket.write(bytes);
      expect(await bad.next()).toMatchObject({
        type: 'error',
        id: 0,
        error: { code: 'PROTOCOL_ERROR' },
      });
      await bad.closed;
      expect(await good.value('echo', ['fine'])).toEqual(['fine']);
    },
  );

  it('survives random byte streams, then serves a valid call', async () => {
    await using server = await startServer('echo-worker.ts', { spares: 2 });
    // Each run costs a worker process (about 0.2 s here), so the default suite tries 100
    // streams, seeded afresh every run; `npm run test:long` tries 1,000.
    const runs = Number(process.env.TASKPOOL_FUZZ_RUNS ?? 100);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 64 }), async (bytes) => {
        const client = await RawClient.connect(server.endpoint);
        client.socket.write(bytes);
        // Either the worker rejects it and closes, or it waits for the rest of a frame.
        await Promise.race([client.closed, new Promise((resolve) => setTimeout(resolve, 5))]);
        await client.close();
      }),
      { numRuns: runs },
    );
    await using client = await RawClient.connect(server.endpoint);
    expect(await client.value('echo', ['after fuzzing'])).toEqual(['after fuzzing']);
    client.socket.write(encodeFrame({ type: 'call', id: 99, method: 'echo', args: [99] }));
    expect(await client.next()).toMatchObject({ type: 'result', id: 99, value: [99] });
  }, 300_000);
});
