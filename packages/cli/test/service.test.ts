/**
 * `taskpool serve --service --redis` announces a server in a Redis registry, and `taskpool
 * status --service --redis` lists the servers of a service: a real server, a real Redis.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createClient } from '@taskpool/client';
import { redisRegistry } from '@taskpool/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from '../../../test/helpers/redis-server.js';
import { deleteUnder, uniquePrefix } from '../../redis/test/helpers/keys.js';
import { node, taskpoolWithin, waitForLine } from './helpers/run-cli.js';

const taskpool = (...args: string[]) => taskpoolWithin(30_000, ...args);
const fixture = fileURLToPath(new URL('./fixtures/greeter.ts', import.meta.url));

let redis: { url: string; close(): Promise<void> };
const prefix = uniquePrefix();

beforeAll(async () => {
  redis = await useRedis();
});

afterAll(async () => {
  await deleteUnder(redis.url, prefix);
  await redis.close();
});

describe('a service in a Redis registry', () => {
  it('serve announces the server; status lists it, then lists none once it stopped', async () => {
    const registry = ['--service', 'greeters', '--redis', redis.url, '--prefix', prefix];
    const server = spawn(
      process.execPath,
      [...node, 'serve', fixture, '--listen', 'tcp://127.0.0.2:0', '--spares', '1', ...registry],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise<number | null>((resolve) => server.once('close', resolve));
    try {
      const started = await waitForLine(
        server,
        /serving .* on tcp:\S+[\s\S]*announcing in redis service "greeters"\n/,
      );
      const endpoint = /on (tcp:\/\/127\.0\.0\.2:\d+)/.exec(started)?.[1] as string;
      expect(endpoint).toBeDefined();
      // Listed once its first renewal is in: the status command may come first.
      let listed = await taskpool('status', ...registry, '--json');
      for (let tries = 0; listed.code !== 0 && tries < 50; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        listed = await taskpool('status', ...registry, '--json');
      }
      expect(listed.code).toBe(0);
      const [entry, ...others] = JSON.parse(listed.stdout);
      expect(others).toEqual([]);
      expect(entry).toMatchObject({ endpoint, maxWorkers: 64, busy: 0, waiting: 0 });
      const table = await taskpool('status', ...registry);
      expect(table.code).toBe(0);
      const [header, row] = table.stdout.trimEnd().split('\n');
      expect(header?.split(/\s+/)).toEqual([
        'endpoint',
        'version',
        'interface',
        'max',
        'spare',
        'busy',
        'waiting',
      ]);
      expect(row?.split(/\s+/)).toEqual([
        endpoint,
        entry.version,
        entry.interfaceHash ?? '-',
        '64',
        // Read again: a worker may have become a spare since.
        expect.stringMatching(/^\d+$/),
        '0',
        '0',
      ]);
      // A client finds it there.
      await using client = createClient({
        discover: redisRegistry({ redis: redis.url, service: 'greeters', prefix }),
      });
      expect(await client.call('greet', ['registry'])).toBe('hello, registry');
    } finally {
      server.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
    // Withdrawn on close.
    expect(await taskpool('status', ...registry)).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'taskpool: no server of redis service "greeters" is listed\n',
    });
  }, 60_000);

  it('takes --service and --redis together, and not with an endpoint', async () => {
    expect(await taskpool('status', '--service', 'x')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--service NAME and --redis URL go together'),
    });
    expect(
      await taskpool('status', 'unix:/tmp/x.sock', '--service', 'x', '--redis', redis.url),
    ).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        'status takes an endpoint, or --service and --redis, not both',
      ),
    });
    expect(
      await taskpool(
        'serve',
        fixture,
        '--listen',
        'tcp://127.0.0.2:0',
        '--advertise',
        'tcp://127.0.0.2:7000',
      ),
    ).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--advertise goes with --service NAME and --redis URL'),
    });
    expect(
      await taskpool('status', '--service', 'x', '--redis', redis.url, '--wait', '1000'),
    ).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        'status --service connects to no server: --wait does not apply',
      ),
    });
    expect(await taskpool('status', '--service', 'a{b}', '--redis', redis.url)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('redisRegistry: option service: expected'),
    });
  });
});
