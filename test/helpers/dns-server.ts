/**
 * A private DNS server for the tests of `dns+srv://` names: dnsmasq on a free loopback
 * port, answering only for the SRV records it is given (nothing else is forwarded), and
 * reaped when stopped or when the test process exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { existsSync } from 'node:fs';
import { freePort } from './ports.js';
import { exited, waitUntil } from './redis-process.js';

/** One SRV record: `name` served by `target` on `port`. */
export interface SrvRecord {
  name: string;
  target: string;
  port: number;
}

/** A running dnsmasq. */
export interface DnsServer {
  /** `127.0.0.1:PORT`, for `dns.setServers`. */
  readonly address: string;
  stop(): Promise<void>;
}

/** dnsmasq's path: Debian installs it in /usr/sbin, which a user's PATH may not hold. */
function dnsmasqPath(): string {
  return existsSync('/usr/sbin/dnsmasq') ? '/usr/sbin/dnsmasq' : 'dnsmasq';
}

/** Starts dnsmasq serving `records`; resolves once it answers for the first of them. */
export async function startDnsServer(records: readonly SrvRecord[]): Promise<DnsServer> {
  const port = await freePort();
  const args = [
    '--keep-in-foreground',
    `--port=${port}`,
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    '--conf-file=/dev/null',
    '--pid-file=',
    ...(process.getuid?.() === 0 ? ['--user=root'] : []),
    ...records.map((record) => `--srv-host=${record.name},${record.target},${record.port},0,0`),
  ];
  const child: ChildProcess = spawn(dnsmasqPath(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let said = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    said += chunk.toString();
  });
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  const address = `127.0.0.1:${port}`;
  const resolver = new Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([address]);
  try {
    const first = records[0];
    if (first !== undefined) {
      await waitUntil(
        async () => (await resolver.resolveSrv(first.name)).length > 0,
        10_000,
        `dnsmasq on ${address}`,
      );
    }
  } catch (error) {
    reap();
    throw new Error(`${(error as Error).message}; dnsmasq said: ${said || 'nothing'}`);
  }
  return {
    address,
    async stop() {
      process.off('exit', reap);
      child.kill('SIGTERM');
      await exited(child, 5_000).catch(() => {
        reap();
      });
    },
  };
}
