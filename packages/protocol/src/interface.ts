/**
 * `defineInterface`: one value, shared by both ends, that says which methods a server has,
 * what arguments and results they take, and gives the TypeScript types of the typed client
 * and of the handlers, the validators, and a JSON description for `hello`.
 *
 * On every hop the sender checks a value against its schema and sends it as it is; the
 * receiver parses it and uses the parsed output. So a transform runs once, on receipt.
 *
 * zod is imported for its types only: everything here goes through the methods of the
 * schemas the caller made, so a process that never defines an interface never loads zod.
 *
 * @module
 */
import type { z } from 'zod';
import { UnknownMethodError, ValidationError } from './errors.js';
import type { HandlerContext } from './handler-context.js';
import { type InterfaceHash, interfaceHash } from './interface-hash.js';
import type { StreamMethod } from './task-stream.js';

/** The schemas of a method that returns one result: a tuple of arguments and the result. */
export interface UnaryMethodSchema {
  args: z.ZodType<readonly unknown[]>;
  result: z.ZodType;
  yields?: undefined;
  /**
   * What the method does, for people: it goes into the interface's description (`hello`)
   * and onto the method in generated types. Without it, the description of `args` (a
   * `z.tuple([...]).describe('...')`) is taken, if it has one.
   * @default the description of `args`, or none
   * @example { args: z.tuple([z.string()]), result: z.string(), description: 'Hashes a password' }
   */
  description?: string;
}

/**
 * The schemas of a method that streams: a tuple of arguments, each item it yields, and the
 * generator's return value (`result`, none when left out).
 */
export interface StreamMethodSchema {
  args: z.ZodType<readonly unknown[]>;
  yields: z.ZodType;
  result?: z.ZodType;
  /**
   * What the method does, for people (see {@link UnaryMethodSchema.description}).
   * @default the description of `args`, or none
   * @example { args: z.tuple([z.string()]), yields: z.string(), description: 'Follows a log file' }
   */
  description?: string;
}

/** The schemas of one method. */
export type MethodSchema = UnaryMethodSchema | StreamMethodSchema;

/** A record of method schemas. */
export type InterfaceSchema = Record<string, MethodSchema>;

type AsArgs<T> = T extends readonly unknown[] ? T : never;

/** The result schema of a method; a stream without one returns nothing. */
type ResultSchemaOf<M> = M extends { result: infer R extends z.ZodType } ? R : z.ZodVoid;

/** The names of the methods of an interface that stream (declared with `yields`). */
export type StreamMethodNames<TSchema extends InterfaceSchema> = {
  [K in keyof TSchema]: TSchema[K] extends { yields: z.ZodType } ? K : never;
}[keyof TSchema] &
  string;

/** The names of the methods of an interface that return one result. */
export type UnaryMethodNames<TSchema extends InterfaceSchema> = Exclude<
  keyof TSchema & string,
  StreamMethodNames<TSchema>
>;

/** What a client passes to method `K`. */
export type MethodArgs<TSchema extends InterfaceSchema, K extends keyof TSchema> = AsArgs<
  z.input<TSchema[K]['args']>
>;
/** What a client receives from method `K` (for a stream: the generator's return value). */
export type MethodResult<TSchema extends InterfaceSchema, K extends keyof TSchema> = z.output<
  ResultSchemaOf<TSchema[K]>
>;
/** What each item of stream `K` is, as a client receives it. */
export type MethodItem<
  TSchema extends InterfaceSchema,
  K extends keyof TSchema,
> = TSchema[K] extends {
  yields: infer Y extends z.ZodType;
}
  ? z.output<Y>
  : never;

/** The typed methods of a checkout on this interface. */
export type ClientMethods<TSchema extends InterfaceSchema> = {
  [K in keyof TSchema]: TSchema[K] extends { yields: z.ZodType }
    ? StreamMethod<MethodArgs<TSchema, K>, MethodItem<TSchema, K>, MethodResult<TSchema, K>>
    : (...args: MethodArgs<TSchema, K>) => Promise<MethodResult<TSchema, K>>;
};

/** `ctx.call` for handlers of this interface: another of its (non-streaming) methods. */
export type CascadeCall<TSchema extends InterfaceSchema> = <K extends UnaryMethodNames<TSchema>>(
  method: K,
  ...args: MethodArgs<TSchema, K>
) => Promise<MethodResult<TSchema, K>>;

type HandlerArgs<M extends MethodSchema> = AsArgs<z.output<M['args']>>;

/**
 * What a streaming handler returns: an async generator (or any async iterable) of the
 * items' inputs, whose return value is the result's input.
 */
