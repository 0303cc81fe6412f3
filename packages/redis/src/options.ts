/**
 * The options of {@link createQueue}, their defaults, and their validation.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { InvalidOptionError } from '@taskpool/protocol';
import {
  abortSignal,
  boolean,
  type Check,
  check,
  checkOption,
  checkOptions,
  func,
  integer,
  milliseconds,
  nullable,
  number,
  object,
  oneOf,
  option,
  optional,
  optionError,
  type ResolvedOptions,
  required,
  resolveOptions,
  string,
} from '@taskpool/protocol/internal';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import type { StopOptions, WorkOptions } from './consumer.js';
import type { FailOptions } from './job.js';
import type { CollectOptions, SubmitOptions } from './submitter.js';

/** How much a queue promises, traded against speed: see `docs/redis.md`. */
export type QueueMode = 'simple' | 'recoverable' | 'reliable';

/** The three modes, fastest first. */
export const QUEUE_MODES: readonly QueueMode[] = ['simple', 'recoverable', 'reliable'];

/** How long a reliable job waits before its next attempt. */
export interface BackoffOptions {
  /** `fixed` waits `delay` every time; `exponential` waits `delay · 2^(attempt − 1)`. */
  type: 'fixed' | 'exponential';
  /** Milliseconds, at most `MAX_TIMER_MS` (2^31 - 1); 0 retries at once. */
  delay: number;
  /**
   * Randomly shortens each wait by up to this fraction (0 to 1), so that jobs failing
   * together do not all retry together.
   *
   * @default 0
   */
  jitter?: number;
}

/**
 * Where to reach Redis: a URL, ioredis options, or an ioredis client (`Redis`, or `Cluster`
 * for Redis Cluster) to copy settings from.
 */
export type RedisInput = string | RedisOptions | Redis | Cluster;

