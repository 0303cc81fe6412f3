/**
 * Every way a job can go wrong reaches its submitter as a typed rejection, in every mode:
 * a throwing handler, job.fail(), the deadline (with or without a worker), an abort, data or
 * results JSON cannot carry, and closing the queue. Nothing is left pending.
 */
import { ClosedError, JobFailedError, RemoteError, TimeoutError } from '@taskpool/protocol';
import { createQueue, QUEUE_MODES, type Queue, type QueueMode } from '@taskpool/redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from '../../../test/helpers/redis-server.js';
import { deleteUnder, keysUnder, uniquePrefix } from './helpers/keys.js';
import { eventually } from './helpers/wait.js';

let redis: { url: string; close(): Promise<void> };
beforeAll(async () => {
  redis = await useRedis();
});
afterAll(() => redis.close());

const open: Queue<unknown, unknown>[] = [];
const prefixes: string[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((queue) => queue.close({ timeout: 2_000 })));
  await Promise.all(prefixes.splice(0).map((prefix) => deleteUnder(redis.url, prefix)));
});

function queues(mode: QueueMode, extra: { maxAttempts?: number } = {}) {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
  const options = { redis: redis.url, name: 'failures', mode, prefix, backoff: 0, ...extra };
  const submitter = createQueue<unknown, unknown>(options);
  const worker = createQueue<unknown, unknown>(options);
  open.push(submitter, worker);
  return { submitter, worker, prefix };
}

describe.each(QUEUE_MODES)('failures reach the submitter in %s mode', (mode) => {
  it('a handler that throws rejects with JOB_FAILED whose cause is the remote error', async () => {
    const attempts = mode === 'reliable' ? 2 : 1;
    const { submitter, worker } = queues(mode, { maxAttempts: attempts });
    let calls = 0;
    worker.process(() => {
      calls++;
      throw new TypeError('bad sum');
    });
    const error = await submitter.run({ a: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    const failed = error as JobFailedError;
    expect(failed.code).toBe('JOB_FAILED');
    expect(failed.message).toMatch(/bad sum/);
    expect(failed.data).toMatchObject({ attempts });
    expect(failed.cause).toBeInstanceOf(RemoteError);
    expect((failed.cause as RemoteError).remoteName).toBe('TypeError');
    expect(calls).toBe(attempts);
  });

  it('job.fail() with retry: false rejects at once with that error', async () => {
    const { submitter, worker } = queues(mode);
    (async () => {
      for await (const job of worker.jobs())
        await job.fail(new Error('not today'), { retry: false });
    })();
    const error = await submitter.run('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect((error as Error).message).toMatch(/not today/);
  });

  it('with no worker, the deadline rejects with TIMEOUT and the job never runs', async () => {
    const { submitter, worker, prefix } = queues(mode);
    const error = await submitter.run('late', { timeout: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).code).toBe('TIMEOUT');
    let ran = 0;
    const w = worker.process(() => {
      ran++;
    });
    await eventually(async () => (await worker.stats()).queued === 0, 5_000, 'queue drained');
    await w.stop();
    expect(ran).toBe(0);
    if (mode !== 'simple') {
      await eventually(async () => (await keysUnder(redis.url, prefix)).length === 0, 5_000);
    }
  });

  it('a running job past its deadline: job.signal aborts with TIMEOUT, the submitter rejects', async () => {
    const { submitter, worker } = queues(mode);
    const reasons: unknown[] = [];
    worker.process(
      (job) =>
        new Promise((_, reject) => {
          job.signal.addEventListener('abort', () => {
            reasons.push(job.signal.reason);
            reject(job.signal.reason);
          });
        }),
    );
    const error = await submitter.run('slow', { timeout: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    await eventually(() => reasons.length === 1, 5_000, 'worker saw the deadline');
    expect(reasons[0]).toBeInstanceOf(TimeoutError);
  });

  it('an abort rejects with the reason at once and aborts the running job', async () => {
    const { submitter, worker } = queues(mode);
    let started = false;
    const seen: unknown[] = [];
    worker.process(
      (job) =>
        new Promise((_, reject) => {
          started = true;
          job.signal.addEventListener('abort', () => {
            seen.push(job.signal.reason);
            reject(job.signal.reason);
          });
        }),
    );
    const controller = new AbortController();
    const handle = await submitter.submit('abort me', { signal: controller.signal });
    await eventually(() => started, 5_000, 'job started');
    const reason = new Error('user went away');
    controller.abort(reason);
    await expect(handle.result).rejects.toBe(reason);
    await eventually(() => seen.length === 1, 5_000, 'worker saw the cancel');
    expect(String(seen[0])).toMatch(/cancelled/);
  });

  it('an already aborted signal rejects submit() without queueing', async () => {
    const { submitter } = queues(mode);
    const reason = new Error('too late');
    await expect(submitter.submit('x', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect((await submitter.stats()).queued).toBe(0);
  });

  it('data JSON cannot carry is refused with INVALID_ARGS; such a result fails the job', async () => {
    const { submitter, worker } = queues(mode);
    await expect(submitter.submit({ n: 1n })).rejects.toMatchObject({ code: 'INVALID_ARGS' });
    worker.process(() => ({ when: Number.NaN }));
    const error = await submitter.run('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect((error as JobFailedError).cause).toMatchObject({ code: 'INVALID_RESULT' });
  });

  it('close() rejects every awaited result with CLOSED', async () => {
    const { submitter } = queues(mode);
    const handle = await submitter.submit('never run', { timeout: null });
    await submitter.close();
    await expect(handle.result).rejects.toBeInstanceOf(ClosedError);
    await expect(submitter.submit('after')).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
