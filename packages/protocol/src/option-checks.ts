/**
 * The one option checker of every package. An entry point describes its options as a spec
 * (each key's check, and its default), and {@link resolveOptions} checks an options object
 * against it: types, ranges, defaults, unknown keys (with the nearest known name) and
 * nested objects. Every problem is an InvalidOptionError in one form:
 *
 * - `createClient: option maxWorkers: expected an integer >= 1, received -1`
 * - `createClient: option reconnect.first: expected a number of milliseconds from 0 to 2147483647, received "fast" (a string)`
 * - `createClient: unknown option maxWorker (did you mean maxWorkers?)`
 *
 * It is written without zod: workers and clients check their options without loading it.
 * The checks on the valid path allocate nothing, as `checkout()` and every call run them.
 *
 * @module
 */
import { type EndpointInput, parseEndpoint } from './endpoint.js';
import { InvalidOptionError } from './errors.js';
import { MAX_TIMER_MS } from './limits.js';
import { isSecretSource, type SecretSource } from './secret-source.js';

/** How one option's value is checked. */
export interface Check<T> {
  /** What a good value is, as the message says it after "expected": `an integer >= 1`. */
  readonly expected: string;
  /** Whether a value (never undefined: an absent option is not checked) is good. */
  readonly test: (value: unknown) => boolean;
  /**
   * Makes the resolved value from a good one (a nested object with its defaults, a copy of
   * an array); without it the value is kept as it came. `path` names the option in errors.
   */
  readonly resolve?: (value: unknown, what: string, path: string) => T;
}

/** An option of a spec: its check, and what it is when absent. */
export interface Option<T> {
  readonly check: Check<T>;
  /** The value when the option is absent (or undefined); it goes through `check.resolve`. */
  readonly fallback: unknown;
  /** Whether an absent option is an error. */
  readonly required: boolean;
}

/** The options of one entry point: each known key and how it is checked. */
export type OptionSpec = { readonly [key: string]: Option<unknown> };

/** What {@link resolveOptions} returns for a spec: each key's resolved value. */
export type ResolvedOptions<TSpec extends OptionSpec> = {
  -readonly [K in keyof TSpec]: TSpec[K] extends Option<infer T> ? T : never;
};

/** An option that may be left out, `fallback` then. @example option(integer(1), 20) */
export function option<T>(check: Check<T>, fallback: NoInfer<T>): Option<T> {
  return { check, fallback, required: false };
}

/** An option that may be left out, undefined then. @example optional(string) */
export function optional<T>(check: Check<T>): Option<T | undefined> {
  return { check, fallback: undefined, required: false };
}

/** An option that must be given. @example required(endpoint) */
export function required<T>(check: Check<T>): Option<T> {
  return { check, fallback: undefined, required: true };
}

/**
 * An object of options checked by its own spec, its defaults filled in when it is left out.
 * @example nested({ first: option(milliseconds(0), 200), every: option(milliseconds(1), 1_000) })
 */
export function nested<TSpec extends OptionSpec>(spec: TSpec): Option<ResolvedOptions<TSpec>> {
  return option(object(spec), {} as ResolvedOptions<TSpec>);
}

/** A check from a description and a test. @example check('a function', (v) => typeof v === 'function') */
export function check<T>(
  expected: string,
  test: (value: unknown) => boolean,
  resolve?: (value: unknown, what: string, path: string) => T,
): Check<T> {
  return resolve ? { expected, test, resolve } : { expected, test };
}

/** Any value. */
export const anything: Check<unknown> = check('anything', () => true);
/** A string. */
export const string: Check<string> = check('a string', (value) => typeof value === 'string');
/** `true` or `false`. */
export const boolean: Check<boolean> = check(
  'true or false',
  (value) => typeof value === 'boolean',
);
/** A function. */
export const func: Check<(...args: never[]) => unknown> = check(
  'a function',
  (value) => typeof value === 'function',
);
/** An AbortSignal. */
export const abortSignal: Check<AbortSignal> = check(
  'an AbortSignal',
  (value) => value instanceof AbortSignal,
);

/** What an endpoint is, as option errors say it. */
const ENDPOINT =
  'an endpoint (unix:/path, an absolute path, tcp://host:port or tls://host:port with a port from 0 to 65535, { path } or { host, port })';

function isEndpoint(value: unknown): boolean {
  try {
    parseEndpoint(value as EndpointInput);
    return true;
  } catch {
    return false;
  }
}

/** A server address `parseEndpoint` takes. @example required(endpoint) */
export const endpoint: Check<EndpointInput> = check(ENDPOINT, isEndpoint);

