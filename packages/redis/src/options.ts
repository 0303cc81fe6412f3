/**
 * The options of {@link createQueue}, their defaults, and their validation.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { MAX_TIMER_MS } from '@taskpool/protocol';
import type { Redis, RedisOptions } from 'ioredis';
import { duration, integer, invalid, keyPart } from './checks.js';

/** How much a queue promises, traded against speed: see `docs/redis.md`. */
export type QueueMode = 'simple' | 'recoverable' | 'reliable';

/** The three modes, fastest first. */
export const QUEUE_MODES: readonly QueueMode[] = ['simple', 'recoverable', 'reliable'];

/** How long a reliable job waits before its next attempt. */
export interface BackoffOptions {
  /** `fixed` waits `delay` every time; `exponential` waits `delay · 2^(attempt − 1)`. */
  type: 'fixed' | 'exponential';
  /** Milliseconds; 0 retries at once. */
  delay: number;
  /**
   * Randomly shortens each wait by up to this fraction (0 to 1), so that jobs failing
   * together do not all retry together.
   *
   * @default 0
   */
  jitter?: number;
}

/** Where to reach Redis: a URL, ioredis options, or an ioredis client to copy settings from. */
export type RedisInput = string | RedisOptions | Redis;

/** Options of {@link createQueue}. */
export interface QueueOptions {
  /**
   * Where Redis is. A URL or ioredis options open new connections; an ioredis client is
   * never used itself (nor closed): the queue opens its own connections with its settings
   * via `duplicate()`.
   *
   * @example 'redis://127.0.0.1:6379'
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
   * Put before every key name. Under Redis Cluster use a hash tag so that all keys of a
   * queue land in one slot.
   *
   * @default 'taskpool'
   * @example '{jobs}'
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
   * A reliable worker's lease, in milliseconds. The worker renews it every third of this;
   * when a worker stops renewing (it died, or its event loop was blocked this long), its
   * jobs go back to the queue. Run blocking work through `serveQueue()` so the event loop
   * stays free.
   *
   * @default 30_000
   * @example 10_000
   */
  leaseTime?: number;
  /**
   * The longest one blocking pop waits on Redis before it is reissued, in milliseconds.
   *
   * @default 5_000
   * @example 1_000
   */
  blockTimeout?: number;
  /**
   * Default deadline of `stop()` and `close()`, in milliseconds: jobs still running then
   * are aborted and handed back to the queue.
   *
   * @default 10_000
   * @example 60_000
   */
  closeTimeout?: number;
  /**
   * Deadline of one-off reads (`stats()`, `getJob()`), in milliseconds.
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
}

/** Options after defaults and validation. */
export interface ResolvedOptions {
  redis: RedisInput;
  name: string;
  mode: QueueMode;
  prefix: string;
  priorities: readonly string[];
  defaultPriority: string;
  clientId: string;
  timeout: number | null;
  resultTtl: number;
  maxAttempts: number;
  backoff: Required<BackoffOptions>;
  leaseTime: number;
  blockTimeout: number;
  closeTimeout: number;
  commandTimeout: number;
  onError: (error: unknown) => void;
}

const WHERE = 'createQueue';

const PREFIX = /^[\w.{}-]{1,200}$/;

/** Validates `options` and fills in defaults; throws InvalidOptionError. */
export function resolveOptions(options: QueueOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    return invalid(WHERE, 'options', 'an object', options);
  }
  const redis = options.redis;
  if (typeof redis !== 'string' && (typeof redis !== 'object' || redis === null)) {
    return invalid(WHERE, 'redis', 'a URL, ioredis options or an ioredis client', redis);
  }
  const mode = options.mode ?? 'reliable';
  if (!QUEUE_MODES.includes(mode)) {
    return invalid(WHERE, 'mode', "'simple', 'recoverable' or 'reliable'", mode);
  }
  const prefix = options.prefix ?? 'taskpool';
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    return invalid(WHERE, 'prefix', 'letters, digits, "_", "-", "." or "{}"', prefix);
  }
  const priorities = options.priorities ?? ['default'];
  if (!Array.isArray(priorities) || priorities.length === 0) {
    return invalid(WHERE, 'priorities', 'a non-empty array of names', priorities);
  }
  for (const [i, p] of priorities.entries()) keyPart(WHERE, `priorities[${i}]`, p);
  if (new Set(priorities).size !== priorities.length) {
    return invalid(WHERE, 'priorities', 'distinct names', priorities.join(', '));
  }
  const defaultPriority = options.defaultPriority ?? (priorities[0] as string);
  if (!priorities.includes(defaultPriority)) {
    return invalid(WHERE, 'defaultPriority', `one of ${priorities.join(', ')}`, defaultPriority);
  }
  if (mode !== 'reliable' && options.maxAttempts !== undefined && options.maxAttempts !== 1) {
    return invalid(WHERE, 'maxAttempts', "1 (only mode 'reliable' retries)", options.maxAttempts);
  }
  const maxAttempts = integer(WHERE, 'maxAttempts', options.maxAttempts, {
    min: 1,
    max: 1_000,
    fallback: mode === 'reliable' ? 3 : 1,
  });
  const leaseTime = integer(WHERE, 'leaseTime', options.leaseTime, {
    min: 100,
    fallback: 30_000,
  });
  const onError = options.onError ?? (() => {});
  if (typeof onError !== 'function') return invalid(WHERE, 'onError', 'a function', onError);
  return {
    redis,
    name: keyPart(WHERE, 'name', options.name),
    mode,
    prefix,
    priorities: [...priorities],
    defaultPriority,
    clientId: keyPart(WHERE, 'clientId', options.clientId ?? randomUUID()),
    timeout: duration(WHERE, 'timeout', options.timeout, 30_000),
    resultTtl: integer(WHERE, 'resultTtl', options.resultTtl, {
      min: 1_000,
      fallback: 86_400_000,
    }),
    maxAttempts,
    backoff: resolveBackoff(options.backoff),
    leaseTime,
    blockTimeout: integer(WHERE, 'blockTimeout', options.blockTimeout, {
      min: 10,
      max: 600_000,
      fallback: 5_000,
    }),
    closeTimeout: integer(WHERE, 'closeTimeout', options.closeTimeout, {
      min: 0,
      max: MAX_TIMER_MS,
      fallback: 10_000,
    }),
    commandTimeout: integer(WHERE, 'commandTimeout', options.commandTimeout, {
      min: 1,
      max: MAX_TIMER_MS,
      fallback: 10_000,
    }),
    onError,
  };
}

function resolveBackoff(backoff: BackoffOptions | number | undefined): Required<BackoffOptions> {
  if (backoff === undefined) return { type: 'exponential', delay: 1_000, jitter: 0 };
  if (typeof backoff === 'number') {
    return {
      type: 'fixed',
      delay: integer(WHERE, 'backoff', backoff, { min: 0, fallback: 0 }),
      jitter: 0,
    };
  }
  if (typeof backoff !== 'object' || backoff === null) {
    return invalid(WHERE, 'backoff', 'milliseconds or { type, delay, jitter? }', backoff);
  }
  if (backoff.type !== 'fixed' && backoff.type !== 'exponential') {
    return invalid(WHERE, 'backoff.type', "'fixed' or 'exponential'", backoff.type);
  }
  const jitter = backoff.jitter ?? 0;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) {
    return invalid(WHERE, 'backoff.jitter', 'a number from 0 to 1', jitter);
  }
  return {
    type: backoff.type,
    delay: integer(WHERE, 'backoff.delay', backoff.delay, { min: 0, fallback: 1_000 }),
    jitter,
  };
}
