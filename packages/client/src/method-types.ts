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
export type ArgsOf<TMethods, K extends keyof TMethods> = TMethods[K] extends (
  ...args: infer A
) => unknown
  ? A
  : unknown[];

/** What method `K` of a methods map resolves to. */
export type ResultOf<TMethods, K extends keyof TMethods> = TMethods[K] extends (
  ...args: never[]
) => infer R
  ? Awaited<R>
  : unknown;

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
