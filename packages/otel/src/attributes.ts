/**
 * The attributes taskpool's spans and metrics carry, after the OpenTelemetry semantic
 * conventions for RPC (https://opentelemetry.io/docs/specs/semconv/rpc/) and database
 * connection pools. Never a call id, job id or argument: metric attributes must stay few.
 *
 * @module
 */
import type { Attributes } from '@opentelemetry/api';
import { isTaskpoolError, parseEndpoint } from '@taskpool/protocol';

/** `rpc.system.name` of every span and metric. */
export const RPC_SYSTEM = 'taskpool';

/** `messaging.system` of the queue's metrics. */
export const MESSAGING_SYSTEM = 'taskpool';

/** `<interface>/<method>`: the span's name and `rpc.method`; the method alone without one. */
export function rpcMethod(interfaceName: string | undefined, method: string | null): string {
  const name = method ?? '->()';
  return interfaceName === undefined ? name : `${interfaceName}/${name}`;
}

/** `error.type`: a taskpool error's code, else the error's name (`AbortError`, …). */
export function errorType(error: unknown): string {
  if (isTaskpoolError(error)) return error.code;
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name !== '' ? name : '_OTHER';
}

/**
 * `server.address` and `server.port` of an endpoint (`unix:/path`, `tcp://host:port`,
 * `tls://host:port`): a socket's path is its address.
 */
export function serverAttributes(endpoint: string | undefined): Attributes {
  if (endpoint === undefined) return {};
  try {
    const parsed = parseEndpoint(endpoint);
    if (parsed.kind === 'unix') return { 'server.address': parsed.path };
    return { 'server.address': parsed.host, 'server.port': parsed.port };
  } catch {
    return {};
  }
}

/** Bucket bounds, in seconds, of the duration histograms: 100 µs to 10 s. */
export const DURATION_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
