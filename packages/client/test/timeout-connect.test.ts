import { createClient, TimeoutError } from '@taskpool/client';
import { expect, it } from 'vitest';
import { socketPath } from '../../../test/helpers/sockets.js';
import { pause, serve } from './helpers/harness.js';

it('times out waiting for a server that does not exist', async () => {
  await using client = createClient({ connect: 'unix:/nonexistent/taskpool.sock' });
  const error = await client.checkout({ timeout: 200 }).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(TimeoutError);
  expect((error as Error).message).toMatch(
    /^timed out after 0\.2 seconds waiting for a worker: could not connect to unix:\/nonexistent\/taskpool\.sock \(ENOENT: no such file or directory; \d+ attempts?\)$/,
  );
});

it('succeeds when the server comes up before the deadline', async () => {
  const path = socketPath(`late-${Date.now()}.sock`);
  await using client = createClient({
    connect: `unix:${path}`,
    reconnect: { first: 50, every: 100 },
  });
  const checkout = client.checkout({ timeout: 10_000 });
  await pause(300);
  await using server = await serve('scenario-worker.ts', { listen: `unix:${path}` });
  await using co = await checkout;
  expect(typeof (await co.call('get_pid'))).toBe('number');
  expect(client.stats().connectFailures).toBeGreaterThan(0);
  void server;
});
