// The supervisor's watchdog used the wall clock and killed every worker when the
// supervisor itself had been paused; a hung worker outlived a crashed supervisor at 100%
// CPU; a slow async setup was killed as hung while the worker started.
import { expect, it } from 'vitest';
import { cpuTimeMs, eventually, isAlive, startServer } from '../helpers/processes.js';
import { RawClient } from '../helpers/raw-client.js';

it('does not kill busy healthy workers after the supervisor was paused past hungWorkerTimeout', async () => {
  // A pause longer than the timeout, and shorter than three watchdog periods plus a second.
  await using server = await startServer('echo-worker.ts', { hungWorkerTimeout: 1_000 });
  await using client = await RawClient.connect(server.endpoint);
  const id = client.sendCall('sleep', [3_000]);
  process.kill(server.pid, 'SIGSTOP');
  try {
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // the pause being simulated
  } finally {
    process.kill(server.pid, 'SIGCONT');
  }
  expect(await client.next()).toMatchObject({ type: 'result', id, value: 3_000 });
  expect(isAlive(client.hello.pid)).toBe(true);
});

it('a worker kills itself when its handler blocks past hungWorkerTimeout, with no supervisor', async () => {
  const server = await startServer('echo-worker.ts', { hungWorkerTimeout: 1_000 });
  const client = await RawClient.connect(server.endpoint);
  const pid = client.hello.pid;
  const before = cpuTimeMs(pid);
  client.sendCall('block', [120_000]);
  await eventually(() => cpuTimeMs(pid) - before >= 100, 10_000, 'the worker is blocked');
  process.kill(server.pid, 'SIGKILL');
  await eventually(() => !isAlive(pid), 20_000, 'the hung worker exits');
  await client.close();
  await server.close();
});

it('lets an async setup take longer than hungWorkerTimeout', async () => {
  await using server = await startServer('slow-setup-worker.ts', {
    hungWorkerTimeout: 300,
    env: { ...process.env, TASKPOOL_TEST_SETUP_MS: '1500' },
  });
  await using client = await RawClient.connect(server.endpoint);
  expect(await client.value('setups')).toBe(1);
});

it('lets a setup that blocks the event loop take longer than hungWorkerTimeout (setupTimeout bounds it)', async () => {
  await using server = await startServer('slow-setup-worker.ts', {
    hungWorkerTimeout: 300,
    env: { ...process.env, TASKPOOL_TEST_SETUP_MS: '1500', TASKPOOL_TEST_SETUP_BLOCKS: '1' },
  });
  await using client = await RawClient.connect(server.endpoint);
  expect(await client.value('setups')).toBe(1);
});

it('fails setup that takes longer than setupTimeout with SETUP_FAILED', async () => {
  await using server = await startServer('slow-setup-worker.ts', {
    setupTimeout: 200,
    env: { ...process.env, TASKPOOL_TEST_SETUP_MS: '60000' },
  });
  await using client = await RawClient.connect(server.endpoint);
  expect(await client.call('setups')).toMatchObject({
    type: 'error',
    error: {
      code: 'SETUP_FAILED',
      message: 'setup exception: setup did not finish within setupTimeout (200 ms)',
    },
  });
});
