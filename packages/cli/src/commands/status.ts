/**
 * `taskpool status <endpoint> [--json] [--timeout MS] [--wait MS]`: the server's stats
 * (workers by state, waiting connections, counters, connections rejected by reason,
 * uptime, version) and the worker's interface, as a table or as one JSON object. The
 * numbers are the supervisor's own: the worker this command checks out asks it (a `stats`
 * request), so that worker counts as serving.
 */
import type { Checkout } from '@taskpool/client';
import type { DurationSummary, ServerStatsSnapshot } from '@taskpool/protocol';
import { reach, timeoutOption, waitOption } from '../reach.js';
import { REGISTRY_OPTIONS, registryOf } from '../registry.js';
import { CONNECT_FLAGS, CONNECT_OPTIONS, connectSecurity } from '../security.js';
import { parseCommand, UsageError } from '../usage.js';
import { runServiceStatus } from './service-status.js';

/** The worker's hello, as a checkout has it. */
type HelloMessage = Checkout['worker'];

/** What `status --json` prints: the server's stats, and what the worker's hello says. */
interface StatusReport extends ServerStatsSnapshot {
  endpoint: string;
  /** The server's `name`, or null. */
  server: string | null;
  /** The protocol version the worker speaks. */
  protocol: number;
  /** The interface's name, or null when the hello has none (no zod interface). */
  interfaceName: string | null;
  /** The interface's hash (`sha256:…`), or null when the hello has none. */
  interfaceHash: string | null;
  /**
   * True when the server keeps its interface from this command (not authenticated, not on
   * its Unix socket): `interfaceName` and `interfaceHash` are then null.
   */
  interfaceWithheld: boolean;
}

export async function runStatus(args: string[]): Promise<number> {
  const { positionals, values } = parseCommand(
    args,
    ['timeout', 'wait', ...CONNECT_OPTIONS, ...REGISTRY_OPTIONS],
    ['json', ...CONNECT_FLAGS],
  );
  const timeout = timeoutOption(values.timeout);
  const registry = registryOf(values);
  if (registry !== undefined) {
    if (positionals.length > 0) {
      throw new UsageError('status takes an endpoint, or --service and --redis, not both');
    }
    // It connects to no server: what is for a connection would be ignored, so it is refused.
    const forServer = ['wait', ...CONNECT_OPTIONS, ...CONNECT_FLAGS].filter(
      (name) => values[name as keyof typeof values] !== undefined,
    );
    if (forServer.length > 0) {
      throw new UsageError(
        `status --service connects to no server: --${forServer[0]} does not apply`,
      );
    }
    return runServiceStatus(registry, timeout, values.json === true);
  }
  const [endpoint, ...rest] = positionals;
  if (endpoint === undefined || rest.length > 0) throw new UsageError('status takes an endpoint');
  const wait = waitOption(values.wait);
  const security = connectSecurity(values);
  await using server = await reach(endpoint, wait, timeout, security);
  const stats = await server.checkout.serverStats({ timeout });
  const report = statusReport(endpoint, server.checkout.worker, stats);
  console.log(values.json ? JSON.stringify(report, null, 2) : formatStatus(report));
  return 0;
}

/** A string member of the hello's interface description, or null. */
function describedAs(hello: HelloMessage | undefined, key: 'name' | 'hash'): string | null {
  const value = hello?.interface?.[key];
  return typeof value === 'string' ? value : null;
}

function statusReport(
  endpoint: string,
  hello: HelloMessage | undefined,
  stats: ServerStatsSnapshot,
): StatusReport {
  return {
    endpoint,
    server: hello?.server ?? null,
    protocol: hello?.protocol ?? 0,
    interfaceName: describedAs(hello, 'name'),
    interfaceHash: describedAs(hello, 'hash'),
    interfaceWithheld: hello?.interfaceWithheld === true,
    ...stats,
  };
}

/**
 * A duration for people: `850 ms`, `42 s`, `3 m 05 s`, `2 h 03 m`, `4 d 02 h`: two units
 * at most, the larger first.
 */
export function formatUptime(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  const seconds = Math.floor(ms / 1_000);
  if (seconds < 60) return `${seconds} s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} m ${pad(seconds % 60)} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${pad(minutes % 60)} m`;
  return `${Math.floor(hours / 24)} d ${pad(hours % 24)} h`;
}

