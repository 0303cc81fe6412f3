/**
 * Option validation shared by every package: a zod schema per options object, and one
 * function that turns the first problem into an InvalidOptionError saying which option,
 * what was expected and what came.
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
  const path = issue?.path ?? [];
  const name = path.length > 0 ? ` option "${path.map(String).join('.')}"` : ' options';
  const expected = (issue?.message ?? 'invalid').replace(/^Invalid input: /, '');
  throw new InvalidOptionError(`${what}:${name}: ${expected}, received ${received(input, path)}`, {
    cause: parsed.error,
  });
}
