#!/usr/bin/env node
/**
 * The `taskpool` command line: see HELP below, and docs/cli.md.
 *
 * Each command is loaded when it is run, so `taskpool call` does not load the server, and
 * only `taskpool types` loads the type generator.
 *
 * Exit codes: 0 done, 1 the call or server failed (or the server cannot be reached), 2 bad
 * usage.
 *
 * @module
 */
import { createRequire } from 'node:module';
import type { EndpointReport } from '@taskpool/client';
import { defaultSocketPath } from '@taskpool/protocol';
import { inCommandLineTerms } from './security.js';
import { UsageError } from './usage.js';

/** The usage, with this user's default socket (it depends on XDG_RUNTIME_DIR). */
const HELP = `taskpool: run blocking and CPU-heavy work in worker processes.

usage:
  taskpool serve <worker-module> [--listen ENDPOINT] [--name NAME] [--spares N]
                 [--max-workers N] [--hung-worker-timeout MS]
                 [--metrics-port PORT [--metrics-host HOST]]
                 [--service NAME --redis URL [--prefix PREFIX] [--advertise ENDPOINT]]
                 [serve protection]
      Runs a server for a worker module until SIGTERM or SIGINT. It listens on this
      user's default socket, unix:${defaultSocketPath()}
      ($XDG_RUNTIME_DIR/taskpool/taskpool.sock, else taskpool-<uid>/taskpool.sock in the
      temporary directory; made mode 0700), unless --listen says otherwise.
      --metrics-port serves its stats and metrics in the Prometheus text format at
      http://HOST:PORT/metrics (0: a free port, printed), on --metrics-host (default
      127.0.0.1).
      --service and --redis announce it in a Redis registry (clients find it with
      discover: redisRegistry(…)), as --advertise says clients reach it (default: where
      it listens; needed when that is every address, tcp://0.0.0.0:PORT).
  taskpool call <endpoint> <method> [arg ...] [--timeout MS] [--wait MS] [connection]
      Calls one method on one worker and prints its result as JSON.
  taskpool describe <endpoint> [--wait MS] [connection]
      Prints the worker's hello: server name, protocol, pid, interface schema.
  taskpool types <endpoint> [--name NAME] [--format dts|ts|json] [--out FILE] [--wait MS]
                 [connection]
  taskpool types <endpoint> --check FILE [--wait MS] [connection]
  taskpool types --module FILE [--export NAME] [--name NAME] [--format dts|ts|json]
                 [--out FILE | --check FILE]
      Writes the interface's TypeScript types (dts, the default), a module that also
      validates at run time (ts), or its JSON description (json), from a server or from
      a local module's export (its default export unless --export). --check FILE writes
      nothing: exit 0 when FILE records the interface's hash, 1 when it does not.
  taskpool status <endpoint> [--json] [--timeout MS] [--wait MS] [connection]
      Prints the server's workers by state, waiting connections, counters, connections
      rejected by reason, uptime, version and interface hash.
  taskpool status --service NAME --redis URL [--prefix PREFIX] [--json] [--timeout MS]
      Lists the servers a Redis registry lists for a service: endpoint, version,
      interface hash, maxWorkers, spare, busy and waiting. Exit 1 when it lists none.
  taskpool bench <endpoint> <method> [arg ...] [--calls N] [--concurrency C]
                 [--duration S] [--checkout-per-call] [--json] [--timeout MS] [--wait MS]
                 [connection]
      Puts load on a server; prints calls/s, latency percentiles and errors by code.
  taskpool --version | --help

endpoints: unix:/path/to/socket, tcp://host:port or tls://host:port.

arguments: each is read as JSON (42, true, '{"a":1}', '"quoted"'); a word that is not JSON
  is a string (greet world calls greet("world")); - reads one argument, as JSON, from
  standard input.

options:
  --timeout MS  call, status, bench: the deadline of each call (or of the stats request),
                and of the wait for a worker
                (default 30000, at least 1). A server whose workers are all busy holds a
                new connection until one is free, up to its connectionTimeout; then it
                refuses it (SERVER_BUSY) and the command fails, saying the server is busy
  --wait MS     keep trying this long to reach a server that cannot be reached yet, or is
                busy (default 0: fail at once, saying why)

serve protection (a server refuses to listen unprotected where others can reach it:
  plaintext TCP beyond loopback without a key, or a Unix socket in a directory other
  users can write to; files are read again on a rolling restart, SIGHUP):
  --tls-key FILE, --tls-cert FILE
                the server's private key and certificate (PEM): TLS, for tls:// and
                tcp:// listens
  --tls-ca FILE       the CA certificates (PEM) client certificates must chain to
  --tls-request-cert  mutual TLS: refuse clients without a valid certificate
  --auth-key-file FILE
                a shared secret each client must prove it holds (without it, the
                environment variable TASKPOOL_AUTH_KEY, when set)
  --auth-key-id ID    the key's id (default "default")
  --handshake-timeout MS
                how long a connection has to open: TLS, authentication (default 5000)
  --insecure    listen unprotected all the same (a network that is itself trusted)

connection (call, describe, types, status, bench):
  --tls-ca FILE       the CA certificates (PEM) the server's certificate must chain to
                      (default: the system's)
  --tls-cert FILE, --tls-key FILE
                this client's certificate and private key (PEM), for mutual TLS
  --tls-servername NAME
                the name the server's certificate must carry (default: the host)
                Any --tls-* option makes a tcp:// endpoint TLS too.
  --auth-key-file FILE
                the shared secret to authenticate with (without it, the environment
                variable TASKPOOL_AUTH_KEY, when set); the server must prove it holds it
  --auth-key-id ID    which of the server's keys it is (default "default")
  --insecure    talk plaintext TCP beyond this machine without a key

  A server tells its interface (describe, types, status) only to clients that
  authenticated, or that came over its Unix socket.

exit codes: 0 done, 1 the call or the server failed, or the server cannot be reached,
  2 bad usage`;

