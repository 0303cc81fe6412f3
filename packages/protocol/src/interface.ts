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

/** The schemas of one method: a tuple of arguments and a result. */
export interface MethodSchema {
  args: z.ZodType<readonly unknown[]>;
  result: z.ZodType;
}

/** A record of method schemas. */
export type InterfaceSchema = Record<string, MethodSchema>;

type AsArgs<T> = T extends readonly unknown[] ? T : never;

/** What a client passes to method `K`. */
export type MethodArgs<TSchema extends InterfaceSchema, K extends keyof TSchema> = AsArgs<
  z.input<TSchema[K]['args']>
>;
/** What a client receives from method `K`. */
export type MethodResult<TSchema extends InterfaceSchema, K extends keyof TSchema> = z.output<
  TSchema[K]['result']
>;

/** The typed methods of a checkout on this interface. */
export type ClientMethods<TSchema extends InterfaceSchema> = {
  [K in keyof TSchema]: (...args: MethodArgs<TSchema, K>) => Promise<MethodResult<TSchema, K>>;
};

/** `ctx.call` for handlers of this interface. */
export type CascadeCall<TSchema extends InterfaceSchema> = <K extends keyof TSchema & string>(
  method: K,
  ...args: MethodArgs<TSchema, K>
) => Promise<MethodResult<TSchema, K>>;

type HandlerArgs<M extends MethodSchema> = AsArgs<z.output<M['args']>>;

/** The handler of one method: parsed arguments, then the context; returns the result. */
export type Handler<TSchema extends InterfaceSchema, K extends keyof TSchema> = (
  ...args: [...HandlerArgs<TSchema[K]>, ctx: HandlerContext<CascadeCall<TSchema>>]
) => z.input<TSchema[K]['result']> | Promise<z.input<TSchema[K]['result']>>;

/** One handler per method of the interface. */
export type Handlers<TSchema extends InterfaceSchema> = {
  [K in keyof TSchema]: Handler<TSchema, K>;
};

/** The JSON description of an interface that a worker sends in `hello`. */
export interface InterfaceDescription {
  methods: Record<string, { args: unknown; result: unknown }>;
}

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
  /** The schemas, as given. */
  readonly schema: TSchema;
  /** Names of the methods. */
  readonly methods: readonly (keyof TSchema & string)[];
  /** True when `name` is an own method of the interface (never a prototype name). */
  has(name: unknown): name is keyof TSchema & string;
  /** Throws an UnknownMethodError unless `name` is a method. */
  assertMethod(name: string | null): asserts name is keyof TSchema & string;
  /** Throws a ValidationError (`INVALID_ARGS`) unless `args` fit the method; returns them parsed. */
  parseArgs(method: string, args: readonly unknown[]): unknown[];
  /** Throws a ValidationError (`INVALID_RESULT`) unless `value` fits; returns it parsed. */
  parseResult(method: string, value: unknown): unknown;
  /** The JSON Schema description of every method. */
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

/** `schema.toJSONSchema()` is `z.toJSONSchema(schema)` as a method of the schema. */
function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): unknown {
  try {
    return schema.toJSONSchema({ unrepresentable: 'any', io });
  } catch {
    return {};
  }
}

/**
 * Defines an interface from one `{ args, result }` pair of zod schemas per method.
 *
 * @example
 * const hasher = defineInterface({
 *   hash: { args: z.tuple([z.string()]), result: z.string() },
 *   verify: { args: z.tuple([z.string(), z.string()]), result: z.boolean() },
 * });
 */
export function defineInterface<const TSchema extends InterfaceSchema>(
  schema: TSchema,
): Interface<TSchema> {
  const methods = Object.keys(schema) as (keyof TSchema & string)[];
  for (const name of methods) {
    const entry = schema[name] as Partial<MethodSchema> | undefined;
    if (!isZodSchema(entry?.args) || !isZodSchema(entry.result)) {
      throw new TypeError(
        `defineInterface: method ${JSON.stringify(name)} needs { args: z.tuple([...]), result: schema }`,
      );
    }
  }
  const has = (name: unknown): name is keyof TSchema & string =>
    typeof name === 'string' && Object.hasOwn(schema, name);
  const methodOf = (name: string): MethodSchema => {
    if (!has(name)) throw new UnknownMethodError(name);
    return schema[name] as MethodSchema;
  };
  let description: InterfaceDescription | undefined;

  const iface: Interface<TSchema> = {
    [INTERFACE_BRAND]: true,
    schema,
    methods,
    has,
    assertMethod(name) {
      if (!has(name)) throw new UnknownMethodError(name);
    },
    parseArgs(method, args) {
      const parsed = methodOf(method).args.safeParse(args);
      if (parsed.success) return parsed.data as unknown[];
      throw new ValidationError(
        'INVALID_ARGS',
        `invalid arguments for ${method}: ${describeIssue(parsed.error)}`,
        { data: { issues: parsed.error.issues.map(({ path, message }) => ({ path, message })) } },
      );
    },
    parseResult(method, value) {
      const parsed = methodOf(method).result.safeParse(value);
      if (parsed.success) return parsed.data;
      throw new ValidationError(
        'INVALID_RESULT',
        `invalid result of ${method}: ${describeIssue(parsed.error)}`,
        { data: { issues: parsed.error.issues.map(({ path, message }) => ({ path, message })) } },
      );
    },
    describe() {
      if (!description) {
        const described: InterfaceDescription['methods'] = {};
        for (const name of methods) {
          const entry = schema[name] as MethodSchema;
          described[name] = {
            args: toJsonSchema(entry.args, 'input'),
            result: toJsonSchema(entry.result, 'output'),
          };
        }
        description = { methods: described };
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
