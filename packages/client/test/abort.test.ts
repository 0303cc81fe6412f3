// Aborts: a call not yet run is dropped without reaching its handler; a handler that
// honours ctx.signal leaves the checkout usable; one that ignores it costs the worker
// after cancelGrace. The promise rejects at once with signal.reason.
import { WorkerLostError } from '@taskpool/client';
import { expect, it } from 'vitest';
import { clientOf, pause, serve } from './helpers/harness.js';

it('drops a call waiting behind another without running it', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = clientOf(server);
  await using co = await client.checkout();
  const busy = co.block(300);
  const controller = new AbortController();
  const queued = co.call('increment', [], { signal: controller.signal });
  const reason = new Error('changed my mind');
  controller.abort(reason);
  await expect(queued).rejects.toBe(reason);
  expect(await busy).toBe(300);
  expect(await co.increment()).toBe(101); // the aborted increment never ran
});

it('rejects at once with signal.reason, and a handler that honours the signal keeps the checkout usable', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = clientOf(server, { cancelGrace: 2_000, maxWorkers: 1 });
  await using co = await client.checkout();
  const signal = AbortSignal.timeout(100);
  const started = Date.now();
  const error = await co.call('honours_signal', [], { signal }).catch((caught: unknown) => caught);
  expect(Date.now() - started).toBeLessThan(1_000);
  expect(error).toBe(signal.reason);
  expect((error as DOMException).name).toBe('TimeoutError');
  expect(await co.echo('still usable')).toBe('still usable');
  const pid = co.pid;
  await co.release();
  expect(client.stats().lost).toBe(0);
  await using again = await client.checkout();
  expect(again.pid).toBe(pid);
});

it('drops the worker when an aborted handler ignores the signal past cancelGrace', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = clientOf(server, { cancelGrace: 200 });
  await using co = await client.checkout();
  const controller = new AbortController();
  const call = co.call('ignores_signal', [], { signal: controller.signal });
  await pause(100); // running, not just queued
  controller.abort();
  await expect(call).rejects.toMatchObject({ name: 'AbortError' });
  await pause(400);
  const later = await co.echo(1).catch((caught: unknown) => caught);
  expect(later).toBeInstanceOf(WorkerLostError);
  expect((later as Error).message).toMatch(/cancelGrace/);
  await co.release();
  expect(client.stats().lost).toBe(1);
});

it('aborts waiting for a worker', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = clientOf(server, { maxWorkers: 1 });
  await using held = await client.checkout();
  const controller = new AbortController();
  const waiting = client.checkout({ signal: controller.signal });
  controller.abort(new Error('gave up'));
  await expect(waiting).rejects.toThrow('gave up');
  expect(client.stats().waiting).toBe(0);
  void held;
});