/** An endpoint, or a non-empty array of them. @example required(endpoints) */
export const endpoints: Check<EndpointInput | EndpointInput[]> = check(
  `${ENDPOINT}, or a non-empty array of them`,
  (value) =>
    Array.isArray(value) ? value.length > 0 && value.every(isEndpoint) : isEndpoint(value),
);

/** A secret or certificate: a string, bytes, `{ env: 'NAME' }` or `{ file: '/path' }`. */
export const secret: Check<SecretSource> = check(
  "a string, bytes, { env: 'NAME' } or { file: '/path' }",
  isSecretSource,
);

/** A non-empty object of key id → secret. @example required(secrets) */
export const secrets: Check<Record<string, SecretSource>> = check(
  "an object of key id → secret (a string, bytes, { env: 'NAME' } or { file: '/path' }), with at least one key",
  (value) =>
    isRecord(value) &&
    Object.keys(value).length > 0 &&
    Object.values(value).every((item) => isSecretSource(item)),
  (value) => ({ ...(value as Record<string, SecretSource>) }),
);

/** An integer from `min` to `max` (a safe integer without `max`). @example integer(1) */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): Check<number> {
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
  return check(
    `an integer ${range}`,
    (value) => Number.isInteger(value) && (value as number) >= min && (value as number) <= max,
  );
}

/** A number from `min` to `max`. @example number(0, 1) */
export function number(min: number, max: number): Check<number> {
  return check(
    `a number from ${min} to ${max}`,
    (value) => typeof value === 'number' && value >= min && value <= max,
  );
}

/**
 * A duration in milliseconds from `min` to `max`. `max` is MAX_TIMER_MS by default, the
 * longest a Node.js timer waits (a longer one fires after 1 ms); `null` leaves it unbounded,
 * for a duration no timer waits. `whole` refuses fractions, for a value Redis takes.
 * @example milliseconds(1) // "a number of milliseconds from 1 to 2147483647"
 */
export function milliseconds(
  min: number,
  { max = MAX_TIMER_MS, whole = false }: { max?: number | null; whole?: boolean } = {},
): Check<number> {
  const upper = max ?? Number.MAX_SAFE_INTEGER;
  const range = max === null ? `>= ${min}` : `from ${min} to ${max}`;
  return check(
    `a ${whole ? 'whole ' : ''}number of milliseconds ${range}`,
    (value) =>
      typeof value === 'number' &&
      value >= min &&
      value <= upper &&
      (whole ? Number.isInteger(value) : true),
  );
}

/** `check`'s values or null, which means `meaning`. @example nullable(milliseconds(1)) */
export function nullable<T>(inner: Check<T>, meaning = 'no limit'): Check<T | null> {
  const { resolve } = inner;
  return check(
    `${inner.expected}, or null for ${meaning}`,
    (value) => value === null || inner.test(value),
    resolve && ((value, what, path) => (value === null ? null : resolve(value, what, path))),
  );
}

/** One of `values`. @example oneOf(['fixed', 'exponential']) */
export function oneOf<const T extends string>(values: readonly T[]): Check<T> {
  const quoted = values.map((value) => JSON.stringify(value));
  const last = quoted.pop();
  const expected = quoted.length > 0 ? `${quoted.join(', ')} or ${last}` : String(last);
  return check(expected, (value) => values.includes(value as T));
}

/** An object of options checked by `spec` (see {@link nested}, which also fills it in when absent). */
export function object<TSpec extends OptionSpec>(spec: TSpec): Check<ResolvedOptions<TSpec>> {
  return check(
    'an object',
    isRecord,
    (value, what, path) => walk(what, path, spec, value, {}) as ResolvedOptions<TSpec>,
  );
}

/** What absent options are read as: one shared object, as some checks run on every call. */
const NO_OPTIONS: Readonly<Record<string, unknown>> = Object.freeze({});

/** A non-array object. */
function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks `input` against `spec` and returns it with the defaults filled in; throws an
 * InvalidOptionError naming the first wrong, missing or unknown option. `undefined` input
 * is no options. `what` names the entry point: `createClient`.
 * @example const resolved = resolveOptions('createClient', CLIENT_OPTIONS, options);
 */
export function resolveOptions<TSpec extends OptionSpec>(
  what: string,
  spec: TSpec,
  input: unknown,
): ResolvedOptions<TSpec> {
  return walk(
    what,
    '',
    spec,
    input === undefined ? NO_OPTIONS : input,
    {},
  ) as ResolvedOptions<TSpec>;
}

/**
 * Checks `input` against `spec` as {@link resolveOptions} does, without building the resolved
 * options: nothing is allocated unless it throws. For options checked on every call.
 * @example checkOptions('submit', SUBMIT_OPTIONS, options);
 */
export function checkOptions(what: string, spec: OptionSpec, input: unknown): void {
  walk(what, '', spec, input === undefined ? NO_OPTIONS : input, undefined);
}

