// close() drains: held checkouts finish, waiting ones and new ones are refused. destroy()
// ends everything at once: held checkouts become fatal.
import { ClosedError } from '@taskpool/client';
import { expect, it } from 'vitest';
import { clientOf, eventually, isAlive, serve } from './helpers/harness.js';

it('close lets a held checkout finish, rejects waiting and new checkouts with CLOSED', async () => {
  await using server = await serve('scenario-worker.ts');
  const client = clientOf(server, { maxWorkers: 1 });
  const held = await client.checkout();
  const waiting = client.checkout();
  const running = held.sleep(200);
  const closed = client.close({ timeout: 5_000 });
  await expect(waiting).rejects.toBeInstanceOf(ClosedError);
  await expect(client.checkout()).rejects.toBeInstanceOf(ClosedError);
  expect(await running).toBe(200);
  await held.release();
  await closed;
  expect(client.stats()).toMatchObject({ idle: 0, busy: 0, connecting: 0 });
});

it('close gives up on a checkout never released at its deadline', async () => {
  await using server = await serve('scenario-worker.ts');
  const client = clientOf(server, { maxWorkers: 1 });
  const forgotten = await client.checkout();
  const pid = (await forgotten.get_pid()) as number;
  const started = Date.now();
  await client.close({ timeout: 300 });
  expect(Date.now() - started).toBeLessThan(3_000);
  await expect(forgotten.get_pid()).rejects.toBeInstanceOf(ClosedError);
  await eventually(() => !isAlive(pid), 5_000, 'its worker to exit');
});

it('destroy ends held checkouts at once with CLOSED', async () => {
  await using server = await serve('scenario-worker.ts');
  const client = clientOf(server);
  const co = await client.checkout();
  const call = co.sleep(5_000);
  client.destroy();
  await expect(call).rejects.toBeInstanceOf(ClosedError);
  await expect(co.echo(1)).rejects.toBeInstanceOf(ClosedError);
  await expect(client.checkout()).rejects.toBeInstanceOf(ClosedError);
});
