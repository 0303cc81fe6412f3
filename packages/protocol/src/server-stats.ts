/**
 * The server's stats as they travel: what `server.stats()` returns in the supervisor, and
 * what a worker answers a `stats` request with, so a client (`co.serverStats()`,
 * `taskpool status`) sees the supervisor's own numbers.
 *
 * @module
 */

import type { DurationSummary } from './duration-summary.js';

/** What a server measured (unless `metrics: false`): every figure since it started. */
export interface ServerMetricsSnapshot {
  /** Calls and streams that ended, by outcome: `ok`, or the error code sent. */
  calls: Record<string, number>;
  /**
   * How long handlers took, from a call's start in its worker to its reply (a stream's: to
   * its end), in milliseconds; within 4.5% (the buckets the workers send). Up to a second
   * behind: workers report every second, and when they exit.
   */
  callDuration: DurationSummary;
  /**
   * From a connection's accept to its hand-off to a worker: 0 for one a spare took at
   * once. Connections refused or dropped while they waited are not in it (`rejected`).
   */
  connectionWait: DurationSummary;
  /**
   * From a connection's hand-off to the end of its worker's service: the worker exited
   * (its client left, it retired, it crashed or was killed), or its opening exchange failed
   * and it became a spare again.
   */
  connectionServe: DurationSummary;
  /**
   * Workers that exited, by reason (`finished`, `crashed`, `killed-hung`, `start-failed`,
   * `restart`, `close`, `surplus`, `listen-failed`), as `worker-exited` events say.
   */
  workersExited: Record<string, number>;
}

/** Counts of a server's workers and waiting connections, its uptime and its version. */
export interface ServerStatsSnapshot {
  /** Workers loading their code and running `setup` (not those asked to stop). */
  starting: number;
  /** Ready workers waiting for a connection (not those asked to stop). */
  spares: number;
  /** Workers serving a connection, retiring ones included. */
  serving: number;
  /** Accepted connections waiting in the room for a worker. */
  waitingConnections: number;
  /** Workers spawned since start. */
  spawned: number;
  /** Workers killed by the hung-worker watchdog since start. */
  killedHung: number;
  /**
   * Workers that exited, or were killed, before they were ready, since start: their code
   * cannot load, or it crashed or blocked while loading.
   */
  startFailures: number;
  /** Start failures since a worker was last ready: 0 while workers start. */
  consecutiveStartFailures: number;
  /** The message of the last start failure's `WORKER_START_FAILED` error, or null. */
  lastStartError: string | null;
  /** When `listen()` was called, in epoch milliseconds; null before. */
  startedAt: number | null;
  /**
   * Milliseconds since `listen()` was called, from a monotonic clock (so a client on
   * another machine, or a wall clock that steps, does not change it); null before.
   */
  uptime: number | null;
  /** The version of `@taskpool/server` the server runs, or null when it cannot be told. */
  version: string | null;
  /**
   * Connections refused or dropped before they were served, by reason, since start:
   * `waiting-full` (`maxWaitingConnections`), `peer-limit` (`maxConnectionsPerPeer`),
   * `busy` (no worker within `connectionTimeout`), `silent` (sent nothing within
   * `handshakeTimeout` while it waited), `start-failed` (refused while workers fail to
   * start), `handshake-timeout`, `tls-failed`, `auth-failed`, `protocol-error` (broke the
   * protocol in its opening exchange).
   * Absent from servers older than this field.
   */
  rejected?: Record<string, number>;
  /** What the server measured; absent with `metrics: false`, and from older servers. */
  metrics?: ServerMetricsSnapshot;
}