/** Options of {@link createQueue}. */
export interface QueueOptions {
  /**
   * Where Redis is. A URL or ioredis options open new connections; an ioredis client is
   * never used itself (nor closed): the queue opens its own connections with its settings
   * via `duplicate()`. Pass an ioredis `Cluster` for Redis Cluster (Redis 7 or later: the
   * queue publishes with sharded pub/sub); its connections are duplicates of it.
   *
   * @example 'redis://127.0.0.1:6379'
   * @example new Cluster([{ host: '10.0.0.1', port: 6379 }])
   */
  redis: RedisInput;
  /**
   * The queue's name: submitters and workers that use the same prefix and name share it.
   *
   * @example 'thumbnails'
   */
  name: string;
  /**
   * `simple`: the job travels in the list, the result over pub/sub only (fastest; a result
   * nobody listens for is lost). `recoverable`: ids in the list, data and result in a
   * record, so a submitter that missed the result still collects it. `reliable`: as
   * recoverable, plus leases, recovery of a dead worker's jobs, attempts and backoff.
   * Submitters and workers of one queue must use the same mode.
   *
   * @default 'reliable'
   * @example 'recoverable'
   */
  mode?: QueueMode;
  /**
   * Put before every key and channel name: `<prefix>:{<name>}:…`. The queue's name, in
   * braces, is the Redis Cluster hash tag, so the prefix may not contain `{` or `}` (it
   * would change the tag): each queue lives in one slot, and different queues spread
   * over the cluster.
   *
   * @default 'taskpool'
   * @example 'myapp'
   */
  prefix?: string;
  /**
   * Named priorities, highest first: one list each, and workers always take from the
   * first non-empty one.
   *
   * @default ['default']
   * @example ['high', 'normal', 'low']
   */
  priorities?: readonly string[];
  /**
   * The priority of jobs submitted without one.
   *
   * @default the first of `priorities`
   * @example 'normal'
   */
  defaultPriority?: string;
  /**
   * Who this submitter is: outcomes are published to it. A process that restarts with the
   * same id can `collect()` the results of jobs it submitted before.
   *
   * @default a random UUID
   * @example 'api-7f3c'
   */
  clientId?: string;
  /**
   * Default deadline of a job, in milliseconds from `submit()`: the submitter's promise
   * rejects with `TimeoutError` when it passes, and a worker aborts (`job.signal`) or
   * skips the job. At most `MAX_TIMER_MS` (2^31 - 1, about 24.8 days); `null` waits for
   * ever.
   *
   * @default 30_000
   * @example 5 * 60_000
   */
  timeout?: number | null;
  /**
   * How long a finished job's record (data, outcome, timestamps) is kept in Redis, in
   * milliseconds. A submitter that was disconnected collects its result within this time.
   * A record that is collected successfully is deleted at once; failed ones are kept for
   * inspection.
   *
   * @default 86_400_000 (one day)
   * @example 3_600_000
   */
  resultTtl?: number;
  /**
   * How many times a reliable job is started before it is failed for good: attempts are
   * used up by handler failures and by workers that died holding the job. Only `1` is
   * accepted in the other modes, which never retry.
   *
   * @default 3 in reliable mode, 1 otherwise
   * @example 5
   */
  maxAttempts?: number;
  /**
   * The wait before a failed reliable job is retried. A number is a fixed delay.
   *
   * @default { type: 'exponential', delay: 1_000 }
   * @example { type: 'exponential', delay: 500, jitter: 0.5 }
   */
  backoff?: BackoffOptions | number;
  /**
   * A reliable worker's lease, in milliseconds (100 to `MAX_TIMER_MS`). The worker renews it every third of this;
   * when a worker stops renewing (it died, or its event loop was blocked this long), its
   * jobs go back to the queue. Run blocking work through `serveQueue()` so the event loop
   * stays free.
   *
   * @default 30_000
   * @example 10_000
   */
  leaseTime?: number;
  /**
   * The longest one blocking pop waits on Redis before it is reissued, in milliseconds
   * (10 to 600_000).
   *
   * @default 5_000
   * @example 1_000
   */
  blockTimeout?: number;
  /**
   * Default deadline of `stop()` and `close()`, in milliseconds (at most `MAX_TIMER_MS`):
   * jobs still running then are aborted and handed back to the queue.
   *
   * @default 10_000
   * @example 60_000
   */
  closeTimeout?: number;
  /**
   * Deadline of one-off reads (`stats()`, `getJob()`), in milliseconds (at most
   * `MAX_TIMER_MS`).
   *
   * @default 10_000
   * @example 2_000
   */
  commandTimeout?: number;
  /**
   * Told about errors that happen in the background (lost connections, a failed
   * heartbeat): nothing a caller is waiting for. They are retried.
   *
   * @default ignores them
   * @example (error) => logger.warn(error)
   */
  onError?: (error: unknown) => void;
  /**
   * Measure this queue object's jobs (`queue.metrics()`, `queue.stats().metrics`): counts of
   * jobs submitted, taken, completed, failed, retried and recovered, and their run times;
   * two clock readings and a histogram record per job. `false` records nothing: `metrics()`
   * returns undefined and `stats()` leaves `metrics` out. The `taskpool:queue:job-ended`
   * channel publishes either way (see `docs/observability.md`).
   *
   * @default true
   * @example false
   */
  metrics?: boolean;
}

/**
 * createQueue's options after defaults and validation: derived from {@link QUEUE_OPTIONS},
 * so that the two cannot drift, with the options resolved after the spec (they depend on
 * others, or are made when absent) made definite.
 */
export type ResolvedQueueOptions = Omit<
  ResolvedOptions<typeof QUEUE_OPTIONS>,
  'defaultPriority' | 'clientId' | 'maxAttempts'
> & {
  defaultPriority: string;
  clientId: string;
  maxAttempts: number;
};

const WHERE = 'createQueue';

/** Names that are safe inside key names: letters, digits, `_`, `-`, `.`. */
const NAME = /^[\w.-]{1,200}$/;

