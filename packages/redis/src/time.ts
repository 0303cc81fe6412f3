/**
 * Waiting with deadlines: every wait in this package ends, even when Redis never answers.
 *
 * @module
 */
import { backoffDelay } from '@taskpool/protocol/internal';

/**
 * Resolves after `ms`, or at once when `signal` aborts (it never rejects). `unref`: the
 * wait alone does not keep the process alive.
 */
export function sleep(
  ms: number,
  signal?: AbortSignal,
  { unref = false }: { unref?: boolean } = {},
): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    if (unref) timer.unref();
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Settles like `promise`, or rejects with `onTimeout()` after `ms`. */
export function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), Math.max(0, ms));
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Resolves true when `promise` settles within `ms`, false otherwise; never rejects. */
export function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return withDeadline(
    promise.then(
      () => true,
      () => true,
    ),
    ms,
    () => new Error('deadline'),
  ).catch(() => false);
}

/** Redis replies that mean "try again shortly": the server is starting, failing over or busy. */
const TRANSIENT_REPLY = /^(LOADING|READONLY|MASTERDOWN|TRYAGAIN|BUSY|CLUSTERDOWN|NOREPLICAS)\b/;

/** True for failures that a retry may cure: lost connections and the replies above. */
function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'ReplyError') return TRANSIENT_REPLY.test(error.message);
  return /Connection is closed|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|Command aborted/.test(
    error.message,
  );
}

/** The pause before retrying a transient failure: 50 ms, doubling, up to 1 s. */
const TRANSIENT_BACKOFF = { base: 50, cap: 1_000 };

/**
 * Runs `fn` until it succeeds, retrying transient failures with a growing pause, until
 * `signal` aborts; then the last error is thrown.
 */
export async function retryTransient<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isTransient(error) || signal.aborted) throw error;
      await sleep(backoffDelay(TRANSIENT_BACKOFF, attempt), signal);
      if (signal.aborted) throw error;
    }
  }
}

/**
 * Runs `task` every `ms` (never two at once: the next run is scheduled when the last one
 * ended) until the returned function is called. Errors go to `onError`.
 */
export function every(
  ms: number,
  task: () => Promise<unknown>,
  onError: (error: unknown) => void,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      task().then(schedule, (error: unknown) => {
        onError(error);
        schedule();
      });
    }, ms);
    timer.unref();
  };
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** Resolves when `signal` aborts (at once if it already has). */
export function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}
