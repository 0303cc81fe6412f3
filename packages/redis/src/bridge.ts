/**
 * `serveQueue()`: the bridge from a Redis queue onto a taskpool server's workers. Each job
 * `{ method, args }` becomes one call on a worker process, with the job's remaining time as
 * the call's timeout, so a job that overruns really is stopped (its worker is killed).
 * Run a taskpool server and a bridge on each of N machines and they share one queue.
 *
 * @module
 */
import { ValidationError } from '@taskpool/protocol';
import { argumentError } from '@taskpool/protocol/internal';
import type { QueueConsumer, WorkOptions } from './consumer.js';
import { checkWorkOptions } from './options.js';
import type { Queue } from './queue.js';

/**
 * What the bridge needs of a taskpool client: `client.call()`. Any object with this method
 * works, so the bridge does not depend on the client package.
 */
export interface CallTarget {
  call(
    method: string,
    args: unknown[],
    options?: { signal?: AbortSignal; timeout?: number | null },
  ): Promise<unknown>;
}

/** A job's data when it is served by {@link serveQueue}. */
export interface CallJob {
  /** The interface method to call on a worker. */
  method: string;
  /** Its arguments. */
  args: unknown[];
}

/** Options of {@link serveQueue}. */
export type ServeOptions = WorkOptions;

function readCall(data: unknown): CallJob {
  const call = data as Partial<CallJob> | null;
  if (
    typeof call !== 'object' ||
    call === null ||
    typeof call.method !== 'string' ||
    !Array.isArray(call.args)
  ) {
    throw new ValidationError(
      'INVALID_ARGS',
      'serveQueue: expected job data { method: string, args: unknown[] }',
    );
  }
  return { method: call.method, args: call.args };
}

/**
 * Serves `queue` with `client`'s workers: up to `concurrency` calls at once. A job without a
 * deadline uses the client's own default call timeout. Returns the queue's consumer; stop
 * it to stop serving.
 *
 * @example
 * ```ts
 * const client = createClient({ connect: 'unix:/run/hasher.sock' });
 * const queue = createQueue({ redis: process.env.REDIS_URL!, name: 'hash' });
 * const consumer = serveQueue(queue, client, { concurrency: 8 });
 * // elsewhere: await queue.run({ method: 'hash', args: ['secret'] })
 * ```
 */
export function serveQueue(
  queue: Queue<CallJob, unknown>,
  client: CallTarget,
  options: ServeOptions = {},
): QueueConsumer {
  if (typeof client?.call !== 'function') {
    throw argumentError(
      'serveQueue',
      'client',
      'an object with call(method, args, options)',
      client,
    );
  }
  // Checked here too, so that a wrong option is named as serveQueue's.
  checkWorkOptions('serveQueue', options);
  return queue.process(async (job) => {
    let call: CallJob;
    try {
      call = readCall(job.data);
    } catch (error) {
      await job.fail(error, { retry: false });
      return undefined;
    }
    const remaining = job.remaining();
    return client.call(call.method, call.args, {
      signal: job.signal,
      ...(remaining === null ? {} : { timeout: remaining }),
    });
  }, options);
}