/** ` (since <ISO time>)`, or nothing for a time a Date cannot hold. */
function since(startedAt: number): string {
  const date = new Date(startedAt);
  return Number.isNaN(date.getTime()) ? '' : ` (since ${date.toISOString()})`;
}

/**
 * The rows of the connections turned away: one per reason (`rejected auth-failed`), by
 * name; `rejected 0` when there were none, and `-` from a server that does not count them.
 */
function rejectedRows(rejected: Record<string, number> | undefined): [string, string][] {
  if (rejected === undefined) return [['rejected', '-']];
  const reasons = Object.keys(rejected).sort();
  if (reasons.length === 0) return [['rejected', '0']];
  return reasons.map((reason) => [`rejected ${reason}`, String(rejected[reason])]);
}

/** Calls by outcome: `12 ok, 2 failed (REMOTE_ERROR 1, TIMEOUT 1)`. */
function callsCell(calls: Record<string, number>): string {
  const failed = Object.entries(calls)
    .filter(([outcome]) => outcome !== 'ok')
    .sort(([a], [b]) => a.localeCompare(b));
  const total = failed.reduce((sum, [, n]) => sum + n, 0);
  const which = failed.map(([code, n]) => `${code} ${n}`).join(', ');
  return `${calls.ok ?? 0} ok, ${total} failed${total > 0 ? ` (${which})` : ''}`;
}

/** A duration summary: `p50 1.2 ms, p90 3.4 ms, p99 9.8 ms, max 12 ms (40)`. */
function durationCell(summary: DurationSummary): string {
  if (summary.count === 0) return '- (none yet)';
  const ms = (value: number) => `${Number(value.toPrecision(3))} ms`;
  return `p50 ${ms(summary.p50)}, p90 ${ms(summary.p90)}, p99 ${ms(summary.p99)}, max ${ms(summary.max)} (${summary.count})`;
}

/**
 * The rows of what the server measured; `-` from a server with `metrics: false` (or one
 * older than its metrics on the wire).
 */
function metricsRows(metrics: ServerStatsSnapshot['metrics']): [string, string][] {
  if (metrics === undefined) return [['calls', '-']];
  const exited = Object.entries(metrics.workersExited).sort(([a], [b]) => a.localeCompare(b));
  return [
    ['calls', callsCell(metrics.calls)],
    ['call duration', durationCell(metrics.callDuration)],
    ['connection wait', durationCell(metrics.connectionWait)],
    ['connection serve', durationCell(metrics.connectionServe)],
    [
      'workers exited',
      exited.length === 0 ? '0' : exited.map(([reason, n]) => `${reason} ${n}`).join(', '),
    ],
  ];
}

/** The report as a two-column table; what is unknown is `-`. */
function formatStatus(report: StatusReport): string {
  const or = (value: string | number | null) => (value === null ? '-' : String(value));
  const withheld = (value: string | null) =>
    report.interfaceWithheld ? '- (withheld: not authenticated)' : or(value);
  const uptime =
    report.uptime === null || report.startedAt === null
      ? '-'
      : `${formatUptime(report.uptime)}${since(report.startedAt)}`;
  const rows: [string, string][] = [
    ['endpoint', report.endpoint],
    ['server', or(report.server)],
    ['version', or(report.version)],
    ['protocol', String(report.protocol)],
    ['interface', withheld(report.interfaceName)],
    ['interface hash', withheld(report.interfaceHash)],
    ['uptime', uptime],
    ['workers starting', String(report.starting)],
    ['workers spare', String(report.spares)],
    // This command holds a worker while it asks.
    ['workers serving', `${report.serving} (one is this command's)`],
    ['waiting connections', String(report.waitingConnections)],
    ['workers spawned', String(report.spawned)],
    ['killed as hung', String(report.killedHung)],
    ['start failures', `${report.startFailures} (${report.consecutiveStartFailures} in a row)`],
    ['last start error', or(report.lastStartError)],
    ...rejectedRows(report.rejected),
    ...metricsRows(report.metrics),
  ];
  const width = Math.max(...rows.map(([name]) => name.length)) + 2;
  return rows.map(([name, value]) => `${name.padEnd(width)}${value}`).join('\n');
}