/**
 * Checks one option's value (undefined passes); allocates nothing unless it throws.
 * @example checkOption('call', 'timeout', DEADLINE, options.timeout);
 */
export function checkOption(
  what: string,
  path: string,
  check: Check<unknown>,
  value: unknown,
): void {
  if (value !== undefined && !check.test(value)) {
    throw optionError(what, path, check.expected, value);
  }
}

function walk(
  what: string,
  prefix: string,
  spec: OptionSpec,
  input: unknown,
  out: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  if (!isRecord(input)) throw optionError(what, prefix, 'an object', input);
  // Own keys only: an inherited one (a class's method, say) is not a typo of the caller's.
  for (const key in input) {
    if (Object.hasOwn(input, key) && !Object.hasOwn(spec, key)) {
      throw unknownOption(what, prefix, key, Object.keys(spec));
    }
  }
  for (const key in spec) {
    const { check, fallback, required } = spec[key] as Option<unknown>;
    const value = input[key];
    if (value === undefined) {
      if (required) throw optionError(what, join(prefix, key), check.expected, value);
      if (out) {
        out[key] =
          fallback !== undefined && check.resolve
            ? check.resolve(fallback, what, join(prefix, key))
            : fallback;
      }
    } else if (!check.test(value)) {
      throw optionError(what, join(prefix, key), check.expected, value);
    } else if (out) {
      out[key] = check.resolve ? check.resolve(value, what, join(prefix, key)) : value;
    } else if (check.resolve) {
      // Checking only: a nested object is still walked (its result is dropped). The specs
      // checked on every call have no nested options, so they still allocate nothing.
      check.resolve(value, what, join(prefix, key));
    }
  }
  return out;
}

function join(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}.${key}`;
}

/**
 * The InvalidOptionError of a wrong option, in the one form:
 * `createClient: option maxWorkers: expected an integer >= 1, received -1`. An empty
 * `path` means the options themselves. For problems a spec cannot say, such as one option
 * that must agree with another.
 * @example throw optionError('createQueue', 'defaultPriority', 'one of "high" or "low"', 'mid');
 */
export function optionError(
  what: string,
  path: string,
  expected: string,
  value: unknown,
  cause?: unknown,
): InvalidOptionError {
  const name = path === '' ? 'options' : `option ${path}`;
  return new InvalidOptionError(
    `${what}: ${name}: expected ${expected}, received ${describeValue(value)}`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * The InvalidOptionError of a wrong positional argument, in the options' form:
 * `process: argument handler: expected a function, received "run" (a string)`.
 * @example throw argumentError('collect', 'id', 'a job id (a string)', id);
 */
export function argumentError(
  what: string,
  name: string,
  expected: string,
  value: unknown,
): InvalidOptionError {
  return new InvalidOptionError(
    `${what}: argument ${name}: expected ${expected}, received ${describeValue(value)}`,
  );
}

/**
 * A value as an option error shows it: a number, boolean or null as written (`-1`), a
 * string quoted and said to be one (`"5" (a string)`, as it reads like 5), anything else
 * by its kind (`an array of 2 items`, `a Date object`, `a function`); undefined is `nothing`.
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'undefined':
      return 'nothing';
    case 'string':
      return `${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)} (a string)`;
    case 'bigint':
      return `${value}n (a bigint)`;
    case 'symbol':
      return `${String(value)} (a symbol)`;
    case 'function':
      return 'a function';
    case 'object':
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        return value.length === 0 ? 'an empty array' : `an array of ${value.length} items`;
      }
      return objectKind(value);
    default:
      return String(value);
  }
}

function objectKind(value: object): string {
  const prototype = Object.getPrototypeOf(value);
  if (prototype === null || prototype === Object.prototype) return 'an object';
  const name = (prototype as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? `a ${name} object` : 'an object';
}

function unknownOption(
  what: string,
  prefix: string,
  key: string,
  known: readonly string[],
): InvalidOptionError {
  const near = nearest(key, known);
  const hint = near === undefined ? '' : ` (did you mean ${join(prefix, near)}?)`;
  return new InvalidOptionError(`${what}: unknown option ${join(prefix, key)}${hint}`);
}

/**
 * The known name nearest to `name`, if it is near enough to be a typo: at most one edit
 * (insertion, deletion, substitution or swap of neighbours) away, two for names over five
 * characters, letter case aside.
 */
function nearest(name: string, known: readonly string[]): string | undefined {
  const limit = name.length > 5 ? 2 : 1;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of known) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance && d < name.length) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Damerau-Levenshtein distance (optimal string alignment). */
function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, (before[j - 2] as number) + 1);
      }
      current[j] = d;
    }
    before = previous;
    previous = current;
  }
  return previous[b.length] as number;
}
