/**
 * The contract of `close(options)` on a server and on a forked server's handle alike: a bad
 * option rejects the promise with INVALID_OPTION (it never throws), saying what was wrong.
 */
import { expect } from 'vitest';

/** Checks that `close` refuses a negative timeout and a misspelt option, as promises. */
export async function expectBadCloseOptionsRefused(
  close: (options: unknown) => Promise<void>,
): Promise<void> {
  const bad = close({ timeout: -1 });
  expect(bad).toBeInstanceOf(Promise);
  await expect(bad).rejects.toMatchObject({
    code: 'INVALID_OPTION',
    message:
      'close: option timeout: expected a number of milliseconds from 0 to 2147483647, received -1',
  });
  await expect(close({ timeot: 1 })).rejects.toMatchObject({
    code: 'INVALID_OPTION',
    message: 'close: unknown option timeot (did you mean timeout?)',
  });
}
