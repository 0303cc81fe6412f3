/**
 * Servers found under a DNS name, resolved again every `dnsInterval`:
 * - `dns://name:port`: every address the name resolves to (A and AAAA, through the
 *   system's resolver, as `dns.lookup` does: /etc/hosts and search domains apply), on
 *   `port`. A Kubernetes headless Service (`clusterIP: None`) resolves to every ready pod.
 * - `dns+srv://name`: every target of the name's SRV records (asked of the DNS servers
 *   `dns.setServers()` set, by default the system's), on the port each gives, each target
 *   resolved as above.
 * A name that resolves to nothing lists no server; a failed resolution keeps the last list.
 *
 * @module
 */
// The module's default resolver, called as its methods: the named exports of
// node:dns/promises do not follow dns.setServers() (Node 20).
import dns from 'node:dns/promises';
import type { Endpoint } from '@taskpool/protocol';
import { debug } from './diagnostics.js';
import type { ServerFeed } from './server-feed.js';

/** True for a `connect` that names servers in DNS. */
export function isDnsName(connect: unknown): connect is string {
  return typeof connect === 'string' && /^dns(\+srv)?:\/\//.test(connect);
}

/** The addresses `host` resolves to, as TCP endpoints on `port`. */
async function endpointsAt(host: string, port: number): Promise<Endpoint[]> {
  const addresses = await dns.lookup(host, { all: true });
  return addresses.map(({ address }) => ({ kind: 'tcp', host: address, port }));
}

/** The servers `url` names now. */
async function resolveServers(url: string): Promise<Endpoint[]> {
  if (url.startsWith('dns+srv://')) {
    const records = await dns.resolveSrv(url.slice('dns+srv://'.length));
    // Every target, whatever its priority and weight: the pool spreads by its own counts.
    // A target whose name does not resolve is left out; the others stand.
    const found = await Promise.allSettled(
      records.map((record) => endpointsAt(record.name, record.port)),
    );
    const resolved = found.flatMap((result) => (result.status === 'fulfilled' ? result.value : []));
    const failed = found.find((result) => result.status === 'rejected');
    if (resolved.length === 0 && failed !== undefined) throw failed.reason;
    return resolved;
  }
  const rest = url.slice('dns://'.length);
  const colon = rest.lastIndexOf(':');
  return endpointsAt(
    rest.slice(0, colon).replace(/^\[(.*)\]$/, '$1'),
    Number(rest.slice(colon + 1)),
  );
}

/** Checks `url` (`dns://name:port`, `dns+srv://name`): what was expected of it, or undefined when it is well formed. */
export function dnsNameProblem(url: string): string | undefined {
  if (url.startsWith('dns+srv://')) {
    return url.length > 'dns+srv://'.length && !url.slice(10).includes(':')
      ? undefined
      : 'dns+srv://name (the SRV records give the ports)';
  }
  const rest = url.slice('dns://'.length);
  const colon = rest.lastIndexOf(':');
  const port = Number(rest.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65_535) {
    return 'dns://name:port, with a port from 1 to 65535';
  }
  return undefined;
}

/** The feed of the servers `url` names, resolved at once and then every `interval` ms. */
export function dnsFeed(url: string, interval: number): ServerFeed {
  return {
    description: url,
    start(onList, onError) {
      let timer: NodeJS.Timeout | undefined;
      let stopped = false;
      let running: Promise<void> = Promise.resolve();
      const resolveNow = () => {
        running = resolveServers(url)
          .then(
            (endpoints) => {
              if (!stopped) onList({ targets: endpoints.map((endpoint) => ({ endpoint })) });
            },
            (error: unknown) => {
              // A name that does not exist (any more) lists no server; other failures keep
              // the list.
              const code = (error as { code?: unknown }).code;
              if (stopped) return;
              if (code === 'ENOTFOUND' || code === 'ENODATA') onList({ targets: [] });
              onError(error);
            },
          )
          // Whatever the listeners throw, the name is resolved again.
          .catch((error: unknown) => debug('a listener of %s threw: %s', url, String(error)));
        void running.then(() => {
          if (stopped) return;
          timer = setTimeout(resolveNow, interval);
          timer.unref();
        });
      };
      resolveNow();
      return {
        stop: async () => {
          stopped = true;
          clearTimeout(timer);
          await running;
        },
      };
    },
  };
}
