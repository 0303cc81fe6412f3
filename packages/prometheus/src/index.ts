/**
 * Prometheus metrics for taskpool: clients, servers and queues as metric families, in a
 * prom-client registry (`registerMetrics`) or as the text format (`collectFamilies` and
 * `toPrometheusText`, no prom-client needed). Names are in base units, `_seconds` and
 * `_total`: `taskpool_client_call_duration_seconds`, `taskpool_server_workers{state}`,
 * `taskpool_queue_jobs{state}`, …
 *
 * @module
 */
export { CLIENT_FAMILIES, type ClientStatsLike } from './client-families.js';
export { PROMETHEUS_CONTENT_TYPE, toPrometheusText } from './exposition.js';
export type { FamilyDefinition, Labels, MetricFamily, Sample } from './metric-family.js';
export { QUEUE_FAMILIES, type QueueStatsLike } from './queue-families.js';
export {
  collectFamilies,
  type MetricSources,
  type MetricsOptions,
  type RegistryLike,
  registerMetrics,
  type StatsSource,
} from './register.js';
export { SERVER_FAMILIES, type ServerStatsLike } from './server-families.js';
