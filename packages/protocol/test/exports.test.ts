/**
 * The export rule of docs/errors.md: every error class, `isTaskpoolError` and `ERROR_CODES`
 * come from @taskpool/protocol, and each of @taskpool/client, @taskpool/server and
 * @taskpool/redis re-exports all of them, so a user never needs a second import to match
 * what a package throws.
 */
import * as client from '@taskpool/client';
import * as protocol from '@taskpool/protocol';
import * as redis from '@taskpool/redis';
import * as server from '@taskpool/server';
import { describe, expect, it } from 'vitest';
import * as codes from '../src/codes.js';
import * as errors from '../src/errors.js';

/** Every error class errors.ts defines, TaskpoolError included, by name. */
const errorClasses = Object.entries(errors).filter(
  ([, value]) =>
    typeof value === 'function' &&
    (value === errors.TaskpoolError || value.prototype instanceof errors.TaskpoolError),
);

/** What every package exports, by name: the classes, the guard and the code table. */
const shared: [string, unknown][] = [
  ...errorClasses,
  ['isTaskpoolError', errors.isTaskpoolError],
  ['ERROR_CODES', codes.ERROR_CODES],
];

it('finds the error classes to check', () => {
  // A guard against the filter above missing classes (it would make the checks below vacuous).
  expect(errorClasses.map(([name]) => name)).toEqual(
    expect.arrayContaining(['TaskpoolError', 'TimeoutError', 'JobFailedError']),
  );
});

describe.each([
  ['@taskpool/protocol', protocol],
  ['@taskpool/client', client],
  ['@taskpool/server', server],
  ['@taskpool/redis', redis],
] as const)('%s', (_name, exported) => {
  it('exports every error class, isTaskpoolError and ERROR_CODES, the same objects', () => {
    const missing = shared
      .filter(([name, value]) => (exported as Record<string, unknown>)[name] !== value)
      .map(([name]) => name);
    expect(missing).toEqual([]);
  });
});
