/**
 * Option checks whose messages say what was expected and what was received, p-queue
 * style: `createQueue: expected \`name\` to be …, received "a b" (string)`.
 *
 * @module
 */
import { InvalidOptionError, MAX_TIMER_MS } from '@taskpool/protocol';

/** Describes a received value for an error message: `"fast" (string)`, `-1 (number)`. */
export function received(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return `${JSON.stringify(value)} (string)`;
  if (typeof value === 'number') return `${value} (number)`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return `a ${typeof value}`;
}

/** Throws InvalidOptionError: `<where>: expected \`<option>\` to be <expected>, received …`. */
export function invalid(where: string, option: string, expected: string, value: unknown): never {
  throw new InvalidOptionError(
    `${where}: expected \`${option}\` to be ${expected}, received ${received(value)}`,
  );
}

/** An integer in [min, max], or the fallback when undefined. */
export function integer(
  where: string,
  option: string,
  value: unknown,
  range: { min: number; max?: number; fallback: number },
): number {
  if (value === undefined) return range.fallback;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > max) {
    const upper = range.max === undefined ? 'up' : `to ${range.max}`;
    return invalid(where, option, `an integer from ${range.min} ${upper}`, value);
  }
  return value;
}

/** A positive duration in milliseconds, null for none, or the fallback when undefined. */
export function duration(
  where: string,
  option: string,
  value: unknown,
  fallback: number | null,
): number | null {
  if (value === undefined) return fallback;
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    return invalid(where, option, 'a number of milliseconds above 0, or null for none', value);
  }
  // A deadline is waited for with a timer, and Node fires a longer one after 1 ms.
  if (value > MAX_TIMER_MS) {
    return invalid(
      where,
      option,
      `at most ${MAX_TIMER_MS} ms (MAX_TIMER_MS, the longest a Node.js timer waits), or null for no limit`,
      value,
    );
  }
  return value;
}

/** Names that are safe inside key names: letters, digits, `_`, `-`, `.`. */
const NAME = /^[\w.-]{1,200}$/;

/** A name usable inside a key (queue name, priority, client id). */
export function keyPart(where: string, option: string, value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    return invalid(where, option, 'a string of 1 to 200 letters, digits, "_", "-" or "."', value);
  }
  return value;
}
