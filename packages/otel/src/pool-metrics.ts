/**
 * `instrumentClient()`: a client's pool as OpenTelemetry's database connection pool
 * metrics (`db.client.connection.*`), observed from `client.stats()` at each collection.
 * The per-event ones (`wait_time`, `use_time`, `timeouts`) are recorded by
 * `instrumentTaskpool()`.
 *
 * @module
 */
import type { MeterProvider } from '@opentelemetry/api';
import { meterOf } from './scope.js';

/** What the pool metrics read of a client (`Client` of `@taskpool/client`). */
export interface ObservedClient {
  stats(): { idle: number; busy: number; waiting: number; maxWorkers: number };
}

/** Options of {@link instrumentClient}. */
export interface ClientInstrumentationOptions {
  /**
   * `db.client.connection.pool.name`: the client's `name` option, so these metrics and
   * those of `instrumentTaskpool()` line up.
   * @default 'default'
   * @example name: 'hasher'
   */
  name?: string;
  /**
   * Where metrics go.
   * @default the global meter provider (`metrics.getMeterProvider()`)
   * @example meterProvider: new MeterProvider({ readers: [reader] })
   */
  meterProvider?: MeterProvider;
}

/**
 * Observes a client's pool: `db.client.connection.count` (`state`: `idle` or `used`; a
 * connection being opened counts as neither), `db.client.connection.max` and
 * `db.client.connection.pending_requests` (checkouts and one-shot calls waiting for a
 * worker). Returns a function that stops observing.
 *
 * @example
 * const client = createClient({ connect, interface: hasher, name: 'hasher' });
 * const stop = instrumentClient(client, { name: 'hasher' });
 */
export function instrumentClient(
  client: ObservedClient,
  options: ClientInstrumentationOptions = {},
): () => void {
  const meter = meterOf(options.meterProvider);
  const pool = { 'db.client.connection.pool.name': options.name ?? 'default' };
  const count = meter.createObservableUpDownCounter('db.client.connection.count', {
    description: 'Connections to workers, by state.',
    unit: '{connection}',
  });
  const max = meter.createObservableUpDownCounter('db.client.connection.max', {
    description: 'The most connections the pool opens (maxWorkers).',
    unit: '{connection}',
  });
  const pending = meter.createObservableUpDownCounter('db.client.connection.pending_requests', {
    description: 'Checkouts and one-shot calls waiting for a worker.',
    unit: '{request}',
  });
  const callback: Parameters<typeof meter.addBatchObservableCallback>[0] = (result) => {
    const stats = client.stats();
    result.observe(count, stats.idle, { ...pool, 'db.client.connection.state': 'idle' });
    result.observe(count, stats.busy, { ...pool, 'db.client.connection.state': 'used' });
    result.observe(max, stats.maxWorkers, pool);
    result.observe(pending, stats.waiting, pool);
  };
  const observables = [count, max, pending];
  meter.addBatchObservableCallback(callback, observables);
  return () => meter.removeBatchObservableCallback(callback, observables);
}