const isName = (value: unknown) => typeof value === 'string' && NAME.test(value);
/** A name usable inside a key (queue name, priority, client id). */
/** A queue, service or client name: it becomes part of Redis key names. */
export const keyName = check<string>(
  'a string of 1 to 200 letters, digits, "_", "-" or "."',
  isName,
);

/** How long a worker waits before a failed reliable job's next attempt. */
const BACKOFF_OPTIONS = {
  type: required(oneOf(['fixed', 'exponential'] as const)),
  delay: option(milliseconds(0, { whole: true }), 1_000),
  jitter: option(number(0, 1), 0),
};

const BACKOFF = object(BACKOFF_OPTIONS);

/** A deadline in milliseconds, or null for none. */
const DEADLINE = nullable(milliseconds(1));

/** Where Redis is: a URL, options, or a client to duplicate. */
export const redisInput = check<RedisInput>(
  'a URL, ioredis options, or an ioredis Redis or Cluster client',
  (value) => typeof value === 'string' || (typeof value === 'object' && value !== null),
);

/**
 * The prefix of key names. No braces: the queue's (or service's) name is the whole hash
 * tag of its keys (see keys.ts).
 */
export const keyPrefix = check<string>(
  'a string of 1 to 200 letters, digits, "_", "-" or "." (no "{" or "}": the name after it is the hash tag)',
  isName,
);

/** createQueue's options; the ones that depend on others are checked after. */
const QUEUE_OPTIONS = {
  redis: required(redisInput),
  name: required(keyName),
  mode: option(oneOf(QUEUE_MODES), 'reliable'),
  prefix: option(keyPrefix, 'taskpool'),
  priorities: option(
    check<readonly string[]>(
      'a non-empty array of distinct names of 1 to 200 letters, digits, "_", "-" or "."',
      (value) =>
        Array.isArray(value) &&
        value.length > 0 &&
        value.every(isName) &&
        new Set(value).size === value.length,
      (value) => [...(value as string[])],
    ),
    ['default'],
  ),
  defaultPriority: optional(string),
  clientId: optional(keyName),
  timeout: option(DEADLINE, 30_000),
  // Not waited for with a timer: Redis expires the record, so MAX_TIMER_MS does not bound it.
  resultTtl: option(milliseconds(1_000, { max: null, whole: true }), 86_400_000),
  maxAttempts: optional(integer(1, 1_000)),
  backoff: option(
    check<Required<BackoffOptions>>(
      'a number of milliseconds, or { type, delay?, jitter? }',
      (value) => typeof value === 'number' || BACKOFF.test(value),
      (value, what, path) => {
        if (typeof value !== 'number') return BACKOFF.resolve!(value, what, path);
        checkOption(what, path, BACKOFF_OPTIONS.delay.check, value);
        return { type: 'fixed', delay: value, jitter: 0 };
      },
    ),
    { type: 'exponential', delay: 1_000, jitter: 0 },
  ),
  leaseTime: option(milliseconds(100, { whole: true }), 30_000),
  blockTimeout: option(milliseconds(10, { max: 600_000, whole: true }), 5_000),
  closeTimeout: option(milliseconds(0, { whole: true }), 10_000),
  commandTimeout: option(milliseconds(1, { whole: true }), 10_000),
  onError: option(func as Check<(error: unknown) => void>, () => {}),
  metrics: option(boolean, true),
};

/** Validates `options` and fills in defaults; throws InvalidOptionError. */
export function resolveQueueOptions(options: QueueOptions): ResolvedQueueOptions {
  const resolved = resolveOptions(WHERE, QUEUE_OPTIONS, options);
  const { mode, priorities, maxAttempts } = resolved;
  const defaultPriority = resolved.defaultPriority ?? (priorities[0] as string);
  if (!priorities.includes(defaultPriority)) {
    throw optionError(WHERE, 'defaultPriority', oneOf(priorities).expected, defaultPriority);
  }
  if (mode !== 'reliable' && maxAttempts !== undefined && maxAttempts !== 1) {
    throw optionError(WHERE, 'maxAttempts', '1 (only mode "reliable" retries)', maxAttempts);
  }
  return {
    ...resolved,
    defaultPriority,
    clientId: resolved.clientId ?? randomUUID(),
    maxAttempts: maxAttempts ?? (mode === 'reliable' ? 3 : 1),
  };
}

