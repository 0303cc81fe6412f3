/**
 * Servers named in DNS: `dns://name:port` (the addresses a name resolves to) and
 * `dns+srv://name` (the targets of its SRV records, from a real dnsmasq on loopback), with
 * real server processes. New connections spread over every server found.
 */
import dns from 'node:dns/promises';
import { createClient } from '@taskpool/client';
import type { ForkedServer } from '@taskpool/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DnsServer, startDnsServer } from '../../../test/helpers/dns-server.js';
import { serve } from './helpers/harness.js';

const SERVICE = '_taskpool._tcp.hasher.test';
const MIXED = '_mixed._tcp.hasher.test';

let servers: ForkedServer[] = [];
let dnsServer: DnsServer;
const systemServers = dns.getServers();

/** The port of a server listening on 127.0.0.1. */
const portOf = (server: ForkedServer) => Number(new URL(server.endpoint).port);

beforeAll(async () => {
  servers = await Promise.all(
    ['one', 'two', 'three'].map((name) =>
      serve('scenario-worker', { name, listen: 'tcp://127.0.0.1:0', spares: 2, maxWorkers: 4 }),
    ),
  );
  // localhost: resolved by the system (/etc/hosts), as a Kubernetes pod's name would be.
  dnsServer = await startDnsServer([
    ...servers.map((server) => ({ name: SERVICE, target: 'localhost', port: portOf(server) })),
    // One target that resolves, one that does not.
    { name: MIXED, target: 'localhost', port: portOf(servers[0] as ForkedServer) },
    { name: MIXED, target: 'nothere.invalid', port: 7000 },
  ]);
  // This process asks dnsmasq for SRV records (lookups of names still use the system's).
  dns.setServers([dnsServer.address]);
});

afterAll(async () => {
  dns.setServers(systemServers);
  await dnsServer?.stop();
  await Promise.all(servers.map((server) => server.close()));
});

describe('a client that finds its servers in DNS', () => {
  it('dns://name:port connects to the addresses the name resolves to', async () => {
    const [first] = servers as [ForkedServer];
    await using client = createClient({ connect: `dns://localhost:${portOf(first)}` });
    await using co = await client.checkout({ timeout: 10_000 });
    expect(co.worker?.server).toBe('one');
    expect(await client.call('echo', ['via dns'])).toBe('via dns');
  });

  it('dns+srv://name spreads new connections over every target', async () => {
    await using client = createClient({
      connect: `dns+srv://${SERVICE}`,
      minWorkers: 0,
      maxWorkers: 9,
    });
    const held = await Promise.all(
      Array.from({ length: 9 }, () => client.checkout({ timeout: 10_000 })),
    );
    const names = held.map((co) => co.worker?.server);
    for (const co of held) await co[Symbol.asyncDispose]();
    // The fewest connections first: three each.
    const count = (name: string) => names.filter((served) => served === name).length;
    expect([count('one'), count('two'), count('three')]).toEqual([3, 3, 3]);
  });

  it('keeps the targets that resolve when another does not', async () => {
    await using client = createClient({ connect: `dns+srv://${MIXED}` });
    await using co = await client.checkout({ timeout: 20_000 });
    expect(co.worker?.server).toBe('one');
  });

  it('says, when it times out, that the name lists no server and why', async () => {
    await using client = createClient({ connect: 'dns+srv://_none._tcp.hasher.test' });
    const error = await client.checkout({ timeout: 1_000 }).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(
      /^timed out after 1 seconds waiting for a worker: no server of dns\+srv:\/\/_none\._tcp\.hasher\.test is listed \(reading it failed: querySrv EREFUSED _none\._tcp\.hasher\.test\)$/,
    );
  });
});
