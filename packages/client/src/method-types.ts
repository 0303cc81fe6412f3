/**
 * Types of a checkout's methods: from a zod interface (`ClientMethods`), from a record of
 * handlers (its type only, no schema: `MethodsOf<typeof handlers>`), or untyped.
 *
 * @module
 */
import type { HandlerContext, StreamArgsOf, StreamMethod, TaskStream } from '@taskpool/protocol';

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

/** True for the type of a method that returns a stream. */
type IsStream<TMethod> = TMethod extends (...args: never[]) => TaskStream<unknown, unknown>
  ? true
  : false;

/**
 * The method names a `call` takes: the interface's methods that do not stream, or any name
 * and `null` (a one-function interface) when the methods are untyped.
 */
export type MethodName<TMethods> = string extends keyof TMethods
  ? string | null
  : { [K in keyof TMethods]: IsStream<TMethods[K]> extends true ? never : K }[keyof TMethods] &
      string;

/** The method names a `stream` takes: the interface's streaming methods, or any name. */
export type StreamName<TMethods> = string extends keyof TMethods
  ? string | null
  : { [K in keyof TMethods]: IsStream<TMethods[K]> extends true ? K : never }[keyof TMethods] &
      string;

/** The arguments of a `stream` of method `K`, as a (readonly) array. */
type StreamCallArgs<TMethods, K> = K extends keyof TMethods
  ? Readonly<StreamArgsOf<TMethods[K]>>
  : readonly unknown[];

/** What follows the method name in a `stream`: its arguments (optional when it takes none), then options. */
export type StreamRest<TMethods, K, TOptions> =
  [] extends StreamCallArgs<TMethods, K>
    ? [args?: StreamCallArgs<TMethods, K>, options?: TOptions]
    : [args: StreamCallArgs<TMethods, K>, options?: TOptions];

/** The stream a `stream` of method `K` returns. */
export type StreamOf<TMethods, K> = K extends keyof TMethods
  ? TMethods[K] extends (...args: never[]) => infer S
    ? S extends TaskStream<unknown, unknown>
      ? S
      : TaskStream
    : TaskStream
  : TaskStream;

/** The arguments of a `call` of method `K`, as a (readonly) array. */
export type CallArgs<TMethods, K> = K extends keyof TMethods
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
 * The stream an async generator handler gives its client. Only `async function*` handlers
 * are listed as streams in the worker's hello, so only they are typed as streams; a
 * handler that returns some other async iterable is read with `co.stream()`.
 */
type StreamFrom<TArgs extends unknown[], R> = 0 extends 1 & R
  ? never // any: not known to stream
  : [R] extends [never]
    ? never // a handler that never returns
    : R extends AsyncGenerator<infer Y, infer Result, never>
      ? StreamMethod<TArgs, Y, Result, false>
      : never;

/**
 * The client-side methods of a record of handlers: each takes the handler's arguments
 * (without the trailing context) and returns a promise of its awaited result; an async
 * generator handler gives a method that returns a `TaskStream` (give it options with
 * `co.stream()`). A handler that returns an async iterable without being an
 * `async function*` is typed as a call here, which the worker refuses (`STREAM_REQUIRED`):
 * read it with `co.stream()` on an untyped client.
 *
 * @example
 * const client = createClient<MethodsOf<typeof handlers>>({ connect });
 */
export type MethodsOf<THandlers> = {
  [K in keyof THandlers & string]: THandlers[K] extends (...args: infer A) => infer R
    ? [StreamFrom<WithoutContext<A>, R>] extends [never]
      ? (...args: WithoutContext<A>) => Promise<Awaited<R>>
      : StreamFrom<WithoutContext<A>, R>
    : never;
};
