/**
 * Types of a checkout's methods: from a zod interface (`ClientMethods`), from a record of
 * handlers (its type only, no schema: `MethodsOf<typeof handlers>`), or untyped.
 *
 * @module
 */
import type { HandlerContext } from '@taskpool/protocol';

/** Any method name, any arguments, an unknown result: a client without types. */
export type UntypedMethods = Record<string, (...args: unknown[]) => Promise<unknown>>;

/** A map of remote methods, as a checkout exposes them. */
export type RemoteMethods = object;

/** The arguments of method `K` of a methods map. */
type ArgsOf<TMethods, K extends keyof TMethods> = TMethods[K] extends (...args: infer A) => unknown
  ? A
  : unknown[];

/** What method `K` of a methods map resolves to. */
type ResultOf<TMethods, K extends keyof TMethods> = TMethods[K] extends (
  ...args: never[]
) => infer R
  ? Awaited<R>
  : unknown;

/**
 * The method names a `call` takes: the interface's, or any name and `null` (a one-function
 * interface) when the methods are untyped.
 */
export type MethodName<TMethods> = string extends keyof TMethods
  ? string | null
  : keyof TMethods & string;

/** The arguments of a `call` of method `K`, as a (readonly) array. */
type CallArgs<TMethods, K> = K extends keyof TMethods
  ? Readonly<ArgsOf<TMethods, K>>
  : readonly unknown[];

/** What a `call` of method `K` resolves to. */
export type CallResult<TMethods, K> = K extends keyof TMethods ? ResultOf<TMethods, K> : unknown;

/** What follows the method name in a `call`: its arguments (optional when it takes none), then options. */
export type CallRest<TMethods, K, TOptions> =
  [] extends CallArgs<TMethods, K>
    ? [args?: CallArgs<TMethods, K>, options?: TOptions]
    : [args: CallArgs<TMethods, K>, options?: TOptions];

type WithoutContext<TArgs extends unknown[]> = TArgs extends [...infer Rest, infer Last]
  ? [Last] extends [HandlerContext]
    ? Rest
    : TArgs
  : TArgs;

/**
 * The client-side methods of a record of handlers: each takes the handler's arguments
 * (without the trailing context) and returns a promise of its awaited result.
 *
 * @example
 * const client = createClient<MethodsOf<typeof handlers>>({ connect });
 */
export type MethodsOf<THandlers> = {
  [K in keyof THandlers & string]: THandlers[K] extends (...args: infer A) => infer R
    ? (...args: WithoutContext<A>) => Promise<Awaited<R>>
    : never;
};
