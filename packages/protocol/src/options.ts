/**
 * Option validation shared by every package: a zod schema per options object, and one
 * function that turns the first problem into an InvalidOptionError saying which option,
 * what was expected and what came. zod is imported for its types only.
 *
 * @module
 */
import type { z } from 'zod';
import { InvalidOptionError } from './errors.js';

function received(input: unknown, path: readonly PropertyKey[]): string {
  let value: unknown = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return 'nothing';
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * The InvalidOptionError for the first problem with `input`, at `path`, described by zod's
 * `message` for it: `createClient: option "maxWorkers": Too small: expected number to be
 * >0, received 0`. Validators written without zod use it to word their errors the same.
 */
export function invalidOption(
  what: string,
  path: readonly PropertyKey[],
  message: string,
  input: unknown,
  cause?: unknown,
): InvalidOptionError {
  const name = path.length > 0 ? ` option "${path.map(String).join('.')}"` : ' options';
  const expected = message.replace(/^Invalid input: /, '');
  return new InvalidOptionError(
    `${what}:${name}: ${expected}, received ${received(input, path)}`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Parses `input` with `schema`, or throws an InvalidOptionError such as
 * `createClient: option "maxWorkers": expected number to be >=1, received 0`.
 */
export function parseOptions<TSchema extends z.ZodType>(
  what: string,
  schema: TSchema,
  input: unknown,
): z.output<TSchema> {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw invalidOption(what, issue?.path ?? [], issue?.message ?? 'invalid', input, parsed.error);
}
