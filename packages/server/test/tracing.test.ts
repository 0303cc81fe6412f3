/**
 * Tracing channels: a client's `tracing:taskpool.client.call` subscriber may give a call a
 * W3C traceparent; it travels with the call and is current in the worker's handler through
 * `tracing:taskpool.server.call`, to which the worker's code subscribes.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { type CallTraceContext, createClient, TRACING_CHANNELS } from '@taskpool/client';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer } from './helpers/processes.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function on(name: string, listener: (message: unknown) => void): void {
  subscribe(name, listener);
  cleanups.push(() => unsubscribe(name, listener));
}

describe('tracing channels', () => {
  it("carries a subscriber's traceparent into the worker, current while the handler runs", async () => {
    const calls: string[] = [];
    on(`tracing:${TRACING_CHANNELS.call}:start`, (message) => {
      const context = message as CallTraceContext;
      context.traceparent = TRACEPARENT;
      calls.push(`start ${context.method}`);
    });
    on(`tracing:${TRACING_CHANNELS.call}:asyncEnd`, (message) => {
      const context = message as CallTraceContext;
      calls.push(`asyncEnd ${context.method} ${JSON.stringify(context.result)}`);
    });
    let checkouts = 0;
    on(`tracing:${TRACING_CHANNELS.checkout}:asyncEnd`, () => {
      checkouts++;
    });
    const server = await startServer('traced-worker.ts');
    cleanups.push(() => server.close());
    const client = createClient({ connect: server.endpoint, minWorkers: 0, maxWorkers: 1 });
    cleanups.push(() => client.close());
    {
      await using co = await client.checkout();
      expect(await co.call('current', [])).toBe(TRACEPARENT);
    }
    expect(await client.call('current', [])).toBe(TRACEPARENT);
    expect(checkouts).toBe(1);
    expect(calls).toEqual([
      'start current',
      `asyncEnd current "${TRACEPARENT}"`,
      'start current',
      `asyncEnd current "${TRACEPARENT}"`,
    ]);
    // The worker's own subscriber saw each handler start, return a promise, and settle.
    expect(await client.call('events', [])).toEqual([
      'start current',
      'end current undefined',
      'asyncStart current',
      `asyncEnd current "${TRACEPARENT}"`,
      'start current',
      'end current undefined',
      'asyncStart current',
      `asyncEnd current "${TRACEPARENT}"`,
      // `events` itself: its start, not yet its end, when it read the list.
      'start events',
    ]);
  });

  it("traces a stream to its end, the caller's context current in its generator between yields", async () => {
    on(`tracing:${TRACING_CHANNELS.call}:start`, (message) => {
      (message as CallTraceContext).traceparent = TRACEPARENT;
    });
    const server = await startServer('traced-worker.ts');
    cleanups.push(() => server.close());
    const client = createClient({ connect: server.endpoint, minWorkers: 0, maxWorkers: 1 });
    cleanups.push(() => client.close());
    await using co = await client.checkout();
    const seen: unknown[] = [];
    for await (const item of co.stream('currents', [])) seen.push(item);
    expect(seen).toEqual([TRACEPARENT, TRACEPARENT, TRACEPARENT]);
    // An iterator that gives no iterator result fails the stream, and its trace ends.
    const broken: unknown[] = [];
    await expect(
      (async () => {
        for await (const item of co.stream('broken', [])) broken.push(item);
      })(),
    ).rejects.toMatchObject({ message: expect.stringContaining('not an iterator result') });
    const events = (await co.call('events', [])) as string[];
    expect(
      events.filter((event) => event.endsWith('currents') || event.includes('currents ')),
    ).toEqual([
      'start currents',
      'end currents undefined',
      'asyncStart currents',
      'asyncEnd currents undefined',
    ]);
    expect(events.filter((event) => event.includes('broken'))).toEqual([
      'start broken',
      'end broken undefined',
      'error broken',
      'asyncStart broken',
      'asyncEnd broken undefined',
    ]);
  });

  it('sends no trace context when no subscriber gives one', async () => {
    const server = await startServer('traced-worker.ts');
    cleanups.push(() => server.close());
    const client = createClient({ connect: server.endpoint, minWorkers: 0 });
    cleanups.push(() => client.close());
    expect(await client.call('current', [])).toBeNull();
  });
});