export interface ItemProducer<TItem, TResult> {
  [Symbol.asyncIterator](): AsyncIterator<TItem, TResult, undefined>;
}

/** What the handler of method `M` returns. */
type HandlerReturn<M extends MethodSchema> = M extends { yields: infer Y extends z.ZodType }
  ?
      | ItemProducer<z.input<Y>, z.input<ResultSchemaOf<M>>>
      | Promise<ItemProducer<z.input<Y>, z.input<ResultSchemaOf<M>>>>
  : z.input<ResultSchemaOf<M>> | Promise<z.input<ResultSchemaOf<M>>>;

/**
 * The handler of one method: parsed arguments, then the context; returns the result, or
 * for a streaming method an async generator of its items.
 */
export type Handler<TSchema extends InterfaceSchema, K extends keyof TSchema> = (
  ...args: [...HandlerArgs<TSchema[K]>, ctx: HandlerContext<CascadeCall<TSchema>>]
) => HandlerReturn<TSchema[K]>;

/** One handler per method of the interface. */
export type Handlers<TSchema extends InterfaceSchema> = {
  [K in keyof TSchema]: Handler<TSchema, K>;
};

/**
 * A JSON Schema (draft-07) of a value, as zod's `toJSONSchema()` gives it. `{}` accepts
 * anything: zod gives it for what JSON Schema cannot say (a date, a transform's output).
 */
export type JsonSchema = { [keyword: string]: unknown };

/** One method in an {@link InterfaceDescription}. */
export interface MethodDescription {
  /** What the method does: its `description`, or its `args`' description; absent without one. */
  description?: string;
  /**
   * The arguments, as the caller gives them (zod's input): an array schema whose `items`
   * is an array (the tuple's elements, draft-07's tuple form), `minItems` the number of
   * arguments that are not optional, and `additionalItems` the rest element (or `false`).
   */
  args: JsonSchema;
  /** The result, as the caller receives it (zod's output). Absent for a stream declared without one. */
  result?: JsonSchema;
  /** For a stream: each item, as the caller receives it (zod's output). */
  yields?: JsonSchema;
}

/**
 * The JSON description of an interface that a worker sends in `hello`, and what
 * `taskpool types` generates types from.
 */
export interface InterfaceDescription {
  /** The interface's name (`defineInterface`'s `name` option, `'Interface'` by default). */
  name: string;
  /** Each method's JSON Schemas (draft-07), in the order the interface lists them. */
  methods: Record<string, MethodDescription>;
  /**
   * `sha256:` and the hex sha256 of the canonical JSON of the rest of the description (keys
   * sorted at every depth, no whitespace): it changes when any schema, method, description
   * or the name changes. See {@link interfaceHash}.
   */
  hash: InterfaceHash;
}

/** Options of {@link defineInterface}. */
export interface DefineInterfaceOptions {
  /**
   * The interface's name: in its description (`hello`), and the name `taskpool types`
   * gives the generated interface unless told another.
   * @default 'Interface'
   * @example defineInterface({ ... }, { name: 'Hasher' })
   */
  name?: string;
}

/** The name of an interface defined without one. */
const DEFAULT_INTERFACE_NAME = 'Interface';

/** An interface and the handlers that implement it, ready for a server. */
export interface Implementation<TSchema extends InterfaceSchema = InterfaceSchema> {
  readonly interface: Interface<TSchema>;
  readonly handlers: Handlers<TSchema>;
}

/** An implementation of any interface, as servers accept it. */
// biome-ignore lint/suspicious/noExplicitAny: the handlers of every schema must be accepted, and function parameters are contravariant
export type AnyImplementation = Implementation<any>;

const INTERFACE_BRAND = Symbol.for('taskpool.interface');

