// A worker went from a handler that blocked its event loop straight to the next queued
// call, without reading the cancel for that call already waiting in its socket.
import { expect, it } from 'vitest';
import { cpuTimeMs, eventually, startServer } from '../helpers/processes.js';
import { RawClient } from '../helpers/raw-client.js';

it('never runs a queued call whose cancel came while the handler before it blocked', async () => {
  await using server = await startServer('echo-worker.ts');
  await using client = await RawClient.connect(server.endpoint);
  const pid = client.hello.pid;
  const before = cpuTimeMs(pid);
  const blocking = client.sendCall('block', [1_500]);
  const queued = client.sendCall('count', []);
  // The worker has used CPU in the blocking handler: both calls were read before the cancel.
  await eventually(() => cpuTimeMs(pid) - before >= 200, 10_000, 'the worker is blocked');
  client.send({ type: 'cancel', id: queued });
  expect(await client.next()).toMatchObject({ type: 'result', id: blocking, value: 1_500 });
  expect(await client.next()).toMatchObject({
    type: 'error',
    id: queued,
    error: { code: 'CANCELLED' },
  });
  expect(await client.value('count')).toBe(1); // the cancelled call never ran
});
