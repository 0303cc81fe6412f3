// diagnostics_channel events for checkouts and calls.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { CHANNELS } from '@taskpool/client';
import { afterEach, expect, it } from 'vitest';
import { clientOf, eventually, serve } from './helpers/harness.js';

const seen: [string, unknown][] = [];
const listeners = Object.values(CHANNELS).map((name) => {
  const listener = (message: unknown) => seen.push([name, message]);
  return [name, listener] as const;
});

afterEach(() => {
  for (const [name, listener] of listeners) unsubscribe(name, listener);
  seen.length = 0;
});

it('publishes checkout and call events', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = clientOf(server, { maxWorkers: 1 });
  for (const [name, listener] of listeners) subscribe(name, listener);
  {
    await using co = await client.checkout();
    await co.echo(1);
    await expect(co.throw('boom')).rejects.toThrow('boom');
  }
  const names = seen.map(([name]) => name);
  expect(names).toContain(CHANNELS.checkoutAssigned);
  expect(names).toContain(CHANNELS.checkoutReleased);
  expect(names.filter((name) => name === CHANNELS.callStart)).toHaveLength(2);
  const finish = seen.find(([name]) => name === CHANNELS.callFinish)?.[1] as {
    method: string;
    ms: number;
  };
  expect(finish).toMatchObject({ method: 'echo' });
  expect(finish.ms).toBeGreaterThanOrEqual(0);
  const error = seen.find(([name]) => name === CHANNELS.callError)?.[1] as {
    method: string;
    error: Error;
  };
  expect(error.method).toBe('throw');
  expect(error.error.message).toBe('boom');
  expect(seen.find(([name]) => name === CHANNELS.checkoutReleased)?.[1]).toMatchObject({
    healthy: false,
  });
});

it('publishes no finish time for a call sent before anyone subscribed (metrics off: no clock was read)', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = clientOf(server, { minWorkers: 2, maxWorkers: 2, metrics: false });
  await eventually(() => client.stats().idle === 2);
  {
    await using co = await client.checkout();
    // Both sent at once: the checkout's call, and a one-shot call on the other idle worker.
    const onCheckout = co.sleep(50);
    const oneShot = client.call('sleep', [50]);
    for (const [name, listener] of listeners) subscribe(name, listener);
    await Promise.all([onCheckout, oneShot]);
  }
  // Without a start reading, a time would be the process's uptime: none is published.
  const times = seen
    .filter(([name]) => name === CHANNELS.callFinish || name === CHANNELS.checkoutReleased)
    .map(([name, message]) => [name, (message as { ms?: number }).ms]);
  // The checkout's hold time is 0 (unknown); a one-shot call's release carries none.
  expect(times).toHaveLength(2);
  expect(times).toContainEqual([CHANNELS.checkoutReleased, 0]);
  expect(times).toContainEqual([CHANNELS.checkoutReleased, undefined]);
});