type Command = (args: string[]) => Promise<number>;

/** Each command, loaded when it is run. */
const commands: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./commands/serve.js')).runServe,
  call: async () => (await import('./commands/call.js')).runCall,
  describe: async () => (await import('./commands/describe.js')).runDescribe,
  types: async () => (await import('./commands/types.js')).runTypes,
  status: async () => (await import('./commands/status.js')).runStatus,
  bench: async () => (await import('./commands/bench.js')).runBench,
};

/** The package's version, from its package.json (beside src/ and dist/ alike). */
function version(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

async function main(argv: string[]): Promise<number> {
  const name = argv[0];
  if (name === undefined) {
    console.log(HELP);
    return 2;
  }
  // Help wherever it is asked for, before anything else is read: parseArgs would refuse
  // it as an unknown option of the command.
  if (name === 'help' || argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return 0;
  }
  if (name === '--version' || name === '-v') {
    console.log(version());
    return 0;
  }
  const load = commands[name];
  if (!load) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
  return (await load())(argv.slice(1));
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`taskpool: ${error.message}\n${HELP}`);
      process.exitCode = 2;
      return;
    }
    console.error(`taskpool: ${inCommandLineTerms(explain(error))}`);
    process.exitCode = 1;
  },
);

/**
 * An error in one line. A server that could not be reached at all is said plainly, from
 * the client's report of each endpoint (`cannot connect to unix:/x.sock: ENOENT: no such
 * file or directory`), and a server that refused the connection as busy as such (`the
 * server at unix:/x.sock is busy (SERVER_BUSY): no worker became free within 10000 ms`).
 * The TIMEOUT of giving up on the server is never shown as it is: with `--wait 0` it
 * would read "timed out after 0 seconds", which says nothing.
 */
function explain(error: unknown): string {
  const { code, message, data } = error as { code?: string; message?: string; data?: unknown };
  const endpoints = (data as { endpoints?: EndpointReport[] } | undefined)?.endpoints;
  if (
    code === 'TIMEOUT' &&
    Array.isArray(endpoints) &&
    endpoints.some((report) => report.error !== undefined) &&
    endpoints.every((report) => report.connections === 0)
  ) {
    return endpoints.map(describeEndpoint).join('; ');
  }
  return `${code ? `${code}: ` : ''}${message ?? String(error)}`;
}

/** What one endpoint did, as `explain` says it. */
function describeEndpoint({ endpoint, error, code, attempts }: EndpointReport): string {
  if (error === undefined) return `${endpoint}: not reached`;
  const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
  if (code === 'SERVER_BUSY') {
    const detail = error.replace(/^SERVER_BUSY: /, '');
    return `the server at ${endpoint} is busy (SERVER_BUSY): ${detail}${tries}`;
  }
  return `cannot connect to ${endpoint}: ${error}${tries}`;
}
