/**
 * Job progress (record modes): a handler's `job.progress()` updates reach the submitter's
 * `handle.progress` in order and before the iteration ends with the result; a reader that
 * breaks, reads late or not at all changes nothing about the job and holds at most
 * PROGRESS_BUFFER updates; values JSON cannot carry are refused; simple mode refuses
 * progress on both sides; a malformed or repeated message on the channel is skipped; and
 * every wait ends with the job.
 */
import {
  ClosedError,
  createQueue,
  InvalidOptionError,
  JobFailedError,
  type JobHandle,
  PROGRESS_BUFFER,
  type Queue,
  type QueueMode,
  queueKeys,
  TimeoutError,
  ValidationError,
} from '@taskpool/redis';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from '../../../test/helpers/redis-server.js';
import { finishScript } from '../src/scripts/finish-3.js';
import { deleteUnder, keysUnder, uniquePrefix } from './helpers/keys.js';

let redis: { url: string; close(): Promise<void> };
let admin: Redis;
beforeAll(async () => {
  redis = await useRedis();
  admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  admin.disconnect();
  await redis.close();
});

const open: Queue<unknown, unknown, unknown>[] = [];
const prefixes: string[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((queue) => queue.close({ timeout: 2_000 })));
  await Promise.all(prefixes.splice(0).map((prefix) => deleteUnder(redis.url, prefix)));
});

/** A submitter and a worker queue of their own prefix; background errors are collected. */
function queues(mode: QueueMode, name = 'progress') {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
  const errors: unknown[] = [];
  const watchers = new Set<(error: unknown) => void>();
  const onError = (error: unknown) => {
    errors.push(error);
    for (const watch of watchers) watch(error);
  };
  /** Resolves at the first background error matching `pattern`. */
  const nextError = (pattern: RegExp) =>
    new Promise<void>((resolve) => {
      const watch = (error: unknown) => {
        if (!pattern.test(String(error))) return;
        watchers.delete(watch);
        resolve();
      };
      watchers.add(watch);
    });
  const options = { redis: redis.url, name, mode, prefix, onError };
  const submitter = createQueue<string, string, number>(options);
  const worker = createQueue<string, string, number>(options);
  open.push(
    submitter as Queue<unknown, unknown, unknown>,
    worker as Queue<unknown, unknown, unknown>,
  );
  return { submitter, worker, prefix, errors, nextError, keys: queueKeys(prefix, name) };
}

