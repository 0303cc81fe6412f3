/**
 * serveQueue() against a real taskpool server and client: jobs `{ method, args }` run as
 * calls on the server's worker processes; a job past its deadline, handler errors and
 * malformed jobs reach the submitter typed, and the bridge keeps serving.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@taskpool/client';
import { JobFailedError, RemoteError, TimeoutError } from '@taskpool/protocol';
import { type CallJob, createQueue, serveQueue } from '@taskpool/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, isAlive, startServerWith } from '../../../test/helpers/processes.js';
import { useRedis } from '../../../test/helpers/redis-server.js';
import { deleteUnder, uniquePrefix } from './helpers/keys.js';

let redis: { url: string; close(): Promise<void> };
beforeAll(async () => {
  redis = await useRedis();
});
afterAll(() => redis.close());

describe('serveQueue onto a taskpool server', () => {
  it('runs jobs as calls on worker processes; deadlines and failures reach the submitter typed', async () => {
    const prefix = uniquePrefix();
    const settings = { redis: redis.url, name: 'bridge', prefix, mode: 'reliable' as const };
    await using server = await startServerWith(
      new URL('./fixtures/bridge-worker.mjs', import.meta.url),
      { maxWorkers: 4 },
    );
    const client = createClient({ connect: server.endpoint, minWorkers: 0, maxWorkers: 2 });
    const submitter = createQueue<CallJob, unknown>({ ...settings, maxAttempts: 1 });
    const bridge = createQueue<CallJob, unknown>(settings);
    try {
      serveQueue(bridge, client, { concurrency: 2 });

      const doubled = await Promise.all(
        Array.from({ length: 20 }, (_, i) => submitter.run({ method: 'double', args: [i] })),
      );
      expect(doubled).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));

      const overrun = await submitter
        .run({ method: 'sleep', args: [3_000] }, { timeout: 1_000 })
        .catch((e: unknown) => e);
      expect(overrun).toBeInstanceOf(TimeoutError);

      const failed = (await submitter
        .run({ method: 'fail', args: ['no such luck'] })
        .catch((e: unknown) => e)) as JobFailedError;
      expect(failed).toBeInstanceOf(JobFailedError);
      expect(failed.cause).toBeInstanceOf(RemoteError);
      expect((failed.cause as RemoteError).remoteName).toBe('RangeError');

      const malformed = (await submitter
        .run({ method: 42 } as unknown as CallJob)
        .catch((e: unknown) => e)) as JobFailedError;
      expect(malformed.cause).toMatchObject({ code: 'INVALID_ARGS' });

      // The bridge still serves after all that.
      expect(await submitter.run({ method: 'double', args: [21] })).toBe(42);
    } finally {
      await submitter.close({ timeout: 2_000 });
      await bridge.close({ timeout: 2_000 });
      await client.close({ timeout: 2_000 });
      await deleteUnder(redis.url, prefix);
    }
  });

  it('stops the worker process running a job that overran its deadline', async () => {
    const prefix = uniquePrefix();
    const settings = { redis: redis.url, name: 'bridge-kill', prefix, mode: 'reliable' as const };
    await using server = await startServerWith(
      new URL('./fixtures/bridge-worker.mjs', import.meta.url),
    );
    const client = createClient({ connect: server.endpoint, minWorkers: 0, maxWorkers: 1 });
    const submitter = createQueue<CallJob, unknown>({ ...settings, maxAttempts: 1 });
    const bridge = createQueue<CallJob, unknown>(settings);
    const pidFile = join(tmpdir(), `taskpool-bridge-${process.pid}-${Date.now()}.pid`);
    try {
      serveQueue(bridge, client, { concurrency: 1 });
      const overrun = await submitter
        .run({ method: 'sleepAt', args: [pidFile, 30_000] }, { timeout: 1_000 })
        .catch((e: unknown) => e);
      expect(overrun).toBeInstanceOf(TimeoutError);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      await eventually(() => !isAlive(pid), 5_000, 'the overrunning worker to stop');
      expect(await submitter.run({ method: 'double', args: [4] })).toBe(8);
    } finally {
      await submitter.close({ timeout: 2_000 });
      await bridge.close({ timeout: 2_000 });
      await client.close({ timeout: 2_000 });
      await deleteUnder(redis.url, prefix);
    }
  });
});
