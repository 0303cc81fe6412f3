// diagnostics_channel events for checkouts and calls.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { CHANNELS } from '@taskpool/client';
import { afterEach, expect, it } from 'vitest';
import { clientOf, serve } from './helpers/harness.js';

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