/** The options of `queue.jobs()`, `queue.process()` and `serveQueue()`. */
const WORK_OPTIONS = {
  concurrency: optional(integer(1, 10_000)),
  signal: optional(abortSignal),
  priorities: optional(
    check<readonly string[]>(
      'a non-empty array of the queue’s priorities',
      (value) => Array.isArray(value) && value.length > 0,
    ),
  ),
};

/**
 * Validates the options of a worker (`what` is `jobs`, `process` or `serveQueue`); given the
 * queue's `priorities`, the ones it serves must be among them. Throws InvalidOptionError.
 */
export function checkWorkOptions(
  what: string,
  options: WorkOptions | undefined,
  priorities?: readonly string[],
): void {
  checkOptions(what, WORK_OPTIONS, options);
  const served = options?.priorities;
  if (priorities === undefined || served === undefined) return;
  for (const priority of served) {
    if (!priorities.includes(priority)) {
      throw optionError(what, 'priorities', `names among ${oneOf(priorities).expected}`, priority);
    }
  }
}

/** The options of `submit()` and `run()`. */
const SUBMIT_OPTIONS = {
  timeout: optional(DEADLINE),
  signal: optional(abortSignal),
  priority: optional(string),
  maxAttempts: optional(integer(1, 1_000)),
};

/**
 * Validates the options of `submit()`: the priority must be one of the queue's, and only
 * reliable mode takes more than one attempt. Throws InvalidOptionError; allocates nothing
 * when they are good (it runs for every job).
 */
export function checkSubmitOptions(options: SubmitOptions, queue: ResolvedQueueOptions): void {
  checkOptions('submit', SUBMIT_OPTIONS, options);
  const { priority, maxAttempts } = options;
  if (priority !== undefined && !queue.priorities.includes(priority)) {
    throw optionError('submit', 'priority', oneOf(queue.priorities).expected, priority);
  }
  if (queue.mode !== 'reliable' && maxAttempts !== undefined && maxAttempts !== 1) {
    throw optionError('submit', 'maxAttempts', '1 (only mode "reliable" retries)', maxAttempts);
  }
}

/** The options of `collect()`. */
const COLLECT_OPTIONS = { timeout: optional(DEADLINE), signal: optional(abortSignal) };

/** Validates the options of `collect()`; throws InvalidOptionError. */
export function checkCollectOptions(options: CollectOptions): void {
  checkOptions('collect', COLLECT_OPTIONS, options);
}

/** The options of `stop()` and `close()`. */
const STOP_OPTIONS = { timeout: optional(milliseconds(0)) };

/** Validates the options of `stop()` or `close()` (`what`); throws InvalidOptionError. */
export function checkStopOptions(what: string, options: StopOptions | undefined): void {
  checkOptions(what, STOP_OPTIONS, options);
}

/** The options of `job.fail()`. */
const FAIL_OPTIONS = { retry: optional(boolean) };

/** Validates the options of `job.fail()`; throws InvalidOptionError. */
export function checkFailOptions(options: FailOptions | undefined): void {
  checkOptions('fail', FAIL_OPTIONS, options);
}

/**
 * The InvalidOptionError of an operation the queue's mode does not offer, in the options'
 * form: the queue's `mode` is the option that does not fit it.
 * `createQueue: option mode: expected "recoverable" or "reliable" to use getJob() (simple mode keeps no job records), received "simple" (a string)`.
 */
export function keepsNoRecords(operation: string): InvalidOptionError {
  return optionError(
    WHERE,
    'mode',
    `"recoverable" or "reliable" to use ${operation}() (simple mode keeps no job records)`,
    'simple',
  );
}
