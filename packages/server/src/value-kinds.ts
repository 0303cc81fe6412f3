/**
 * What a handler returned: a promise, or items to stream. Checked by shape, as `await` and
 * `for await` do, so values of other realms and libraries count.
 *
 * @module
 */

/** True for a promise (or anything with a `then`): the handler went asynchronous. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** True for what `for await` can read: a streaming handler's return value. */
export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}
