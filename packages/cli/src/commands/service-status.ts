/**
 * `taskpool status --service NAME --redis URL [--prefix PREFIX] [--json]`: the servers a
 * Redis registry lists for a service, as announced (endpoint, version, interface hash,
 * maxWorkers, spare, busy and waiting), one row each, or as a JSON array. Exit 1 when it
 * lists none, or Redis cannot be read within the timeout.
 */
import type { ServerAnnouncement, ServiceRegistry } from '@taskpool/protocol';

/** The servers `registry` lists now: its first read, within `timeout` ms. */
function readOnce(registry: ServiceRegistry, timeout: number): Promise<ServerAnnouncement[]> {
  return new Promise((resolve, reject) => {
    let lastError: unknown;
    const timer = setTimeout(() => {
      void handle.stop();
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      reject(new Error(`could not read ${registry.description} within ${timeout} ms${why}`));
    }, timeout);
    const handle = registry.watch(
      (servers) => {
        clearTimeout(timer);
        void handle.stop().then(() => resolve(servers));
      },
      (error) => {
        lastError = error;
      },
    );
  });
}

/** The servers as a table, one row each, the columns aligned. */
function formatServers(servers: ServerAnnouncement[]): string {
  const header = ['endpoint', 'version', 'interface', 'max', 'spare', 'busy', 'waiting'];
  const rows = servers.map((server) => [
    server.endpoint,
    server.version,
    server.interfaceHash ?? '-',
    String(server.maxWorkers),
    String(server.spare),
    String(server.busy),
    String(server.waiting),
  ]);
  const widths = header.map((name, column) =>
    Math.max(name.length, ...rows.map((row) => (row[column] as string).length)),
  );
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] as number))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export async function runServiceStatus(
  registry: ServiceRegistry,
  timeout: number,
  json: boolean,
): Promise<number> {
  const servers = (await readOnce(registry, timeout)).sort((a, b) =>
    a.endpoint.localeCompare(b.endpoint),
  );
  if (json) console.log(JSON.stringify(servers, null, 2));
  else if (servers.length > 0) console.log(formatServers(servers));
  if (servers.length === 0) {
    console.error(`taskpool: no server of ${registry.description} is listed`);
    return 1;
  }
  return 0;
}