/** The value `defineInterface` returns. */
export interface Interface<TSchema extends InterfaceSchema = InterfaceSchema> {
  readonly [INTERFACE_BRAND]: true;
  /** The interface's name (`'Interface'` unless `defineInterface` was given one). */
  readonly name: string;
  /** The schemas, as given. */
  readonly schema: TSchema;
  /** Names of the methods. */
  readonly methods: readonly (keyof TSchema & string)[];
  /** Names of the methods that stream (declared with `yields`). */
  readonly streams: readonly (keyof TSchema & string)[];
  /** True when `name` is a method that streams. */
  isStream(name: unknown): boolean;
  /** True when `name` is an own method of the interface (never a prototype name). */
  has(name: unknown): name is keyof TSchema & string;
  /** Throws an UnknownMethodError unless `name` is a method. */
  assertMethod(name: string | null): asserts name is keyof TSchema & string;
  /**
   * Throws a ValidationError (`INVALID_ARGS`) unless `args` fit the method; returns them
   * parsed, with optional arguments left out as `undefined` (a tuple's full length).
   */
  parseArgs(method: string, args: readonly unknown[]): unknown[];
  /**
   * Throws a ValidationError (`INVALID_RESULT`) unless `value` fits; returns it parsed. A
   * stream declared without `result` returns nothing: `undefined` (or `null`, its wire form).
   */
  parseResult(method: string, value: unknown): unknown;
  /** Throws a ValidationError (`INVALID_RESULT`) unless `value` fits the method's `yields`. */
  parseItem(method: string, value: unknown): unknown;
  /**
   * The interface as JSON: its name, each method's JSON Schemas (draft-07) and description,
   * and a hash of the whole. Made once, on the first call.
   */
  describe(): InterfaceDescription;
  /** Pairs the interface with its handlers, type-checked. */
  implement(handlers: Handlers<TSchema>): Implementation<TSchema>;
}

/** True for a value made by {@link defineInterface}. */
export function isInterface(value: unknown): value is Interface {
  return typeof value === 'object' && value !== null && INTERFACE_BRAND in value;
}

/** True for a value made by `Interface.implement()`. */
export function isImplementation(value: unknown): value is Implementation {
  return (
    typeof value === 'object' &&
    value !== null &&
    isInterface((value as { interface?: unknown }).interface) &&
    typeof (value as { handlers?: unknown }).handlers === 'object'
  );
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.length > 0 ? `[${issue.path.map(String).join('][')}]: ` : '';
  return `${path}${issue.message}`;
}

/** A zod (classic) schema: what `instanceof z.ZodType` says, without importing zod. */
function isZodSchema(value: unknown): value is z.ZodType {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { safeParse?: unknown }).safeParse === 'function' &&
    typeof (value as { _zod?: unknown })._zod === 'object'
  );
}

/**
 * How many arguments a method takes when its `args` schema is a tuple without a rest
 * element (optional ones included), read from the zod definition; otherwise undefined.
 */
export function argumentCount(
  iface: Pick<Interface, 'has' | 'schema'>,
  method: string,
): number | undefined {
  if (!iface.has(method)) return undefined;
  const args = (iface.schema[method] as MethodSchema).args as unknown as {
    _zod?: { def?: { type?: string; items?: unknown; rest?: unknown } };
  };
  const def = args._zod?.def;
  return def?.type === 'tuple' && Array.isArray(def.items) && !def.rest
    ? def.items.length
    : undefined;
}

/**
 * `schema.toJSONSchema()` is `z.toJSONSchema(schema)` as a method of the schema. Draft-07
 * rather than zod's default 2020-12: its tuple form (`items: [...]`) is the one most tools
 * read, code generators among them, where 2020-12's `prefixItems` is still often ignored.
 */
function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  try {
    return schema.toJSONSchema({ target: 'draft-07', unrepresentable: 'any', io }) as JsonSchema;
  } catch {
    return {};
  }
}

/** The description of a method: its own, or its arguments' (read from their JSON Schema). */
function methodDescription(entry: MethodSchema, args: JsonSchema): string | undefined {
  if (entry.description !== undefined) return entry.description;
  return typeof args.description === 'string' ? args.description : undefined;
}

/**
 * Defines an interface from one `{ args, result }` pair of zod schemas per method (for a
 * stream, `{ args, yields, result? }`), each with an optional `description`.
 *
 * @example
 * const hasher = defineInterface(
 *   {
 *     hash: { args: z.tuple([z.string()]), result: z.string() },
 *     verify: { args: z.tuple([z.string(), z.string()]), result: z.boolean() },
 *   },
 *   { name: 'Hasher' },
 * );
 */
