// Bounds: maxQueue, leaseTimeout, calls after release, validation on the client side.
import { createClient, defineInterface } from '@taskpool/client';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { hasher } from './hasher.js';
import { clientOf, pause, serve } from './helpers/harness.js';

it('refuses a checkout beyond maxQueue with QUEUE_FULL', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = clientOf(server, { maxWorkers: 1, maxQueue: 2 });
  await using held = await client.checkout();
  const waiting = [client.checkout(), client.checkout()];
  await expect(client.checkout()).rejects.toMatchObject({ code: 'QUEUE_FULL' });
  await held.release();
  for (const next of waiting) await (await next).release();
});

it('takes back a checkout idle past leaseTimeout; its next use fails with LEASE_EXPIRED', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = clientOf(server, { maxWorkers: 1, leaseTimeout: 200 });
  const forgotten = await client.checkout();
  const pid = await forgotten.get_pid();
  const next = client.checkout();
  await using co = await next; // served once the lease lapses
  expect(await co.get_pid()).toBe(pid); // the same, healthy worker
  await expect(forgotten.get_pid()).rejects.toMatchObject({ code: 'LEASE_EXPIRED' });
  await forgotten.release();
});

it('rejects calls after release with CHECKOUT_RELEASED, and release is idempotent', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = clientOf(server);
  const co = await client.checkout();
  const last = co.echo('fire and forget'); // made before release: still runs
  await co.release();
  expect(await last).toBe('fire and forget');
  await co.release();
  await expect(co.echo(1)).rejects.toMatchObject({ code: 'CHECKOUT_RELEASED' });
});

it('validates arguments on the client before sending, and results on receipt', async () => {
  await using server = await serve('hasher-worker.ts');
  await using client = createClient({ connect: server.endpoint, interface: hasher });
  await using co = await client.checkout();
  expect(await co.hash('secret')).toBe('hashed:secret');
  expect(await co.verify('hashed:x', 'x')).toBe(true);
  // @ts-expect-error a number is not a string
  await expect(co.hash(5)).rejects.toMatchObject({ code: 'INVALID_ARGS' });
  await expect(co.lying()).rejects.toMatchObject({ code: 'INVALID_RESULT' });
  // @ts-expect-error not a method of the interface
  await expect(co.nope()).rejects.toMatchObject({ code: 'UNKNOWN_METHOD' });
  // @ts-expect-error a number where the interface takes a string: the run-time check is under test
  await expect(co.call('hash', [Number.NaN])).rejects.toMatchObject({ code: 'INVALID_ARGS' });
  expect(await co.hash('still fine')).toBe('hashed:still fine');
});

it('refuses arguments JSON cannot carry, without an interface too', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = clientOf(server);
  await using co = await client.checkout();
  await expect(co.call('echo', [10n])).rejects.toMatchObject({ code: 'INVALID_ARGS' });
  await expect(co.call('echo', [new Map()])).rejects.toMatchObject({ code: 'INVALID_ARGS' });
  expect(await co.echo('after')).toBe('after');
});

it('is not a thenable and keeps its own names', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = clientOf(server);
  await using co = await client.checkout();
  expect((co as unknown as { then?: unknown }).then).toBeUndefined();
  expect(await Promise.resolve(co)).toBe(co);
  expect(typeof co.release).toBe('function');
  expect(co[Symbol.asyncDispose]).toBeTypeOf('function');
  expect(Object.keys(JSON.parse(JSON.stringify(co))).sort()).toEqual(['pid', 'worker']);
  expect(typeof co.pid).toBe('number');
});

it('validates options with messages that say what was expected and what came', async () => {
  expect(() => createClient({ connect: 'unix:/tmp/x.sock', maxWorkers: 0 })).toThrow(
    'createClient: option maxWorkers: expected an integer >= 1, received 0',
  );
  expect(() => createClient({ connect: 'ftp://x' })).toThrow(
    /^createClient: option connect: expected an endpoint \(unix:\/path, .*received "ftp:\/\/x" \(a string\)$/,
  );
  expect(() => createClient({ connect: 'unix:/tmp/x.sock', timeout: -1 })).toThrow(
    'createClient: option timeout: expected a number of milliseconds from 1 to 2147483647, or null for no limit, received -1',
  );
  const client = createClient({ connect: 'unix:/tmp/x.sock', minWorkers: 0 });
  await expect(client.checkout({ timeout: -5 })).rejects.toThrow(
    'checkout: option timeout: expected a number of milliseconds from 1 to 2147483647, or null for no limit, received -5',
  );
  client.destroy();
  expect(() => defineInterface({ x: { args: z.tuple([]), result: z.string() } })).not.toThrow();
});

it('spreads over several servers and skips one that is down', async () => {
  await using a = await serve('scenario-worker.ts');
  await using b = await serve('scenario-worker.ts');
  await using client = createClient({
    connect: [a.endpoint, 'unix:/nonexistent/down.sock', b.endpoint],
    minWorkers: 4,
    maxWorkers: 4,
  });
  await pause(300);
  const cos = await Promise.all([1, 2, 3, 4].map(() => client.checkout()));
  const servers = new Set(cos.map((co) => co.worker?.pid && co.worker.server));
  const parents = new Set(await Promise.all(cos.map((co) => co.call('get_pid'))));
  expect(parents.size).toBe(4);
  expect(servers.size).toBeGreaterThanOrEqual(1);
  for (const co of cos) await co.release();
});
