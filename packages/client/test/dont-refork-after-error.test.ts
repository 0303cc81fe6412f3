// dont_refork_after_error.t: with dontReforkAfterError, a worker that threw stays usable
// and goes back to the pool.
import { expect, it } from 'vitest';
import { clientOf, serve } from './helpers/harness.js';

it('keeps the same worker across non-fatal errors, and pools it afterwards', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = clientOf(server, { maxWorkers: 1, dontReforkAfterError: true });
  let pid: unknown;
  let second: ReturnType<typeof client.checkout> | undefined;
  {
    await using co = await client.checkout();
    second = client.checkout(); // queued behind the first
    pid = await co.get_pid();
    expect(typeof pid).toBe('number');
    expect(await co.get_pid()).toBe(pid);
    await expect(co.throw('BLAH')).rejects.toThrow('BLAH');
    expect(await co.get_pid()).toBe(pid);
    await expect(co.throw('OUCH')).rejects.toThrow('OUCH');
    expect(await co.get_pid()).toBe(pid);
  }
  await using co2 = await (second as ReturnType<typeof client.checkout>);
  expect(await co2.get_pid()).toBe(pid);
});

it('without it, a worker that threw is replaced on release', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = clientOf(server, { maxWorkers: 1 });
  let pid: unknown;
  {
    await using co = await client.checkout();
    pid = await co.get_pid();
    await expect(co.throw('BLAH')).rejects.toThrow('BLAH');
    expect(await co.get_pid()).toBe(pid);
  }
  await using co2 = await client.checkout();
  expect(await co2.get_pid()).not.toBe(pid);
  expect(client.stats().lost).toBe(1);
});
