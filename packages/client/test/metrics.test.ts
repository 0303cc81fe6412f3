// Client metrics: how calls end, by code, and how long calls, checkout waits, holds and
// connections take, counted from real calls to a real server; and nothing with metrics: false.
import { expect, it } from 'vitest';
import { clientOf, serve } from './helpers/harness.js';

it('counts calls by outcome and measures calls, waits, holds and connections', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = clientOf(server, { minWorkers: 0, maxWorkers: 2, cancelGrace: 2_000 });
  {
    await using co = await client.checkout();
    expect(await co.echo('a')).toBe('a');
    expect(await co.echo('b')).toBe('b');
    await expect(co.throw('boom')).rejects.toMatchObject({ code: 'REMOTE_ERROR' });
    const signal = AbortSignal.timeout(50);
    const aborted = await co.call('honours_signal', [], { signal }).catch((error) => error);
    expect(aborted).toBe(signal.reason);
  }
  expect(await client.call('echo', ['one-shot'])).toBe('one-shot');
  await expect(client.call('sleep', [2_000], { timeout: 100 })).rejects.toMatchObject({
    code: 'TIMEOUT',
  });
  const { metrics } = client.stats();
  if (!metrics) throw new Error('metrics are on by default');
  expect(metrics.calls).toEqual({ ok: 3, REMOTE_ERROR: 1, aborted: 1, TIMEOUT: 1 });
  expect(metrics.callDuration.count).toBe(6);
  // The timed-out call took about its 100 ms (a timer may fire a little early by this
  // clock); the echoes far less.
  expect(metrics.callDuration.max).toBeGreaterThanOrEqual(90);
  expect(metrics.callDuration.min).toBeGreaterThan(0);
  expect(metrics.callDuration.min).toBeLessThanOrEqual(metrics.callDuration.p50);
  // One checkout and two one-shot calls waited for a worker; the checkout's hold is
  // measured (a one-shot call holds its worker for its call).
  expect(metrics.checkoutWait.count).toBe(3);
  expect(metrics.checkoutHold.count).toBe(1);
  expect(metrics.connectTime.count).toBe(client.stats().connected);
  expect(metrics.connectTime.p99).toBeGreaterThan(0);
});

it('records nothing with metrics: false', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = clientOf(server, { metrics: false });
  expect(await client.call('echo', ['x'])).toBe('x');
  expect(client.stats()).not.toHaveProperty('metrics');
});
