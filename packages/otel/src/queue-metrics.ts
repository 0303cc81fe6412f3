/**
 * `instrumentQueue()`: a Redis queue's counts as OpenTelemetry metrics, after the messaging
 * conventions (https://opentelemetry.io/docs/specs/semconv/messaging/): jobs sent and
 * consumed, and the taskpool-specific ends, observed from `queue.metrics()` and
 * `queue.stats()` at each collection. Run times (`messaging.process.duration`) are recorded
 * per job by `instrumentTaskpool()`.
 *
 * @module
 */
import type { Attributes, MeterProvider } from '@opentelemetry/api';
import { MESSAGING_SYSTEM } from './attributes.js';
import { meterOf } from './scope.js';

/** What the queue metrics read of a queue (`Queue` of `@taskpool/redis`). */
export interface ObservedQueue {
  readonly name: string;
  metrics():
    | {
        submitted: number;
        taken: number;
        completed: number;
        failed: number;
        retried: number;
        recovered: number;
      }
    | undefined;
  stats(): Promise<{ queued: number; delayed: number; failed: number; running: number | null }>;
}

/** Options of {@link instrumentQueue}. */
export interface QueueInstrumentationOptions {
  /**
   * Where metrics go.
   * @default the global meter provider (`metrics.getMeterProvider()`)
   * @example meterProvider: new MeterProvider({ readers: [reader] })
   */
  meterProvider?: MeterProvider;
}

/**
 * Observes a queue: `messaging.client.sent.messages` (jobs this process submitted),
 * `messaging.client.consumed.messages` (jobs its workers took), `taskpool.queue.jobs.ended`
 * (`taskpool.job.outcome`: `completed`, `failed`, `retried`, `recovered`) and, read from
 * Redis at each collection, `taskpool.queue.jobs` (`taskpool.job.state`: `queued`,
 * `delayed`, `failed`, `running`). Returns a function that stops observing.
 *
 * @example
 * const stop = instrumentQueue(queue);
 */
export function instrumentQueue(
  queue: ObservedQueue,
  options: QueueInstrumentationOptions = {},
): () => void {
  const meter = meterOf(options.meterProvider);
  const destination: Attributes = {
    'messaging.system': MESSAGING_SYSTEM,
    'messaging.destination.name': queue.name,
  };
  const sent = meter.createObservableCounter('messaging.client.sent.messages', {
    description: 'Jobs this process submitted.',
    unit: '{message}',
  });
  const consumed = meter.createObservableCounter('messaging.client.consumed.messages', {
    description: "Jobs this process's workers took.",
    unit: '{message}',
  });
  const ended = meter.createObservableCounter('taskpool.queue.jobs.ended', {
    description:
      "Attempts this process's workers ended (completed, failed: retried ones included), failed jobs it put back (retried) and jobs of dead workers it put back (recovered).",
    unit: '{job}',
  });
  const jobs = meter.createObservableUpDownCounter('taskpool.queue.jobs', {
    description: 'Jobs in the queue, by state, read from Redis.',
    unit: '{job}',
  });
  const observables = [sent, consumed, ended, jobs];
  const callback: Parameters<typeof meter.addBatchObservableCallback>[0] = async (result) => {
    const counted = queue.metrics();
    if (counted) {
      result.observe(sent, counted.submitted, {
        ...destination,
        'messaging.operation.name': 'send',
      });
      result.observe(consumed, counted.taken, {
        ...destination,
        'messaging.operation.name': 'receive',
      });
      for (const outcome of ['completed', 'failed', 'retried', 'recovered'] as const) {
        result.observe(ended, counted[outcome], {
          ...destination,
          'taskpool.job.outcome': outcome,
        });
      }
    }
    let stats: Awaited<ReturnType<ObservedQueue['stats']>>;
    try {
      stats = await queue.stats();
    } catch {
      // Redis is away: the local counters above are still reported, the states are not.
      return;
    }
    const states: Record<string, number | null> = {
      queued: stats.queued,
      delayed: stats.delayed,
      failed: stats.failed,
      running: stats.running,
    };
    for (const [state, count] of Object.entries(states)) {
      if (count !== null)
        result.observe(jobs, count, { ...destination, 'taskpool.job.state': state });
    }
  };
  meter.addBatchObservableCallback(callback, observables);
  return () => meter.removeBatchObservableCallback(callback, observables);
}
