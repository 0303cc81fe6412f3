import { parseArgs } from 'node:util';

/** Bad command-line usage: printed with the help, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Reads a whole number option from `min` (0 by default) to `max`, or throws a UsageError
 * that says what came: `--timeout: expected a whole number from 1 to 2147483647, received "0"`.
 */
export function integerOption(
  name: string,
  value: string | undefined,
  { min = 0, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    const expected =
      max === Number.MAX_SAFE_INTEGER
        ? `a whole number${min === 0 ? '' : ` >= ${min}`}`
        : min === 0
          ? `a whole number up to ${max}`
          : `a whole number from ${min} to ${max}`;
    throw new UsageError(`--${name}: expected ${expected}, received ${JSON.stringify(value)}`);
  }
  return number;
}

/** The options a command takes, by name: strings (`--name value`) and flags (`--json`). */
type OptionSpecs<TName extends string, TFlag extends string> = Record<TName, { type: 'string' }> &
  Record<TFlag, { type: 'boolean' }>;

/**
 * A command's positionals, its string options (`--name value`) and its flags (`--json`);
 * a word parseArgs does not take (an unknown option, a missing value) is a UsageError.
 * @example parseCommand(args, ['timeout', 'wait'], ['json'])
 */
export function parseCommand<TName extends string, TFlag extends string = never>(
  args: string[],
  names: readonly TName[],
  flags: readonly TFlag[] = [],
): {
  positionals: string[];
  values: Partial<Record<TName, string>> & Partial<Record<TFlag, boolean>>;
} {
  const options = Object.fromEntries([
    ...names.map((name) => [name, { type: 'string' }]),
    ...flags.map((flag) => [flag, { type: 'boolean' }]),
  ]) as OptionSpecs<TName, TFlag>;
  try {
    const { positionals, values } = parseArgs({ args, allowPositionals: true, options });
    return {
      positionals,
      values: values as Partial<Record<TName, string>> & Partial<Record<TFlag, boolean>>,
    };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