/** A promise and the function that resolves it: how a test and a handler take turns. */
function gate<T = void>() {
  let open!: (value: T) => void;
  const opened = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

/** Reads every update of `handle` until its iteration ends. */
async function readAll<T>(handle: JobHandle<unknown, T>): Promise<T[]> {
  const seen: T[] = [];
  for await (const update of handle.progress) seen.push(update);
  return seen;
}

describe.each(['recoverable', 'reliable'] as const)('progress in %s mode', (mode) => {
  it('a handler reports 1..5 then finishes: the reader sees 1..5 in order, then the end', async () => {
    const { submitter, worker } = queues(mode);
    const reported: boolean[] = [];
    worker.process(async (job) => {
      for (let n = 1; n <= 5; n++) reported.push(await job.progress(n));
      return `done ${job.data}`;
    });
    const handle = await submitter.submit('a');
    expect(await readAll(handle)).toEqual([1, 2, 3, 4, 5]);
    expect(await handle.result).toBe('done a');
    expect(reported).toEqual([true, true, true, true, true]);
  });

  it('updates not awaited before done() still come before the end (progress script not cached)', async () => {
    const { submitter, worker } = queues(mode);
    // With the progress script not cached, each report goes EVALSHA, NOSCRIPT, then EVAL,
    // while the cached finish script would run at once: the outcome must still wait for them.
    await admin.script('FLUSH');
    await admin.script('LOAD', finishScript.lua);
    worker.process((job) => {
      for (let n = 1; n <= 5; n++) void job.progress(n);
      return job.data;
    });
    const handle = await submitter.submit('b');
    expect(await readAll(handle)).toEqual([1, 2, 3, 4, 5]);
    expect(await handle.result).toBe('b');
  });

  it('the record keeps the latest value while the job runs (getJob)', async () => {
    const { submitter, worker } = queues(mode);
    const reported = gate();
    const finish = gate();
    worker.process(async (job) => {
      await job.progress(1);
      await job.progress(2);
      reported.open();
      await finish.opened;
      return job.data;
    });
    const handle = await submitter.submit('c');
    await reported.opened;
    expect(await submitter.getJob(handle.id)).toMatchObject({ state: 'active', progress: 2 });
    finish.open();
    expect(await handle.result).toBe('c');
  });

  it('breaking out early stops the updates and leaves the job alone', async () => {
    const { submitter, worker } = queues(mode);
    const broke = gate();
    const reported: boolean[] = [];
    worker.process(async (job) => {
      reported.push(await job.progress(1));
      await broke.opened;
      for (let n = 2; n <= 5; n++) reported.push(await job.progress(n));
      return `kept ${job.data}`;
    });
    const handle = await submitter.submit('d');
    const seen: number[] = [];
    for await (const update of handle.progress) {
      seen.push(update);
      break;
    }
    broke.open();
    expect(await handle.result).toBe('kept d');
    expect(seen).toEqual([1]);
    // The job stayed this worker's: every report after the break was recorded too.
    expect(reported).toEqual([true, true, true, true, true]);
    // Iterated once already: a second loop is refused rather than missing updates.
    expect(() => handle.progress[Symbol.asyncIterator]()).toThrow(TypeError);
  });

  it('a value JSON cannot carry is refused with INVALID_ARGS; the job carries on', async () => {
    const { submitter, worker } = queues(mode);
    const refusals: unknown[] = [];
    worker.process(async (j) => {
      const loose = j as unknown as { progress(value: unknown): Promise<boolean> };
      for (const bad of [() => 1, 1n, Number.NaN, { deep: { seen: new Map() } }]) {
        refusals.push(await loose.progress(bad).catch((error: unknown) => error));
      }
      await j.progress(7);
      return 'still fine';
    });
    const handle = await submitter.submit('e');
    expect(await readAll(handle)).toEqual([7]);
    expect(await handle.result).toBe('still fine');
    expect(refusals).toHaveLength(4);
    for (const refusal of refusals) {
      expect(refusal).toBeInstanceOf(ValidationError);
      expect(refusal).toMatchObject({ code: 'INVALID_ARGS' });
      expect((refusal as Error).message).toMatch(/progress: the value/);
    }
    expect((refusals[3] as Error).message).toMatch(/at \.deep\.seen is an instance of Map/);
  });

  it('progress after done() resolves false and publishes nothing', async () => {
    const { submitter, worker } = queues(mode);
    const after = gate<boolean>();
    (async () => {
      for await (const job of worker.jobs()) {
        await job.done(job.data);
        after.open(await job.progress(99));
      }
    })();
    const handle = await submitter.submit('f');
    expect(await readAll(handle)).toEqual([]);
    expect(await handle.result).toBe('f');
    expect(await after.opened).toBe(false);
  });

  it('a slow reader gets at most PROGRESS_BUFFER updates, the latest last', async () => {
    const { submitter, worker } = queues(mode);
    const total = PROGRESS_BUFFER * 3 + 8;
    worker.process(async (job) => {
      for (let n = 1; n <= total; n++) await job.progress(n);
      return job.data;
    });
    const handle = await submitter.submit('g', { timeout: 20_000 });
    // Read nothing until the job is over: every update has arrived, at most the bound kept.
    expect(await handle.result).toBe('g');
    const seen = await readAll(handle);
    expect(seen).toHaveLength(PROGRESS_BUFFER);
    expect(seen).toEqual(
      Array.from({ length: PROGRESS_BUFFER }, (_, i) => total - PROGRESS_BUFFER + 1 + i),
    );
  });

  it('handles nobody reads cost nothing: all results arrive, nothing is left waiting', async () => {
    const { submitter, worker, prefix } = queues(mode);
    worker.process(
      async (job) => {
        for (let n = 1; n <= 3; n++) await job.progress(n);
        return job.data;
      },
      { concurrency: 8 },
    );
    const handles = await Promise.all(
      Array.from({ length: 50 }, (_, i) => submitter.submit(`h${i}`)),
    );
    const results = await Promise.all(handles.map((handle) => handle.result));
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => `h${i}`));
    expect((await submitter.stats()).local.awaiting).toBe(0);
    // Collected results delete their records: no progress is left behind in Redis.
    expect((await keysUnder(redis.url, prefix)).filter((key) => key.includes(':job:'))).toEqual([]);
  });

  it('a failed job: the updates before it, then the end; the error is on result', async () => {
    const { submitter, worker } = queues(mode);
    worker.process(async (job) => {
      await job.progress(1);
      await job.fail(new Error('gave up'), { retry: false });
      return job.data;
    });
    const handle = await submitter.submit('i');
    expect(await readAll(handle)).toEqual([1]);
    await expect(handle.result).rejects.toBeInstanceOf(JobFailedError);
  });

  it('a reader waiting for an update is released by the deadline and by close()', async () => {
    const { submitter, worker } = queues(mode);
    worker.process(async (job) => {
      await job.progress(1);
      // Runs until the submitter gives up (its deadline cancels the job) or the worker stops.
      await new Promise((resolve) => job.signal.addEventListener('abort', resolve));
      return job.data;
    });
    const late = await submitter.submit('j', { timeout: 1_000 });
    const lateUpdates = late.progress[Symbol.asyncIterator]();
    expect(await lateUpdates.next()).toEqual({ done: false, value: 1 });
    // Waits for an update that never comes: the deadline ends it.
    expect(await lateUpdates.next()).toEqual({ done: true, value: undefined });
    await expect(late.result).rejects.toBeInstanceOf(TimeoutError);

    const forever = await submitter.submit('k', { timeout: null });
    const updates = forever.progress[Symbol.asyncIterator]();
    expect(await updates.next()).toEqual({ done: false, value: 1 });
    const waiting = updates.next();
    await submitter.close();
    expect(await waiting).toEqual({ done: true, value: undefined });
    await expect(forever.result).rejects.toBeInstanceOf(ClosedError);
    // The handler still waits for its signal: stopping now aborts it.
    await worker.close({ timeout: 0 });
  });

  it('malformed and repeated messages on the channel are skipped, not fatal', async () => {
    const { submitter, worker, errors, nextError, keys } = queues(mode);
    const first = gate();
    const next = gate();
    worker.process(async (job) => {
      await job.progress(1);
      first.open();
      await next.opened;
      await job.progress(2);
      return job.data;
    });
    const handle = await submitter.submit('l');
    const iterator = handle.progress[Symbol.asyncIterator]();
    expect(await iterator.next()).toEqual({ done: false, value: 1 });
    await first.opened;
    const channel = keys.done(submitter.clientId);
    const junk = [
      'not json',
      JSON.stringify({ kind: 'gossip', id: handle.id }),
      JSON.stringify({ kind: 'progress', id: handle.id, seq: 0, value: 5 }),
      JSON.stringify({ kind: 'progress', id: handle.id, value: 5 }),
      // A repeat of update 1 (as after a reconnection): already seen, skipped.
      JSON.stringify({ kind: 'progress', id: handle.id, seq: 1, value: 1 }),
    ];
    for (const message of junk) await admin.publish(channel, message);
    // Messages on one channel arrive in order: once this one is through, so are the above.
    const markerSeen = nextError(/malformed message: marker/);
    await admin.publish(channel, 'marker');
    await markerSeen;
    next.open();
    expect(await iterator.next()).toEqual({ done: false, value: 2 });
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    expect(await handle.result).toBe('l');
    expect(errors.filter((e) => /ignored a malformed message/.test(String(e)))).toHaveLength(5);
  });

  it('after its subscriber reconnects, the reader catches up with the latest value once', async () => {
    const name = `progress-reconnect-${mode}`;
    const { submitter, worker } = queues(mode, name);
    const first = gate();
    const second = gate();
    const finish = gate();
    worker.process(async (job) => {
      await job.progress(1);
      await first.opened;
      await job.progress(2);
      second.open();
      await finish.opened;
      return job.data;
    });
    const handle = await submitter.submit('m');
    const iterator = handle.progress[Symbol.asyncIterator]();
    expect(await iterator.next()).toEqual({ done: false, value: 1 });
    // Drop this queue's subscriber connections; update 2 is published around the drop, and
    // arrives either as its message or from the record once the subscriber is back.
    const clients = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
    const ids = clients
      .split('\n')
      .filter((line) => line.includes(` name=taskpool:${name}:subscriber `))
      .map((line) => /\bid=(\d+)/.exec(line)?.[1]);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) await admin.call('CLIENT', 'KILL', 'ID', String(id));
    first.open();
    await second.opened;
    expect(await iterator.next()).toEqual({ done: false, value: 2 });
    finish.open();
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    expect(await handle.result).toBe('m');
  });
});

describe('progress in simple mode', () => {
  it('is refused on both sides with INVALID_OPTION; the job itself still runs', async () => {
    const { submitter, worker } = queues('simple');
    const refusal = gate<unknown>();
    worker.process(async (job) => {
      refusal.open(await job.progress(1).catch((error: unknown) => error));
      return job.data;
    });
    const handle = await submitter.submit('s');
    expect(() => handle.progress[Symbol.asyncIterator]()).toThrow(InvalidOptionError);
    expect(() => handle.progress[Symbol.asyncIterator]()).toThrow(/job\.progress\(\).*simple/);
    expect(await handle.result).toBe('s');
    const error = await refusal.opened;
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ code: 'INVALID_OPTION' });
    expect((error as Error).message).toMatch(
      /"recoverable" or "reliable" to use job\.progress\(\)/,
    );
  });
});
