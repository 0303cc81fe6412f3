// A worker answered queued synchronous calls by recursion: about 1,350 calls pipelined
// behind one async call overflowed its stack, and every call after failed WORKER_LOST.
import { expect, it } from 'vitest';
import { startServer } from '../helpers/processes.js';
import { RawClient } from '../helpers/raw-client.js';

async function pipelineBehindSleep(client: RawClient, count: number): Promise<void> {
  const first = client.sendCall('sleep', [100]);
  const firstId = first + 1;
  for (let i = 0; i < count; i++) client.sendCall('double', [i]);
  expect(await client.next()).toMatchObject({ type: 'result', id: first, value: 100 });
  for (let i = 0; i < count; i++) {
    const reply = await client.next();
    if (reply.type !== 'result' || reply.id !== firstId + i || reply.value !== i * 2) {
      throw new Error(`call ${i}: expected result ${i * 2}, received ${JSON.stringify(reply)}`);
    }
  }
}

it('answers 100,000 calls pipelined on one connection behind an async call', async () => {
  await using server = await startServer('echo-worker.ts');
  await using client = await RawClient.connect(server.endpoint);
  await pipelineBehindSleep(client, 100_000);
  expect(await client.value('count')).toBe(1);
}, 120_000);

it('holds at most maxQueuedCalls unstarted calls, and still answers every call pipelined past it', async () => {
  await using server = await startServer('echo-worker.ts', { maxQueuedCalls: 4 });
  await using client = await RawClient.connect(server.endpoint);
  // Cancels of calls that never came cost nothing and break nothing.
  for (let id = 1_000_000; id < 1_010_000; id++) client.send({ type: 'cancel', id });
  await pipelineBehindSleep(client, 5_000);
  expect(await client.value('count')).toBe(1);
});