export function defineInterface<const TSchema extends InterfaceSchema>(
  schema: TSchema,
  options: DefineInterfaceOptions = {},
): Interface<TSchema> {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('defineInterface: options must be an object, such as { name: "Hasher" }');
  }
  const interfaceName = options.name ?? DEFAULT_INTERFACE_NAME;
  if (typeof interfaceName !== 'string' || interfaceName === '') {
    throw new TypeError('defineInterface: option name must be a non-empty string');
  }
  const methods = Object.keys(schema) as (keyof TSchema & string)[];
  for (const method of methods) {
    const entry = schema[method] as Partial<StreamMethodSchema> | undefined;
    const isStream = entry?.yields !== undefined;
    // A stream may leave out its result; anything given must be a schema.
    const resultRequired = !isStream || entry?.result !== undefined;
    if (
      !isZodSchema(entry?.args) ||
      (isStream && !isZodSchema(entry.yields)) ||
      (resultRequired && !isZodSchema(entry.result))
    ) {
      throw new TypeError(
        `defineInterface: method ${JSON.stringify(method)} needs { args: z.tuple([...]), result: schema }, or for a stream { args, yields: schema, result?: schema }`,
      );
    }
    if (entry.description !== undefined && typeof entry.description !== 'string') {
      throw new TypeError(
        `defineInterface: method ${JSON.stringify(method)}: description must be a string`,
      );
    }
  }
  const streams = methods.filter((name) => (schema[name] as MethodSchema).yields !== undefined);
  const has = (name: unknown): name is keyof TSchema & string =>
    typeof name === 'string' && Object.hasOwn(schema, name);
  const methodOf = (name: string): MethodSchema => {
    if (!has(name)) throw new UnknownMethodError(name);
    return schema[name] as MethodSchema;
  };
  const invalid = (code: 'INVALID_ARGS' | 'INVALID_RESULT', what: string, error: z.ZodError) =>
    new ValidationError(code, `${what}: ${describeIssue(error)}`, {
      data: { issues: error.issues.map(({ path, message }) => ({ path, message })) },
    });
  let description: InterfaceDescription | undefined;
  /** Each method's `argumentCount`, read from its schema once (every call needs it). */
  const counts = new Map<string, number | undefined>();
  const countOf = (method: string): number | undefined => {
    if (!counts.has(method)) counts.set(method, argumentCount(iface, method));
    return counts.get(method);
  };

  const iface: Interface<TSchema> = {
    [INTERFACE_BRAND]: true,
    name: interfaceName,
    schema,
    methods,
    streams,
    isStream: (name) => has(name) && (schema[name] as MethodSchema).yields !== undefined,
    has,
    assertMethod(name) {
      if (!has(name)) throw new UnknownMethodError(name);
    },
    parseArgs(method, args) {
      const parsed = methodOf(method).args.safeParse(args);
      if (parsed.success) {
        // Optional arguments left out are passed as undefined, so that what follows the
        // arguments (the handler's context) is always in the same place.
        const data = parsed.data as unknown[];
        const count = countOf(method);
        if (count !== undefined && data.length < count) {
          const padded = [...data];
          while (padded.length < count) padded.push(undefined);
          return padded;
        }
        return data;
      }
      throw invalid('INVALID_ARGS', `invalid arguments for ${method}`, parsed.error);
    },
    parseResult(method, value) {
      const result = methodOf(method).result;
      if (result === undefined) {
        // A stream declared without a result returns nothing.
        if (value === undefined || value === null) return undefined;
        throw new ValidationError(
          'INVALID_RESULT',
          `invalid result of ${method}: it declares no result, but the generator returned ${typeof value}`,
        );
      }
      const parsed = result.safeParse(value);
      if (parsed.success) return parsed.data;
      throw invalid('INVALID_RESULT', `invalid result of ${method}`, parsed.error);
    },
    parseItem(method, value) {
      const yields = methodOf(method).yields;
      if (yields === undefined) {
        throw new ValidationError(
          'INVALID_RESULT',
          `${method} does not stream: it declares no yields`,
        );
      }
      const parsed = yields.safeParse(value);
      if (parsed.success) return parsed.data;
      throw invalid('INVALID_RESULT', `invalid item of ${method}`, parsed.error);
    },
    describe() {
      if (!description) {
        const described: InterfaceDescription['methods'] = {};
        for (const method of methods) {
          const entry = schema[method] as MethodSchema;
          const args = toJsonSchema(entry.args, 'input');
          const about = methodDescription(entry, args);
          described[method] = {
            ...(about !== undefined ? { description: about } : {}),
            args,
            // A stream declared without a result has none to describe: `{}` would say it
            // returns anything.
            ...(entry.result ? { result: toJsonSchema(entry.result, 'output') } : {}),
            ...(entry.yields ? { yields: toJsonSchema(entry.yields, 'output') } : {}),
          };
        }
        const unhashed = { name: interfaceName, methods: described };
        description = { ...unhashed, hash: interfaceHash(unhashed) };
      }
      return description;
    },
    implement(handlers) {
      for (const name of methods) {
        if (typeof handlers[name] !== 'function') {
          throw new TypeError(`implement: method ${JSON.stringify(name)} has no handler function`);
        }
      }
      return { interface: iface, handlers };
    },
  };
  return iface;
}
