// A call past its deadline whose handler honours ctx.signal was answered with the
// handler's AbortError (REMOTE_ERROR) instead of TIMEOUT; a queued call whose deadline
// had passed still ran; a deadline 2^31 ms or more away aborted the signal after 1 ms.
import { expect, it } from 'vitest';
import { startServer } from '../helpers/processes.js';
import { RawClient } from '../helpers/raw-client.js';

it('answers TIMEOUT when the deadline passes while a handler that honours its signal runs', async () => {
  await using server = await startServer('echo-worker.ts');
  await using client = await RawClient.connect(server.endpoint);
  for (let i = 0; i < 10; i++) {
    const reply = await client.call('failOnAbort', [], { deadline: Date.now() + 30 });
    expect(reply).toMatchObject({ type: 'error', error: { code: 'TIMEOUT' } });
  }
});

it('answers TIMEOUT, without running it, a queued call whose deadline passed', async () => {
  await using server = await startServer('echo-worker.ts');
  await using client = await RawClient.connect(server.endpoint);
  const blocking = client.sendCall('block', [300]);
  const late = client.sendCall('count', [], { deadline: Date.now() + 50 });
  expect(await client.next()).toMatchObject({ id: blocking, type: 'result' });
  expect(await client.next()).toMatchObject({
    id: late,
    type: 'error',
    error: { code: 'TIMEOUT', message: 'the call deadline passed before it ran' },
  });
  expect(await client.value('count')).toBe(1);
});

it('keeps the signal of a call whose deadline is 2^31 ms or more away from aborting', async () => {
  await using server = await startServer('echo-worker.ts');
  await using client = await RawClient.connect(server.endpoint);
  const reply = await client.call('abortedAfter', [50], {
    deadline: Date.now() + 2 ** 31 + 60_000,
  });
  expect(reply).toMatchObject({ type: 'result', value: false });
});
