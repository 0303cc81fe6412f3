/**
 * Protected by default: no plaintext listener beyond loopback without TLS or auth, no
 * socket in a directory other users can write to, and a default socket directory that is
 * this user's alone. (Only refusals are tried beyond loopback: nothing here listens there.)
 */
import { chmodSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createClient } from '@taskpool/client';
import { defaultSocketDirectory, defaultSocketPath, formatEndpoint } from '@taskpool/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { secureServer } from './helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'taskpool-listen-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('protected by default', () => {
  it.each(['tcp://0.0.0.0:0', 'tcp://[::]:0'])(
    'refuses to listen on %s in plaintext without auth, saying how to fix it',
    async (listen) => {
      const server = secureServer({ listen });
      cleanups.push(() => server.close());
      await expect(server.listen()).rejects.toMatchObject({
        code: 'INSECURE_LISTEN',
        message: expect.stringMatching(/set tls \(and auth\).*insecure: true/),
      });
    },
  );

  it('listens on any loopback address without protection', async () => {
    const server = secureServer({ listen: 'tcp://127.0.0.2:0' });
    cleanups.push(() => server.close());
    const endpoint = formatEndpoint(await server.listen());
    const client = createClient({ connect: endpoint, minWorkers: 0, timeout: 5_000 });
    cleanups.push(() => client.close());
    expect(typeof (await client.call('processId', []))).toBe('number');
  });

  it('refuses a socket directory others can write to, unless insecure', async () => {
    const shared = scratch();
    chmodSync(shared, 0o777);
    const refused = secureServer({ listen: `unix:${join(shared, 'a.sock')}` });
    cleanups.push(() => refused.close());
    await expect(refused.listen()).rejects.toMatchObject({
      code: 'INSECURE_LISTEN',
      message: expect.stringContaining('other users can write to it (mode 777)'),
    });
    const allowed = secureServer({ listen: `unix:${join(shared, 'b.sock')}`, insecure: true });
    cleanups.push(() => allowed.close());
    await expect(allowed.listen()).resolves.toMatchObject({ kind: 'unix' });
  });

  it('makes the default socket directory private (0700) under XDG_RUNTIME_DIR', async () => {
    const runtime = scratch();
    chmodSync(runtime, 0o700);
    const previous = process.env.XDG_RUNTIME_DIR;
    process.env.XDG_RUNTIME_DIR = runtime;
    cleanups.push(() => {
      if (previous === undefined) delete process.env.XDG_RUNTIME_DIR;
      else process.env.XDG_RUNTIME_DIR = previous;
    });
    expect(defaultSocketDirectory()).toBe(join(runtime, 'taskpool'));
    const path = defaultSocketPath();
    const server = secureServer({ listen: `unix:${path}` });
    cleanups.push(() => server.close());
    await server.listen();
    expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const client = createClient({ connect: `unix:${path}`, minWorkers: 0, timeout: 5_000 });
    cleanups.push(() => client.close());
    // Over its Unix socket a peer is trusted: it gets stacks and the interface.
    await using co = await client.checkout();
    expect(co.worker?.interface).not.toBeNull();
  });
});

describe('the default socket directory in the temporary directory', () => {
  it('is refused when another path type (a symbolic link) stands in its place', async () => {
    const runtime = process.env.XDG_RUNTIME_DIR;
    const temporary = process.env.TMPDIR;
    const shared = scratch();
    delete process.env.XDG_RUNTIME_DIR;
    process.env.TMPDIR = shared;
    cleanups.push(() => {
      if (runtime === undefined) delete process.env.XDG_RUNTIME_DIR;
      else process.env.XDG_RUNTIME_DIR = runtime;
      if (temporary === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = temporary;
    });
    // What another user could plant in a shared temporary directory: a link, which they
    // could later point at a directory of theirs.
    const target = scratch();
    symlinkSync(target, defaultSocketDirectory());
    const server = secureServer({ listen: `unix:${defaultSocketPath()}` });
    cleanups.push(() => server.close());
    await expect(server.listen()).rejects.toMatchObject({
      code: 'INSECURE_LISTEN',
      message: expect.stringContaining('it is not a directory'),
    });
  });
});

describe('mutual TLS options', () => {
  it('refuse requestCert without ca, which would trust every public CA', () => {
    expect(() =>
      secureServer({
        listen: 'tls://127.0.0.1:0',
        tls: { key: 'k', cert: 'c', requestCert: true },
      }),
    ).toThrow(/option tls\.ca: expected the CA certificates client certificates must chain to/);
  });
});

describe('the client refuses plaintext beyond loopback', () => {
  it('fails with INSECURE_CONNECT before connecting, unless told', async () => {
    // 192.0.2.1 (TEST-NET-1) is never connected to: the refusal comes first.
    const client = createClient({ connect: 'tcp://192.0.2.1:7000', minWorkers: 0, timeout: 5_000 });
    cleanups.push(() => client.close());
    await expect(client.checkout()).rejects.toMatchObject({
      code: 'INSECURE_CONNECT',
      message: expect.stringContaining('insecure: true'),
    });
  });
});
