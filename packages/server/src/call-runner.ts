/**
 * Runs one call in a worker and says how it ended: waits for setup when it has not
 * succeeded yet, invokes the handler (a synchronous one is answered without a promise in
 * between), and checks its result. A call whose deadline passed (before it started, or
 * while its handler ran and then failed) ends in `TIMEOUT`, whichever way the handler
 * noticed: the client gives up on it at the same moment. A handler that returns an async
 * iterable streams: the connection reads it (see stream-producer.ts). It never touches the
 * socket.
 *
 * @module
 */
import {
  type DeferredLog,
  ForbiddenError,
  StreamRequiredError,
  TaskpoolError,
} from '@taskpool/protocol';
import {
  type CallMessage,
  type ErrorMessage,
  type ResultMessage,
  toWire,
} from '@taskpool/protocol/internal';
import { type CallContext, runInContext } from './call-context.js';
import { handlersTraced, traceHandler } from './call-tracing.js';
import type { Dispatcher } from './dispatcher.js';
import type { SetupRunner } from './setup-runner.js';
import { isAsyncIterable, isThenable } from './value-kinds.js';
import type { WorkerDefinition } from './worker-definition.js';

/** How a call or stream ended, before the connection adds its failure count and log. */
export type CallEnd =
  | Pick<ResultMessage, 'type' | 'id' | 'value'>
  | Pick<ErrorMessage, 'type' | 'id' | 'error'>;

/**
 * What running a call gave: how it ended, or (`stream`) the async iterable a streaming
 * handler returned, for the connection to read as the client grants credit.
 */
export type CallOutcome = CallEnd | { type: 'stream'; id: number; items: AsyncIterable<unknown> };

/** Receives how a call ended, with its context. */
type FinishCall = (outcome: CallOutcome, ctx: CallContext) => void;

/**
 * The TIMEOUT of a call past its deadline. `data.ran` says whether its handler had started:
 * a client that pipelines calls on this worker tells from it that one never ran.
 */
const deadlinePassed = (ran: boolean) =>
  new TaskpoolError(
    'TIMEOUT',
    ran ? 'the call deadline passed while it ran' : 'the call deadline passed before it ran',
    { data: { ran } },
  );

/** Returns a generator that will not be read, so that its `finally` (if it started) runs. */
function closeUnread(items: AsyncIterable<unknown>): void {
  const generator = items as Partial<AsyncIterator<unknown>>;
  if (typeof generator.return === 'function') {
    Promise.resolve()
      .then(() => generator.return?.())
      .catch(() => {});
  }
}

export function failed(call: Pick<CallMessage, 'id'>, error: unknown): CallEnd {
  return { type: 'error', id: call.id, error: toWire(error) };
}

/** The verdict of an `authorize` hook that threw: refused, and said on stderr. */
function refusedByThrow(error: unknown): false {
  process.stderr.write(
    `taskpool worker (pid ${process.pid}): authorize threw, so the call is refused: ${(error as Error)?.stack ?? String(error)}\n`,
  );
  return false;
}

export class CallRunner {
  readonly #dispatcher: Dispatcher;
  readonly #setup: SetupRunner;
  readonly #authorize: WorkerDefinition['authorize'];

  constructor(
    dispatcher: Dispatcher,
    setup: SetupRunner,
    authorize?: WorkerDefinition['authorize'],
  ) {
    this.#dispatcher = dispatcher;
    this.#setup = setup;
    this.#authorize = authorize;
  }

  /** The setup log not yet sent, for the first call's context. */
  takeSetupLog(): DeferredLog | undefined {
    return this.#setup.takeLog();
  }

  /**
   * Runs `call`; `finish` is called once, synchronously when the handler is. (One
   * function for every call, so that a call costs no closure.) `now` is `Date.now()`.
   */
  run(call: CallMessage, ctx: CallContext, finish: FinishCall, now: number): void {
    if (call.deadline !== undefined && now >= call.deadline) {
      finish(failed(call, deadlinePassed(false)), ctx);
      return;
    }
    const authorize = this.#authorize;
    if (authorize === undefined) {
      this.#authorized(call, ctx, finish);
      return;
    }
    let verdict: unknown;
    try {
      verdict = authorize(ctx.peer, call.method);
    } catch (error) {
      verdict = refusedByThrow(error);
    }
    if (isThenable(verdict)) {
      verdict.then(
        (allowed) => this.#judged(allowed, call, ctx, finish),
        (error: unknown) => this.#judged(refusedByThrow(error), call, ctx, finish),
      );
    } else {
      this.#judged(verdict, call, ctx, finish);
    }
  }

  /** Only `true` lets a call through: a hook that returns nothing has refused. */
  #judged(verdict: unknown, call: CallMessage, ctx: CallContext, finish: FinishCall): void {
    if (verdict !== true) finish(failed(call, new ForbiddenError(call.method)), ctx);
    else if (ctx.expired) finish(failed(call, deadlinePassed(false)), ctx);
    else if (ctx.aborted) finish(failed(call, ctx.abortReason), ctx);
    else this.#authorized(call, ctx, finish);
  }

  #authorized(call: CallMessage, ctx: CallContext, finish: FinishCall): void {
    const setup = this.#setup;
    if (setup.ready) {
      this.#invoke(call, ctx, finish);
      return;
    }
    void setup.ensure().then((failure) => {
      if (!failure) {
        // It waited for setup: it may have been cancelled, or run out of time, meanwhile.
        if (ctx.expired) finish(failed(call, deadlinePassed(false)), ctx);
        else if (ctx.aborted) finish(failed(call, ctx.abortReason), ctx);
        else {
          this.#invoke(call, ctx, finish);
        }
        return;
      }
      const setupLog = setup.takeLog();
      if (setupLog) ctx.log.merge(setupLog.toJSON());
      finish(failed(call, failure), ctx);
    });
  }

  #invoke(call: CallMessage, ctx: CallContext, finish: FinishCall): void {
    const dispatcher = this.#dispatcher;
    let value: unknown;
    try {
      const invoke = () => dispatcher.invoke(call.method, call.args, ctx);
      value = runInContext(
        ctx,
        handlersTraced()
          ? () => traceHandler(call, dispatcher.interfaceName, ctx.workerId, ctx.peer, invoke)
          : invoke,
      );
    } catch (error) {
      finish(this.#failure(call, ctx, error), ctx);
      return;
    }
    if (isThenable(value)) {
      value.then(
        (resolved) => finish(this.#success(call, resolved), ctx),
        (error: unknown) => finish(this.#failure(call, ctx, error), ctx),
      );
    } else {
      finish(this.#success(call, value), ctx);
    }
  }

  #success(call: CallMessage, value: unknown): CallOutcome {
    if (isAsyncIterable(value)) {
      if (call.credit !== undefined) return { type: 'stream', id: call.id, items: value };
      closeUnread(value);
      return failed(call, new StreamRequiredError(call.method));
    }
    try {
      const checked = this.#dispatcher.checkResult(call.method, value);
      return { type: 'result', id: call.id, value: checked === undefined ? null : checked };
    } catch (error) {
      return failed(call, error);
    }
  }

  #failure(call: CallMessage, ctx: CallContext, error: unknown): CallOutcome {
    return failed(call, ctx.expired ? deadlinePassed(true) : error);
  }
}
