/**
 * `taskpool serve <worker-module>`: runs a server until SIGTERM or SIGINT (which exit 0,
 * even while it starts), on this user's default socket (`defaultSocketPath()`) unless
 * `--listen` says otherwise, protected as its options say (see security.ts). Worker code
 * that cannot load is said once, with its stack, and the command exits 1.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  defaultSocketPath,
  type Endpoint,
  formatEndpoint,
  isTaskpoolError,
  MAX_TIMER_MS,
} from '@taskpool/protocol';
import { createServer } from '@taskpool/server';
import { REGISTRY_OPTIONS, registryOf } from '../registry.js';
import { SERVE_SECURITY_FLAGS, SERVE_SECURITY_OPTIONS, serveSecurity } from '../security.js';
import { integerOption, parseCommand, UsageError } from '../usage.js';

export async function runServe(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(
    args,
    [
      'listen',
      'name',
      'spares',
      'max-workers',
      'hung-worker-timeout',
      'metrics-port',
      'metrics-host',
      'advertise',
      ...REGISTRY_OPTIONS,
      ...SERVE_SECURITY_OPTIONS,
    ],
    SERVE_SECURITY_FLAGS,
  );
  const module = positionals[0];
  if (module === undefined || positionals.length > 1) {
    throw new UsageError('serve takes one worker module');
  }
  const registry = registryOf(values);
  if (values.advertise !== undefined && registry === undefined) {
    throw new UsageError('--advertise goes with --service NAME and --redis URL');
  }
  const server = createServer({
    listen: values.listen ?? `unix:${defaultSocketPath()}`,
    workerModule: pathToFileURL(resolve(module)),
    handleSignals: true,
    ...(values.name !== undefined ? { name: values.name } : {}),
    ...optional('spares', integerOption('spares', values.spares)),
    ...optional('maxWorkers', integerOption('max-workers', values['max-workers'], { min: 1 })),
    ...optional(
      'hungWorkerTimeout',
      integerOption('hung-worker-timeout', values['hung-worker-timeout'], {
        min: 1,
        max: MAX_TIMER_MS,
      }),
    ),
    ...optional(
      'metricsPort',
      integerOption('metrics-port', values['metrics-port'], { max: 65_535 }),
    ),
    ...(values['metrics-host'] !== undefined ? { metricsHost: values['metrics-host'] } : {}),
    ...(registry !== undefined ? { registry } : {}),
    ...(values.advertise !== undefined ? { advertise: values.advertise } : {}),
    ...serveSecurity(values),
  });
  let endpoint: Endpoint;
  try {
    endpoint = await server.listen();
  } catch (error) {
    // SIGTERM or SIGINT while it started: the server closed, as asked.
    if (isTaskpoolError(error) && error.code === 'CLOSED') return 0;
    if (!isTaskpoolError(error) || error.code !== 'WORKER_START_FAILED') throw error;
    // The load error's stack says where the worker code broke; listen() has stopped
    // everything it started.
    console.error(`taskpool: ${error.code}: ${error.message}`);
    const { cause } = error as { cause?: unknown };
    if (cause instanceof Error && cause.stack) console.error(cause.stack);
    return 1;
  }
  console.log(`taskpool: serving ${module} on ${formatEndpoint(endpoint)} (pid ${process.pid})`);
  if (server.metricsUrl !== null) console.log(`taskpool: metrics at ${server.metricsUrl}`);
  if (registry !== undefined) console.log(`taskpool: announcing in ${registry.description}`);
  return new Promise<number>((done) => {
    const stop = () => void server.close().then(() => done(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}
