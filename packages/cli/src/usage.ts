/** Bad command-line usage: printed with the help, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Reads a whole number option, or throws a UsageError that says what came. */
export function integerOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) {
    throw new UsageError(`--${name}: expected a whole number, received ${JSON.stringify(value)}`);
  }
  return number;
}
