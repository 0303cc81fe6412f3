/**
 * TLS, terminated in the worker after the supervisor hands over the raw socket: a call over
 * TLS, mutual TLS identity reaching handlers and `authorize`, TLS bound to `auth`, and
 * clients that fail the handshake costing the server no worker.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClientOptions, createClient } from '@taskpool/client';
import { formatEndpoint, type Peer } from '@taskpool/protocol';
import type { ServerOptions, TaskServer } from '@taskpool/server';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificates, type TestCertificates } from '../../../../test/helpers/certificates.js';
import { fixture } from '../helpers/processes.js';
import { securedClient, secureServer } from './helpers.js';

let certs: TestCertificates;
beforeAll(() => {
  certs = makeCertificates();
});

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tlsServer(options: Partial<ServerOptions> = {}) {
  const server = secureServer({
    listen: 'tls://127.0.0.1:0',
    tls: { key: certs.serverKey, cert: certs.serverCert },
    maxWorkers: 1,
    ...options,
  });
  cleanups.push(() => server.close());
  servers.push(server);
  const endpoint = formatEndpoint(await server.listen());
  return { server, endpoint };
}

/** The servers started by the running test, newest last. */
const servers: TaskServer[] = [];

function client(endpoint: string, options: Omit<Partial<ClientOptions>, 'interface'> = {}) {
  return securedClient(cleanups, endpoint, options);
}

