/** Bad command-line usage: printed with the help, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Reads a whole number option (at most `max`), or throws a UsageError that says what came. */
export function integerOption(
  name: string,
  value: string | undefined,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > max) {
    const expected =
      max === Number.MAX_SAFE_INTEGER ? 'a whole number' : `a whole number up to ${max}`;
    throw new UsageError(`--${name}: expected ${expected}, received ${JSON.stringify(value)}`);
  }
  return number;
}
