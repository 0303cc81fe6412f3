// logger.t: worker logs merge into the checkout's log, even on error, with one timer per
// call named after its method.
import { DeferredLog } from '@taskpool/client';
import { expect, it } from 'vitest';
import { clientOf, serve } from './helpers/harness.js';

it('merges worker logs and timers into the checkout log, in order', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = clientOf(server);
  const log = new DeferredLog();
  log.info('hello from', process.pid);
  {
    await using co = await client.checkout({ log });
    await co.normal();
    log.info('after');
    await co.sleep(100);
    await co.sleep(100);
    await expect(co.error()).rejects.toThrow('logged and died');
  }
  const record = log.finish();
  const lines = record.logs ?? [];
  expect(lines[0]?.slice(2)).toEqual(['hello from', process.pid]);
  expect(lines[1]?.[2]).toBe('hello from');
  expect(lines[1]?.[3]).not.toBe(process.pid);
  expect(typeof lines[1]?.[3]).toBe('number');
  expect(lines[2]?.[2]).toBe('after');
  expect(lines[3]?.[2]).toBe('something weird happened');
  expect(record.timers?.map((timer) => timer[0])).toEqual([
    'normal',
    'junk',
    'sleep',
    'sleep',
    'error',
  ]);
  for (let i = 1; i < lines.length; i++)
    expect(lines[i]?.[0]).toBeGreaterThanOrEqual(lines[i - 1]?.[0] as number);
});

it('names the timer of a call without a method ->()', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = clientOf(server);
  const log = new DeferredLog();
  {
    await using co = await client.checkout({ log });
    await expect(co.invoke('first arg')).rejects.toMatchObject({ code: 'UNKNOWN_METHOD' });
  }
  expect(log.finish().timers?.map((timer) => timer[0])).toEqual(['->()']);
});
