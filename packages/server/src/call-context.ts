/**
 * The context of one call in a worker. Its signal and log are made on first use, so a
 * handler that reads neither costs no allocation for them.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { DeferredLog, type HandlerContext, MAX_TIMER_MS, type Peer } from '@taskpool/protocol';

const storage = new AsyncLocalStorage<HandlerContext>();

/** The context of the call running now, for one-function interfaces and helpers. */
export function currentContext(): HandlerContext | undefined {
  return storage.getStore();
}

/** Runs `fn` with `ctx` as the current context. */
export function runInContext<T>(ctx: HandlerContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

const NO_SCOPE: Readonly<Record<string, unknown>> = Object.freeze({});

/** The peer of a call made in the worker itself (a cascade outside any call). */
const LOCAL_PEER: Peer = Object.freeze({
  transport: 'unix',
  address: null,
  keyId: null,
  subject: null,
  san: Object.freeze([]),
  fingerprint: null,
  authenticated: false,
});

export class CallContext implements HandlerContext {
  readonly method: string | null;
  readonly workerId: number;
  readonly scope: Readonly<Record<string, unknown>>;
  readonly call: HandlerContext['call'];
  readonly peer: Peer;
  /** `performance.now()` when the call started (0 for a cascade outside any call). */
  readonly startedAt: number;
  readonly #deadline: number | undefined;
  #controller: AbortController | undefined;
  #abortReason: unknown;
  #aborted = false;
  #timer: NodeJS.Timeout | undefined;
  #log: DeferredLog | undefined;

  constructor(init: {
    method: string | null;
    workerId: number;
    deadline?: number | undefined;
    scope?: Record<string, unknown> | undefined;
    log?: DeferredLog | undefined;
    call: HandlerContext['call'];
    peer?: Peer | undefined;
    startedAt?: number;
  }) {
    this.method = init.method;
    this.workerId = init.workerId;
    this.scope = init.scope ?? NO_SCOPE;
    this.call = init.call;
    this.peer = init.peer ?? LOCAL_PEER;
    this.startedAt = init.startedAt ?? 0;
    this.#deadline = init.deadline;
    this.#log = init.log;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) {
        this.#controller.abort(this.#abortReason);
      } else if (this.#deadline !== undefined) {
        this.#armDeadline(this.#deadline);
      }
    }
    return this.#controller.signal;
  }

  /** True once the call was aborted (cancelled, or its client went away). */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Why it was aborted. */
  get abortReason(): unknown {
    return this.#abortReason;
  }

  /** True once the call's deadline has passed (whether or not the signal was read). */
  get expired(): boolean {
    return this.#deadline !== undefined && Date.now() >= this.#deadline;
  }

  #armDeadline(deadline: number): void {
    const wait = deadline - Date.now();
    if (wait <= 0) {
      this.abort(new DOMException('the call deadline passed', 'TimeoutError'));
      return;
    }
    // A timer longer than MAX_TIMER_MS would fire at once: wait in steps.
    this.#timer = setTimeout(
      () => this.#armDeadline(deadline),
      Math.min(wait, MAX_TIMER_MS),
    ).unref();
  }

  get log(): DeferredLog {
    this.#log ??= new DeferredLog();
    return this.#log;
  }

  /** The log if anything was written to it. */
  get usedLog(): DeferredLog | undefined {
    return this.#log && !this.#log.isEmpty ? this.#log : undefined;
  }

  /** Aborts the call's signal (a cancel frame, the client leaving, the deadline). */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }

  /** Releases the deadline timer. */
  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
  }
}
