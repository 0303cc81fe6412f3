/**
 * Turns whatever was given as the interface into one `invoke` function that validates
 * arguments, runs the handler and validates the result. Only own properties of a handler
 * record are methods: `constructor`, `__proto__`, `toString` and the like are unknown.
 *
 * @module
 */
import {
  type HandlerContext,
  type Interface,
  isImplementation,
  UnknownMethodError,
  ValidationError,
} from '@taskpool/protocol';
import { findNonJson } from '@taskpool/protocol/internal';
import type { ServerInterface } from './worker-definition.js';

/** Runs one call: returns the result (or a promise of it), or throws. */
type Invoke = (method: string | null, args: unknown[], ctx: HandlerContext) => unknown;

/** Checks a handler's result (or a stream's item) before it is sent; returns the value to send. */
type CheckResult = (method: string | null, value: unknown) => unknown;

export interface Dispatcher {
  invoke: Invoke;
  checkResult: CheckResult;
  /** Checks one item a streaming handler yielded. */
  checkItem: CheckResult;
  /** The JSON description for `hello`, or null when there is no schema. */
  description: Record<string, unknown> | null;
  /** The methods known to stream, for `hello`: declared with `yields`, or async generators. */
  streams: string[];
  /** The interface's name, for traces; undefined without an interface. */
  interfaceName: string | undefined;
}

/** True for an `async function*`: a handler that streams whatever the interface says. */
function isAsyncGeneratorFunction(value: unknown): boolean {
  return Object.prototype.toString.call(value) === '[object AsyncGeneratorFunction]';
}

function checkJson(what: 'INVALID_ARGS' | 'INVALID_RESULT', value: unknown, label: string): void {
  const reason = findNonJson(value);
  if (reason) throw new ValidationError(what, `${label}: ${reason}`);
}

export function createDispatcher(target: ServerInterface): Dispatcher {
  if (typeof target === 'function') {
    return {
      invoke: (method, args) => (target as (...a: unknown[]) => unknown)(method, ...args),
      checkResult: (method, value) => {
        checkJson('INVALID_RESULT', value, `result of ${method ?? '->()'}`);
        return value;
      },
      checkItem: (method, value) => {
        checkJson('INVALID_RESULT', value, `item of ${method ?? '->()'}`);
        return value;
      },
      description: null,
      streams: [],
      interfaceName: undefined,
    };
  }
  const iface: Interface | undefined = isImplementation(target) ? target.interface : undefined;
  const handlers = (isImplementation(target) ? target.handlers : target) as Record<
    string,
    (...args: unknown[]) => unknown
  >;
  const handlerOf = (method: string | null) => {
    if (method === null || !Object.hasOwn(handlers, method)) throw new UnknownMethodError(method);
    const handler = handlers[method];
    if (typeof handler !== 'function') throw new UnknownMethodError(method);
    return handler;
  };
  return {
    invoke(method, args, ctx) {
      const handler = handlerOf(method);
      const parsed = iface ? iface.parseArgs(method as string, args) : args;
      return handler(...parsed, ctx);
    },
    checkResult(method, value) {
      if (iface) iface.parseResult(method as string, value);
      checkJson('INVALID_RESULT', value, `result of ${method}`);
      return value;
    },
    checkItem(method, value) {
      if (iface?.isStream(method)) iface.parseItem(method as string, value);
      checkJson('INVALID_RESULT', value, `item of ${method}`);
      return value;
    },
    description: iface ? (iface.describe() as unknown as Record<string, unknown>) : null,
    streams: Object.keys(handlers).filter(
      (name) => iface?.isStream(name) || isAsyncGeneratorFunction(handlers[name]),
    ),
    interfaceName: iface?.name,
  };
}
