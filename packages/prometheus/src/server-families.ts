/**
 * A server's `stats()` as Prometheus families: `taskpool_server_*`.
 *
 * @module
 */
import type { DurationSummary, ServerStatsSnapshot } from '@taskpool/protocol';
import { counterFamily, countsBy, type FamilyDefinition, summaryFamily } from './metric-family.js';

/** What the families read of `server.stats()` (`ServerStats` of `@taskpool/server`). */
export type ServerStatsLike = ServerStatsSnapshot & {
  metrics?: {
    calls: Record<string, number>;
    callDuration: DurationSummary;
    connectionWait?: DurationSummary;
    connectionServe?: DurationSummary;
    workersExited?: Record<string, number>;
  };
};

type ServerFamily = FamilyDefinition<ServerStatsLike>;

const counter = counterFamily<ServerStatsLike>;
const duration = summaryFamily<ServerStatsLike>;

/** Every server family, by name. */
export const SERVER_FAMILIES: readonly ServerFamily[] = [
  {
    name: 'taskpool_server_workers',
    help: 'Worker processes, by state: starting, spare (ready, waiting for a connection), serving.',
    type: 'gauge',
    samples: (stats, labels) =>
      countsBy(
        'state',
        { starting: stats.starting, spare: stats.spares, serving: stats.serving },
        labels,
      ),
  },
  {
    name: 'taskpool_server_waiting_connections',
    help: 'Accepted connections waiting for a worker.',
    type: 'gauge',
    samples: (stats, labels) => [{ labels, value: stats.waitingConnections }],
  },
  counter('taskpool_server_workers_spawned_total', 'Worker processes spawned.', (s) => s.spawned),
  counter(
    'taskpool_server_workers_killed_hung_total',
    'Workers killed as hung.',
    (s) => s.killedHung,
  ),
  counter(
    'taskpool_server_worker_start_failures_total',
    'Workers that exited, or were killed, before they were ready.',
    (s) => s.startFailures,
  ),
  {
    name: 'taskpool_server_connections_rejected_total',
    help: 'Connections turned away before they were served, by reason.',
    type: 'counter',
    samples: (stats, labels) => countsBy('reason', stats.rejected ?? {}, labels),
  },
  {
    name: 'taskpool_server_calls_total',
    help: 'Calls and streams the workers ended, by outcome: ok, or the error code sent.',
    type: 'counter',
    samples: (stats, labels) =>
      stats.metrics ? countsBy('outcome', stats.metrics.calls, labels) : [],
  },
  duration(
    'taskpool_server_call_duration_seconds',
    "From a call's start in its worker to its reply.",
    (stats) => stats.metrics?.callDuration,
  ),
  duration(
    'taskpool_server_connection_wait_seconds',
    "From a connection's accept to its hand-off to a worker.",
    (stats) => stats.metrics?.connectionWait,
  ),
  duration(
    'taskpool_server_connection_serve_seconds',
    "From a connection's hand-off to the end of its worker's service.",
    (stats) => stats.metrics?.connectionServe,
  ),
  {
    name: 'taskpool_server_workers_exited_total',
    help: 'Workers that exited, by reason: finished, crashed, killed-hung, start-failed, restart, close, surplus, listen-failed.',
    type: 'counter',
    samples: (stats, labels) => countsBy('reason', stats.metrics?.workersExited ?? {}, labels),
  },
  {
    name: 'taskpool_server_uptime_seconds',
    help: 'Seconds since the server began to listen.',
    type: 'gauge',
    samples: (stats, labels) =>
      stats.uptime === null ? [] : [{ labels, value: stats.uptime / 1_000 }],
  },
  {
    name: 'taskpool_server_info',
    help: 'Always 1; its version label is the version of @taskpool/server running.',
    type: 'gauge',
    samples: (stats, labels) => [{ labels: { ...labels, version: stats.version ?? '' }, value: 1 }],
  },
];