describe('TLS in the worker', () => {
  it('serves calls over TLS, handshaken by the worker itself', async () => {
    const { endpoint } = await tlsServer();
    expect(endpoint).toMatch(/^tls:\/\/127\.0\.0\.1:\d+$/);
    const secure = client(endpoint, { tls: { ca: certs.ca } });
    await using co = await secure.checkout();
    expect((await co.whoami()) as Peer).toMatchObject({
      transport: 'tls',
      authenticated: false,
      subject: null,
    });
    expect(await co.processId()).toBe(co.pid);
  });

  it('refuses a plaintext client, and the worker serves the next one', async () => {
    const { server, endpoint } = await tlsServer();
    const plaintext = client(endpoint.replace('tls://', 'tcp://'));
    const error = await plaintext.checkout().catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'INCOMPATIBLE_PROTOCOL',
      message: expect.stringContaining('this server speaks TLS'),
    });
    const secure = client(endpoint, { tls: { ca: certs.ca } });
    await secure.call('processId', []);
    expect(server.stats().spawned).toBe(1);
    expect(server.stats().rejected?.['tls-failed']).toBe(1);
  });

  it('fails a client that does not trust the certificate with AUTH_FAILED', async () => {
    const { server, endpoint } = await tlsServer();
    const distrustful = client(endpoint, { tls: { ca: certs.otherCa } });
    await expect(distrustful.checkout()).rejects.toMatchObject({
      code: 'AUTH_FAILED',
      message: expect.stringContaining('TLS handshake'),
    });
    const secure = client(endpoint, { tls: { ca: certs.ca } });
    await secure.call('processId', []);
    expect(server.stats().spawned).toBe(1);
  });

  it('serves a single-file server over TLS: its workers find their own createServer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskpool-tls-single-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'server.key'), certs.serverKey);
    writeFileSync(join(dir, 'server.crt'), certs.serverCert);
    const supervisor = fork(fixture('single-file-server.ts'), [], {
      env: {
        ...process.env,
        TEST_SOCKET: 'tcp://127.0.0.1:0',
        TEST_TLS_KEY: join(dir, 'server.key'),
        TEST_TLS_CERT: join(dir, 'server.crt'),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    cleanups.push(async () => {
      supervisor.kill('SIGTERM');
      if (supervisor.exitCode === null)
        await new Promise((resolve) => supervisor.once('exit', resolve));
    });
    const ready = await new Promise<{ endpoint: string }>((resolve) =>
      supervisor.once('message', resolve),
    );
    expect(ready.endpoint).toMatch(/^tls:\/\//);
    const secure = createClient({
      connect: ready.endpoint,
      tls: { ca: certs.ca },
      minWorkers: 0,
      timeout: 5_000,
    });
    cleanups.push(() => secure.close());
    expect(await secure.call('whoami', [])).toMatchObject({ worker: true });
    // Its authorize, given to createServer, runs in its workers.
    await expect(secure.call('forbidden', [])).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('fails a TLS client of a plaintext server at once, saying so', async () => {
    const server = secureServer({ listen: 'tcp://127.0.0.1:0' });
    cleanups.push(() => server.close());
    const endpoint = formatEndpoint(await server.listen());
    const secure = client(endpoint.replace('tcp://', 'tls://'), { tls: { ca: certs.ca } });
    await expect(secure.checkout()).rejects.toMatchObject({
      code: 'INCOMPATIBLE_PROTOCOL',
      message: expect.stringContaining('did not answer with TLS'),
    });
  });

  it('reads certificate files again on a rolling restart: new connections get the renewed one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskpool-tls-renew-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const key = join(dir, 'server.key');
    const cert = join(dir, 'server.crt');
    writeFileSync(key, certs.serverKey);
    writeFileSync(cert, certs.serverCert);
    const { endpoint } = await tlsServer({
      tls: { key: { file: key }, cert: { file: cert } },
      maxWorkers: 2,
    });
    const trustsOld = client(endpoint, { tls: { ca: certs.ca } });
    await trustsOld.call('processId', []);
    await trustsOld.close();
    writeFileSync(key, certs.otherServerKey);
    writeFileSync(cert, certs.otherServerCert);
    const server = servers.at(-1);
    server?.restart();
    // The spares of the old generation go at once; the next connection gets a new worker,
    // which was sent the renewed certificate.
    const trustsNew = client(endpoint, { tls: { ca: certs.otherCa }, timeout: 10_000 });
    expect(typeof (await trustsNew.call('processId', []))).toBe('number');
    const stillOld = client(endpoint, { tls: { ca: certs.ca } });
    await expect(stillOld.checkout()).rejects.toMatchObject({ code: 'AUTH_FAILED' });
  });

  it('binds auth to the TLS session', async () => {
    const { endpoint } = await tlsServer({ auth: { keys: { k1: 'tls-bound' } } });
    const both = client(endpoint, {
      tls: { ca: certs.ca },
      auth: { keyId: 'k1', key: 'tls-bound' },
    });
    expect((await both.call('whoami', [])) as Peer).toMatchObject({
      transport: 'tls',
      keyId: 'k1',
      authenticated: true,
    });
  });
});

describe('mutual TLS', () => {
  const mutual = () =>
    tlsServer({
      tls: { key: certs.serverKey, cert: certs.serverCert, ca: certs.ca, requestCert: true },
    });

  it("gives handlers the client certificate's subject, and authorize lets billing refund", async () => {
    const { endpoint } = await mutual();
    const billing = client(endpoint, {
      tls: { ca: certs.ca, cert: certs.billingCert, key: certs.billingKey },
    });
    await using co = await billing.checkout();
    const peer = (await co.whoami()) as Peer;
    expect(peer).toMatchObject({ transport: 'tls', authenticated: true });
    expect(peer.subject).toContain('CN=billing');
    expect(peer.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(await co.refund()).toBe('refunded');
  });

  it('refuses a method authorize forbids with FORBIDDEN, and the checkout goes on', async () => {
    const { endpoint } = await mutual();
    const intern = client(endpoint, {
      tls: { ca: certs.ca, cert: certs.internCert, key: certs.internKey },
    });
    await using co = await intern.checkout();
    const pid = co.pid;
    await expect(co.refund()).rejects.toMatchObject({ code: 'FORBIDDEN', fatal: false });
    expect(((await co.whoami()) as Peer).subject).toContain('CN=intern');
    expect(await co.processId()).toBe(pid);
  });

  it('refuses a certificate no CA of the server signed, however it names itself', async () => {
    const { server, endpoint } = await mutual();
    const rogue = client(endpoint, {
      tls: { ca: certs.ca, cert: certs.rogueCert, key: certs.rogueKey },
    });
    await expect(rogue.checkout()).rejects.toMatchObject({
      code: 'AUTH_FAILED',
      message: expect.stringContaining('client certificate was not accepted'),
    });
    expect(server.stats().rejected?.['tls-failed']).toBe(1);
    expect(server.stats().spawned).toBe(1);
  });

  it('refuses a TLS client it has no room for with a close it may retry, not a plaintext frame', async () => {
    const { endpoint } = await tlsServer({ maxWaitingConnections: 0 });
    const holder = client(endpoint, { tls: { ca: certs.ca } });
    await using held = await holder.checkout();
    expect(typeof (await held.processId())).toBe('number');
    const refused = client(endpoint, { tls: { ca: certs.ca }, timeout: 1_000 });
    // Refused by the supervisor, which speaks no TLS: the client is not told it was
    // speaking to a plaintext server, and tries again until its timeout.
    await expect(refused.checkout()).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('refuses a client without a certificate, and the worker serves the next one', async () => {
    const { server, endpoint } = await mutual();
    const anonymous = client(endpoint, { tls: { ca: certs.ca } });
    await expect(anonymous.checkout()).rejects.toMatchObject({
      code: expect.stringMatching(/^(AUTH_FAILED|WORKER_LOST)$/),
    });
    const billing = client(endpoint, {
      tls: { ca: certs.ca, cert: certs.billingCert, key: certs.billingKey },
    });
    await billing.call('processId', []);
    expect(server.stats().spawned).toBe(1);
    expect(server.stats().rejected?.['tls-failed']).toBe(1);
  });
});
