/**
 * A server's `stats()` as Prometheus families: `taskpool_server_*`.
 *
 * @module
 */
import type { DurationSummary, ServerStatsSnapshot } from '@taskpool/protocol';
import { countsBy, type FamilyDefinition, summarySamples } from './metric-family.js';

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

const counter = (
  name: string,
  help: string,
  read: (stats: ServerStatsLike) => number,
): ServerFamily => ({
  name,
  help,
  type: 'counter',
  samples: (stats, labels) => [{ labels, value: read(stats) }],
});

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
  {
    name: 'taskpool_server_call_duration_seconds',
    help: "From a call's start in its worker to its reply.",
    type: 'summary',
    samples: (stats, labels) =>
      stats.metrics
        ? summarySamples(
            'taskpool_server_call_duration_seconds',
            stats.metrics.callDuration,
            labels,
          )
        : [],
  },
  {
    name: 'taskpool_server_connection_wait_seconds',
    help: "From a connection's accept to its hand-off to a worker.",
    type: 'summary',
    samples: (stats, labels) =>
      stats.metrics?.connectionWait
        ? summarySamples(
            'taskpool_server_connection_wait_seconds',
            stats.metrics.connectionWait,
            labels,
          )
        : [],
  },
  {
    name: 'taskpool_server_connection_serve_seconds',
    help: "From a connection's hand-off to the end of its worker's service.",
    type: 'summary',
    samples: (stats, labels) =>
      stats.metrics?.connectionServe
        ? summarySamples(
            'taskpool_server_connection_serve_seconds',
            stats.metrics.connectionServe,
            labels,
          )
        : [],
  },
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
