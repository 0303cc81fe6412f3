// client.call(…, { signal }) aborted while its handler runs used to reject only once the
// checkout was released, up to cancelGrace later (withCheckout awaits the release). Like
// co.call, it must reject at once with signal.reason; the release finishes in the background.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { CHANNELS } from '@taskpool/client';
import { expect, it } from 'vitest';
import { clientOf, eventually, serve, warm } from '../helpers/harness.js';

it('rejects at once with signal.reason, before the checkout is released', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = await warm(
    clientOf(server, { minWorkers: 1, maxWorkers: 1, cancelGrace: 10_000 }),
  );
  const events: string[] = [];
  const onReleased = () => events.push('released');
  const onStart = () => events.push('sent');
  subscribe(CHANNELS.checkoutReleased, onReleased);
  subscribe(CHANNELS.callStart, onStart);
  try {
    const controller = new AbortController();
    const call = client.call('ignores_signal', [], { signal: controller.signal });
    const settled = call.then(
      () => events.push('resolved'),
      () => events.push('rejected'),
    );
    await eventually(() => events.includes('sent'), 10_000, 'the call in flight');
    const reason = new Error('changed my mind');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    await settled;
    // The handler ignores its signal (it sleeps 5 s) and the grace is 10 s: the release
    // waits for its reply, long after the rejection.
    await eventually(() => events.includes('released'), 20_000, 'the release');
    expect(events).toEqual(['sent', 'rejected', 'released']);
    expect(client.stats().checkouts).toBe(0);
  } finally {
    unsubscribe(CHANNELS.checkoutReleased, onReleased);
    unsubscribe(CHANNELS.callStart, onStart);
  }
});
