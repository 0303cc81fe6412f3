// A worker killed while its checkout held it with no call in flight: the checkout must
// learn of it when the connection closes. It used to write the next call into the dead
// socket, so that call waited its whole timeout (TIMEOUT), or for ever with `timeout:
// null`, and release() and client.destroy() never settled either.
import { expect, it } from 'vitest';
import { clientOf, eventually, serve, warm } from '../helpers/harness.js';

/** What `promise` came to, or 'pending' if it did not settle within `ms` (a hang detector). */
async function outcome(promise: Promise<unknown>, ms = 10_000): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise((resolve) => {
    timer = setTimeout(() => resolve('pending'), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ value }),
        (error: unknown) => error,
      ),
      hung,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

for (const timeout of [null, 60_000]) {
  it(`the next call rejects at once with WORKER_LOST (timeout ${timeout})`, async () => {
    await using server = await serve('scenario-worker.ts');
    await using client = await warm(clientOf(server, { minWorkers: 1, maxWorkers: 1 }));
    const co = await client.checkout({ timeout });
    const pid = (await co.get_pid()) as number;
    process.kill(pid, 'SIGKILL');
    await eventually(() => client.stats().lost === 1, 10_000, 'the loss noticed');
    const error = await outcome(co.get_pid());
    expect(error).toMatchObject({ code: 'WORKER_LOST', fatal: true });
    // The stored fatal error: every later call gets the same one.
    expect(await outcome(co.echo(1))).toBe(error);
    expect(await outcome(co.release())).toEqual({ value: undefined });
    expect(client.stats().lost).toBe(1);
    // The pool refills: a fresh worker serves the next checkout.
    expect(await outcome(client.call('get_pid', []))).not.toEqual({ value: pid });
  });
}

it('release() settles with a call made after the loss (timeout null)', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = await warm(clientOf(server, { minWorkers: 1, maxWorkers: 1 }));
  const co = await client.checkout({ timeout: null });
  const pid = (await co.get_pid()) as number;
  process.kill(pid, 'SIGKILL');
  await eventually(() => client.stats().lost === 1, 10_000, 'the loss noticed');
  const after = outcome(co.echo('after'));
  expect(await outcome(co.release())).toEqual({ value: undefined });
  expect(await after).toMatchObject({ code: 'WORKER_LOST' });
  client.destroy();
  expect(await outcome(client.close())).toEqual({ value: undefined });
});
