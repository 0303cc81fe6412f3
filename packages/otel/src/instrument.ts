/**
 * `instrumentTaskpool()`: spans and metrics for every taskpool client and worker in this
 * process, from the tracing and diagnostics channels the packages publish. Nothing is
 * patched: the channels are the points of contact, so the adapter works with any version
 * of the client and server that publishes them, and costs nothing once disabled.
 *
 * @module
 */
import {
  type Channel,
  channel,
  type TracingChannel,
  type TracingChannelSubscribers,
  tracingChannel,
} from 'node:diagnostics_channel';
import {
  type Attributes,
  context,
  type Histogram,
  type Meter,
  type MeterProvider,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import {
  DURATION_BUCKETS,
  errorType,
  MESSAGING_SYSTEM,
  RPC_SYSTEM,
  rpcMethod,
  serverAttributes,
} from './attributes.js';
import { meterOf, tracerOf } from './scope.js';
import { formatTraceparent, parseTraceparent } from './trace-context.js';

/** Options of {@link instrumentTaskpool}. */
export interface TaskpoolInstrumentationOptions {
  /**
   * Where spans go.
   * @default the global tracer provider (`trace.getTracerProvider()`)
   * @example tracerProvider: new NodeTracerProvider({ spanProcessors: [processor] })
   */
  tracerProvider?: TracerProvider;
  /**
   * Where metrics go.
   * @default the global meter provider (`metrics.getMeterProvider()`)
   * @example meterProvider: new MeterProvider({ readers: [reader] })
   */
  meterProvider?: MeterProvider;
}

/** What {@link instrumentTaskpool} returns: `disable()` (or `using`) unsubscribes. */
export interface TaskpoolInstrumentation extends Disposable {
  /** Stops making spans and recording metrics; spans under way then are never ended (not exported). */
  disable(): void;
}

/** A client call's tracing context (`CallTraceContext` of `@taskpool/client`). */
interface ClientCallContext {
  method: string | null;
  interface?: string;
  client?: string;
  endpoint?: string;
  traceparent?: string;
  result?: unknown;
  error?: unknown;
}

/** A handler's tracing context (`ServerCallTraceContext` of `@taskpool/server`). */
interface ServerCallContext {
  method: string | null;
  interface?: string;
  workerId: number;
  traceparent?: string;
  peer?: { transport?: string; address?: string | null; keyId?: string | null };
  run?: <T>(handler: () => T) => T;
  result?: unknown;
  error?: unknown;
}

/** A checkout's tracing context (`CheckoutTraceContext` of `@taskpool/client`). */
interface CheckoutContext {
  client?: string;
  result?: unknown;
  error?: unknown;
}

/** A span under way, with what its metric needs when it ends. */
interface Traced {
  span: Span;
  started: number;
  attributes: Attributes;
}

/** `db.client.connection.pool.name` of a client without a `name`. */
const UNNAMED_POOL = 'default';

/** A call's tracing ends when it has a result or an error (`end` of a sync call, else `asyncEnd`). */
const settled = (message: object) => 'result' in message || 'error' in message;

function subscribeTracing<T extends object>(
  name: string,
  subscribers: Partial<TracingChannelSubscribers<T>>,
): () => void {
  const traced: TracingChannel<unknown, T> = tracingChannel(name);
  const all: TracingChannelSubscribers<T> = {
    start: () => {},
    end: () => {},
    asyncStart: () => {},
    asyncEnd: () => {},
    error: () => {},
    ...subscribers,
  };
  traced.subscribe(all);
  return () => {
    traced.unsubscribe(all);
  };
}

function subscribeChannel(name: string, listener: (message: unknown) => void): () => void {
  const published: Channel = channel(name);
  published.subscribe(listener);
  return () => {
    published.unsubscribe(listener);
  };
}

function durationHistogram(meter: Meter, name: string, description: string): Histogram {
  return meter.createHistogram(name, {
    description,
    unit: 's',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
}

/** Ends a call's span and records its duration. */
function finish(traced: Traced, error: unknown, histogram: Histogram): void {
  const attributes = { ...traced.attributes };
  if (error !== undefined) {
    const type = errorType(error);
    attributes['error.type'] = type;
    traced.span.setAttribute('error.type', type);
    traced.span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
  }
  traced.span.end();
  histogram.record((performance.now() - traced.started) / 1_000, attributes);
}

/**
 * Makes a CLIENT span per call and a SERVER span per handler, linked by the trace context
 * the call carries, and records `rpc.client.call.duration`, `rpc.server.call.duration`,
 * `db.client.connection.wait_time`, `db.client.connection.use_time`,
 * `db.client.connection.timeouts` and, for queues, `messaging.process.duration`. Call it once per process: in the client's, and in the
 * worker's module (`defineWorker`'s file), each with its SDK set up first.
 *
 * @example
 * const instrumentation = instrumentTaskpool(); // the global providers
 * // ... later
 * instrumentation.disable();
 */
export function instrumentTaskpool(
  options: TaskpoolInstrumentationOptions = {},
): TaskpoolInstrumentation {
  const tracer = tracerOf(options.tracerProvider);
  const meter = meterOf(options.meterProvider);
  const clientDuration = durationHistogram(
    meter,
    'rpc.client.call.duration',
    'Duration of taskpool calls, as the client measures them.',
  );
  const serverDuration = durationHistogram(
    meter,
    'rpc.server.call.duration',
    "Duration of taskpool handlers, in the worker's process.",
  );
  const waitTime = durationHistogram(
    meter,
    'db.client.connection.wait_time',
    'Time a checkout waited for a worker.',
  );
  const useTime = durationHistogram(
    meter,
    'db.client.connection.use_time',
    'Time a checkout held its worker, from assignment to release.',
  );
  const processDuration = durationHistogram(
    meter,
    'messaging.process.duration',
    "Run time of a queue's jobs in this process's workers.",
  );
  const timeouts = meter.createCounter('db.client.connection.timeouts', {
    description: 'Checkouts whose wait for a worker timed out.',
    unit: '{timeout}',
  });

  const calls = new WeakMap<object, Traced>();
  const handlers = new WeakMap<object, Traced>();
  const checkouts = new WeakMap<object, number>();

  const endCall = (message: ClientCallContext) => {
    const traced = calls.get(message);
    if (!traced || !settled(message)) return;
    calls.delete(message);
    finish(traced, message.error, clientDuration);
  };
  const endHandler = (message: ServerCallContext) => {
    const traced = handlers.get(message);
    if (!traced || !settled(message)) return;
    handlers.delete(message);
    finish(traced, message.error, serverDuration);
  };

  const unsubscribers = [
    subscribeTracing<ClientCallContext>('taskpool.client.call', {
      start(message) {
        const name = rpcMethod(message.interface, message.method);
        const attributes: Attributes = {
          'rpc.system.name': RPC_SYSTEM,
          'rpc.method': name,
          ...serverAttributes(message.endpoint),
        };
        // Started in the caller's context: its active span is the parent.
        const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes });
        const traceparent = formatTraceparent(span.spanContext());
        if (traceparent !== undefined) message.traceparent = traceparent;
        calls.set(message, { span, started: performance.now(), attributes });
      },
      end: endCall,
      asyncEnd: endCall,
    }),
    subscribeTracing<ServerCallContext>('taskpool.server.call', {
      start(message) {
        const name = rpcMethod(message.interface, message.method);
        const attributes: Attributes = { 'rpc.system.name': RPC_SYSTEM, 'rpc.method': name };
        const remote = parseTraceparent(message.traceparent);
        const parent = remote ? trace.setSpanContext(ROOT_CONTEXT, remote) : ROOT_CONTEXT;
        const span = tracer.startSpan(
          name,
          {
            kind: SpanKind.SERVER,
            attributes: {
              ...attributes,
              'taskpool.worker.id': message.workerId,
              ...(message.peer?.keyId ? { 'taskpool.peer.key_id': message.peer.keyId } : {}),
            },
          },
          parent,
        );
        const active = trace.setSpan(parent, span);
        // The handler runs with the span current: spans it makes are its children.
        message.run = (handler) => context.with(active, handler);
        handlers.set(message, { span, started: performance.now(), attributes });
      },
      end: endHandler,
      asyncEnd: endHandler,
    }),
    subscribeTracing<CheckoutContext>('taskpool.client.checkout', {
      start(message) {
        checkouts.set(message, performance.now());
      },
      asyncEnd(message) {
        const started = checkouts.get(message);
        if (started === undefined) return;
        checkouts.delete(message);
        const attributes = { 'db.client.connection.pool.name': message.client ?? UNNAMED_POOL };
        if (message.error === undefined) {
          waitTime.record((performance.now() - started) / 1_000, attributes);
        } else if (errorType(message.error) === 'TIMEOUT') {
          timeouts.add(1, attributes);
        }
      },
    }),
    subscribeChannel('taskpool:queue:job-ended', (message) => {
      const { queue, outcome, ms } = message as { queue: string; outcome: string; ms: number };
      processDuration.record(ms / 1_000, {
        'messaging.system': MESSAGING_SYSTEM,
        'messaging.destination.name': queue,
        'messaging.operation.name': 'process',
        ...(outcome === 'completed' ? {} : { 'error.type': outcome }),
      });
    }),
    subscribeChannel('taskpool:checkout:released', (message) => {
      const { ms, client } = message as { ms?: number; client?: string };
      if (typeof ms !== 'number' || ms <= 0) return;
      useTime.record(ms / 1_000, { 'db.client.connection.pool.name': client ?? UNNAMED_POOL });
    }),
  ];

  let enabled = true;
  const disable = () => {
    if (!enabled) return;
    enabled = false;
    for (const unsubscribe of unsubscribers) unsubscribe();
  };
  return { disable, [Symbol.dispose]: disable };
}
