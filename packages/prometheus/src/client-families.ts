/**
 * A client's `stats()` as Prometheus families: `taskpool_client_*`.
 *
 * @module
 */
import type { DurationSummary } from '@taskpool/protocol';
import { counterFamily, countsBy, type FamilyDefinition, summaryFamily } from './metric-family.js';

/** What the families read of `client.stats()` (`Client` of `@taskpool/client`). */
export interface ClientStatsLike {
  connecting: number;
  idle: number;
  busy: number;
  waiting: number;
  lost: number;
  retired: number;
  connected: number;
  connectFailures: number;
  checkouts: number;
  maxWorkers?: number;
  metrics?: {
    calls: Record<string, number>;
    callDuration: DurationSummary;
    checkoutWait: DurationSummary;
    checkoutHold: DurationSummary;
    connectTime: DurationSummary;
  };
}

type ClientFamily = FamilyDefinition<ClientStatsLike>;

const duration = (
  name: string,
  help: string,
  field: 'callDuration' | 'checkoutWait' | 'checkoutHold' | 'connectTime',
) => summaryFamily<ClientStatsLike>(name, help, (stats) => stats.metrics?.[field]);

const counter = counterFamily<ClientStatsLike>;

/** Every client family, by name. */
export const CLIENT_FAMILIES: readonly ClientFamily[] = [
  {
    name: 'taskpool_client_workers',
    help: 'Connections to workers, by state: connecting, idle (in the pool), busy (held).',
    type: 'gauge',
    samples: (stats, labels) =>
      countsBy(
        'state',
        { connecting: stats.connecting, idle: stats.idle, busy: stats.busy },
        labels,
      ),
  },
  {
    name: 'taskpool_client_max_workers',
    help: 'The most connections the pool opens (maxWorkers).',
    type: 'gauge',
    samples: (stats, labels) =>
      stats.maxWorkers === undefined ? [] : [{ labels, value: stats.maxWorkers }],
  },
  {
    name: 'taskpool_client_checkouts_waiting',
    help: 'Checkouts and one-shot calls waiting for a worker.',
    type: 'gauge',
    samples: (stats, labels) => [{ labels, value: stats.waiting }],
  },
  {
    name: 'taskpool_client_checkouts',
    help: 'Checkouts held, one-shot calls included.',
    type: 'gauge',
    samples: (stats, labels) => [{ labels, value: stats.checkouts }],
  },
  counter(
    'taskpool_client_workers_lost_total',
    'Workers lost: died, or dropped after an error, a timeout or an abort.',
    (s) => s.lost,
  ),
  counter(
    'taskpool_client_workers_retired_total',
    'Workers closed on purpose: maxCheckouts, retire, idleTimeout, close.',
    (s) => s.retired,
  ),
  counter('taskpool_client_connections_total', 'Connections opened.', (s) => s.connected),
  counter(
    'taskpool_client_connect_failures_total',
    'Connection attempts that failed.',
    (s) => s.connectFailures,
  ),
  {
    name: 'taskpool_client_calls_total',
    help: 'Calls and streams that ended, by outcome: ok, an error code, aborted or other.',
    type: 'counter',
    samples: (stats, labels) =>
      stats.metrics ? countsBy('outcome', stats.metrics.calls, labels) : [],
  },
  duration(
    'taskpool_client_call_duration_seconds',
    "From a call's sending to its end.",
    'callDuration',
  ),
  duration(
    'taskpool_client_checkout_wait_seconds',
    'From checkout() (or a one-shot call) to its worker.',
    'checkoutWait',
  ),
  duration(
    'taskpool_client_checkout_hold_seconds',
    "From a checkout's worker to its release.",
    'checkoutHold',
  ),
  duration(
    'taskpool_client_connect_seconds',
    "From a connection's start to the end of its opening exchange.",
    'connectTime',
  ),
];
