import { PROTOCOL_VERSION } from '@taskpool/protocol';
import { describe, expect, it } from 'vitest';
import { startServer } from './helpers/processes.js';
import { RawClient } from './helpers/raw-client.js';

describe('a worker serving calls', () => {
  it('says hello, then answers calls in order on a dedicated worker', async () => {
    await using server = await startServer('echo-worker.ts', { name: 'echo' });
    await using a = await RawClient.connect(server.endpoint);
    await using b = await RawClient.connect(server.endpoint);
    expect(a.hello).toMatchObject({
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      server: 'echo',
      interface: null,
    });
    expect(a.hello.pid).not.toBe(server.pid);
    expect(b.hello.pid).not.toBe(a.hello.pid);
    expect(await a.value('echo', [1, [2], { three: 3, λ: '𝇚' }])).toEqual([
      1,
      [2],
      { three: 3, λ: '𝇚' },
    ]);
    expect(await a.value('pid')).toBe(a.hello.pid);
    expect(await b.value('pid')).toBe(b.hello.pid);
    expect(await a.value('nothing')).toBeNull();
    expect(await a.value('setupRuns')).toBe(1);
    expect(await a.value('setupRuns')).toBe(1);
  });

  it('answers pipelined calls in the order they were sent', async () => {
    await using server = await startServer('echo-worker.ts');
    await using client = await RawClient.connect(server.endpoint);
    const ids = [
      client.sendCall('sleep', [30]),
      client.sendCall('count', []),
      client.sendCall('count', []),
    ];
    const replies = [await client.next(), await client.next(), await client.next()];
    expect(replies.map((reply) => (reply as { id: number }).id)).toEqual(ids);
    expect(replies.map((reply) => (reply as { value: unknown }).value)).toEqual([30, 1, 2]);
  });

  it('runs one-function interfaces with the method name first', async () => {
    await using server = await startServer('function-worker.ts');
    await using client = await RawClient.connect(server.endpoint);
    expect(await client.value('selectrow', ['SELECT 1', null])).toEqual({
      method: 'selectrow',
      args: ['SELECT 1', null],
      worker: client.hello.worker,
    });
    expect(await client.value(null, [5])).toMatchObject({ method: null, args: [5] });
  });

  it('aborts ctx.signal on cancel, and cancels a queued call without running it', async () => {
    await using server = await startServer('echo-worker.ts');
    await using client = await RawClient.connect(server.endpoint);
    const running = client.sendCall('waitForAbort', []);
    await new Promise((resolve) => setTimeout(resolve, 50)); // running, not just queued
    const queued = client.sendCall('count', []);
    client.send({ type: 'cancel', id: queued });
    client.send({ type: 'cancel', id: running });
    const first = await client.next();
    const second = await client.next();
    const byId = new Map([first, second].map((reply) => [(reply as { id: number }).id, reply]));
    expect(byId.get(queued)).toMatchObject({ type: 'error', error: { code: 'CANCELLED' } });
    expect(byId.get(running)).toMatchObject({ type: 'result', value: 'aborted: CancelledError' });
    expect(await client.value('count')).toBe(1);
  });

  it('aborts ctx.signal when the call deadline passes', async () => {
    await using server = await startServer('echo-worker.ts');
    await using client = await RawClient.connect(server.endpoint);
    const reply = await client.call('waitForAbort', [], { deadline: Date.now() + 100 });
    expect(reply).toMatchObject({ type: 'result', value: 'aborted: TimeoutError' });
  });

  it('sends the call log back, and scope values reach ctx.scope', async () => {
    await using server = await startServer('echo-worker.ts');
    await using client = await RawClient.connect(server.endpoint);
    const reply = await client.call('log', []);
    expect(reply.type).toBe('result');
    expect(reply.log?.logs?.[0]?.slice(1)).toEqual([30, 'hello from', client.hello.pid]);
    expect(reply.log?.timers?.map((timer) => timer[0])).toEqual(['junk']);
    expect(reply.log?.data).toEqual({ k: 'v' });
    expect(reply.log?.end).toBeGreaterThanOrEqual(0);
    expect((await client.call('count', [])).log).toBeUndefined();
    expect(await client.value('scope', [])).toEqual({});
    expect(
      (await client.call('scope', [], { scope: { requestId: 'r1' } })) as { value: unknown },
    ).toMatchObject({
      value: { requestId: 'r1' },
    });
  });

  it('cascades to another handler in the same process', async () => {
    await using server = await startServer('echo-worker.ts');
    await using client = await RawClient.connect(server.endpoint);
    expect(await client.value('cascade', [21])).toBe(42);
  });
});

describe('cancel in the same read as its call', () => {
  it('drops the call before it runs, even behind a handler that blocks', async () => {
    await using server = await startServer('echo-worker.ts');
    await using client = await RawClient.connect(server.endpoint);
    const blocking = client.sendCall('block', [100]);
    const dropped = client.sendCall('count', []);
    client.send({ type: 'cancel', id: dropped });
    const replies = [await client.next(), await client.next()];
    const byId = new Map(replies.map((reply) => [(reply as { id: number }).id, reply]));
    expect(byId.get(blocking)).toMatchObject({ type: 'result', value: 100 });
    expect(byId.get(dropped)).toMatchObject({ type: 'error', error: { code: 'CANCELLED' } });
    expect(await client.value('count')).toBe(1);
  });
});

describe('failure counts', () => {
  it('refuses calls sent before the client saw a failure, and runs those sent after', async () => {
    await using server = await startServer('echo-worker.ts');
    await using client = await RawClient.connect(server.endpoint);
    const failing = client.sendCall('throwError', ['first']);
    const behind = client.sendCall('count', []);
    const first = await client.next();
    const second = await client.next();
    expect(first).toMatchObject({
      id: failing,
      type: 'error',
      failures: 1,
      error: { code: 'REMOTE_ERROR' },
    });
    expect(second).toMatchObject({
      id: behind,
      type: 'error',
      failures: 1,
      error: { code: 'PRECEDING_CALL_FAILED' },
    });
    expect(await client.value('count')).toBe(1); // the refused call never ran
    expect(await client.call('count', [], { failures: 0 })).toMatchObject({
      error: { code: 'PRECEDING_CALL_FAILED' },
    });
  });
});
