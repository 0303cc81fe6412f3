/**
 * The command line's protection: `serve` with a shared secret, TLS and the default socket,
 * the connection options of the client commands, and servers that keep their interface
 * from peers that did not authenticate. Real processes, on loopback and in private
 * directories only.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatEndpoint } from '@taskpool/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { makeCertificates } from '../../../test/helpers/certificates.js';
import { builtServer, eventually, fixtureOf } from '../../../test/helpers/processes.js';
import { socketPath } from '../../../test/helpers/sockets.js';
import {
  AUTH_KEY_ENV,
  connectSecurity,
  inCommandLineTerms,
  serveSecurity,
  withheldInterface,
} from '../src/security.js';
import { taskpool, taskpoolWithEnv } from './helpers/run-cli.js';
import { startServe } from './helpers/serve.js';

const greeter = fileURLToPath(new URL('./fixtures/greeter.ts', import.meta.url));
const envWorker = fileURLToPath(new URL('./fixtures/env-worker.ts', import.meta.url));

/** A private directory (mode 0700) for this file's keys and certificates. */
const secrets = mkdtempSync(join(tmpdir(), 'taskpool-cli-secrets-'));
afterAll(() => rmSync(secrets, { recursive: true, force: true }));

/** Writes `text` to a file of its own (mode 0600) in the private directory. */
function secretFile(name: string, text: string): string {
  const path = join(secrets, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

const keyFile = secretFile('auth.key', 'correct horse battery staple\n');
const wrongKeyFile = secretFile('wrong.key', 'not the key\n');

/** This process's environment without the shared secret, whatever the shell set. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { [AUTH_KEY_ENV]: _secret, ...env } = process.env;
  return { ...env, ...extra };
}

/** The rows of `status`'s table, by name. */
function statusRows(stdout: string): Map<string, string> {
  return new Map(
    stdout
      .trimEnd()
      .split('\n')
      .map((line) => {
        const match = /^(\S+(?: \S+)*)\s{2,}(.*)$/.exec(line);
        return [match?.[1] ?? line, match?.[2] ?? ''] as [string, string];
      }),
  );
}

describe('taskpool serve --auth-key-file, and the client commands with it', () => {
  it('serves over TCP to clients that hold the key, refuses others with AUTH_FAILED, and counts them', async () => {
    await using server = await startServe(
      [greeter, '--listen', 'tcp://127.0.0.1:0', '--auth-key-file', keyFile, '--spares', '1'],
      cleanEnv(),
    );
    const { endpoint } = server;
    expect(endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const run = (...args: string[]) => taskpoolWithEnv(cleanEnv(), ...args);

    const greeting = await run('call', endpoint, 'greet', 'world', '--auth-key-file', keyFile);
    expect(greeting).toMatchObject({ code: 0, stdout: '"hello, world"\n' });

    // No key: the client cannot answer the server's challenge.
    const keyless = await run('call', endpoint, 'greet', 'world');
    expect(keyless.code).toBe(1);
    expect(keyless.stdout).toBe('');
    expect(keyless.stderr).toContain('AUTH_FAILED');
    expect(keyless.stderr).toContain(`${endpoint} requires authentication`);
    expect(keyless.stderr).toContain('--auth-key-file');
    // Another key, or the key under an id the server does not know: the server refuses.
    const wrong = await run('call', endpoint, 'greet', 'world', '--auth-key-file', wrongKeyFile);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('AUTH_FAILED');
    const otherId = await run(
      'call',
      endpoint,
      'greet',
      'world',
      '--auth-key-file',
      keyFile,
      '--auth-key-id',
      'k2',
    );
    expect(otherId.code).toBe(1);
    expect(otherId.stderr).toContain('AUTH_FAILED');

    // The key from TASKPOOL_AUTH_KEY, without --auth-key-file.
    const fromEnv = await taskpoolWithEnv(
      cleanEnv({ [AUTH_KEY_ENV]: 'correct horse battery staple' }),
      'call',
      endpoint,
      'add',
      '2',
      '40',
    );
    expect(fromEnv).toMatchObject({ code: 0, stdout: '42\n' });

    // Authenticated, the interface is told.
    const described = await run('describe', endpoint, '--auth-key-file', keyFile);
    expect(described.code, described.stderr).toBe(0);
    expect(Object.keys(JSON.parse(described.stdout).interface.methods)).toEqual(['greet', 'add']);

    // The two refused by the server (the keyless client hung up itself) are counted.
    let report: { rejected?: Record<string, number>; interfaceWithheld?: boolean } = {};
    await eventually(
      async () => {
        const status = await run('status', endpoint, '--json', '--auth-key-file', keyFile);
        expect(status.code, status.stderr).toBe(0);
        report = JSON.parse(status.stdout);
        return report.rejected?.['auth-failed'] === 2;
      },
      10_000,
      'two auth-failed rejections',
    );
    expect(report.interfaceWithheld).toBe(false);
    const table = await run('status', endpoint, '--auth-key-file', keyFile);
    expect(table.code).toBe(0);
    const rows = statusRows(table.stdout);
    expect(rows.get('rejected auth-failed')).toBe('2');
    expect(rows.get('interface')).toBe('Interface');
    // The rows of connections turned away come together, before what the server measured.
    const names = [...rows.keys()];
    expect(names[names.indexOf('calls') - 1]).toMatch(/^rejected /);

    expect(await server.stop()).toBe(0);
  }, 60_000);

  it('takes the key from TASKPOOL_AUTH_KEY, and keeps it from the workers', async () => {
    const key = 'a key from the environment';
    await using server = await startServe(
      [envWorker, '--listen', 'tcp://127.0.0.1:0', '--spares', '1'],
      cleanEnv({ [AUTH_KEY_ENV]: key, TASKPOOL_CLI_TEST_MARK: 'kept' }),
    );
    const withKey = cleanEnv({ [AUTH_KEY_ENV]: key });
    const call = (name: string) =>
      taskpoolWithEnv(withKey, 'call', server.endpoint, 'env', JSON.stringify(name));
    // The workers have the rest of the environment, but not the key.
    expect(await call('TASKPOOL_CLI_TEST_MARK')).toMatchObject({ code: 0, stdout: '"kept"\n' });
    expect(await call(AUTH_KEY_ENV)).toMatchObject({ code: 0, stdout: 'null\n' });
    const keyless = await taskpoolWithEnv(cleanEnv(), 'call', server.endpoint, 'env', 'HOME');
    expect(keyless.code).toBe(1);
    expect(keyless.stderr).toContain('AUTH_FAILED');
  }, 60_000);
});

describe('a server that withholds its interface from unauthenticated TCP peers', () => {
  it('fails describe and types with exit 1, saying so; status says it is withheld', async () => {
    await using server = builtServer.createServer({
      name: 'greeter',
      listen: 'tcp://127.0.0.1:0',
      workerModule: fixtureOf('cli', 'greeter.ts'),
      spares: 1,
      handleSignals: false,
      execArgv: [],
    });
    const endpoint = formatEndpoint(await server.listen());
    const said = `taskpool: the server at ${endpoint} withholds its interface from unauthenticated peers: connect over its Unix socket, or with --auth-key-file (or ${AUTH_KEY_ENV}), or a client certificate (--tls-cert, --tls-key)\n`;
    const run = (...args: string[]) => taskpoolWithEnv(cleanEnv(), ...args);

    expect(await run('describe', endpoint)).toEqual({ code: 1, stdout: '', stderr: said });
    expect(await run('types', endpoint)).toEqual({ code: 1, stdout: '', stderr: said });
    const out = join(secrets, 'greeter.d.ts');
    expect(await run('types', endpoint, '--out', out)).toMatchObject({ code: 1, stderr: said });
    expect(() => statSync(out)).toThrow();

    // Calls are served all the same.
    expect(await run('call', endpoint, 'greet', 'tcp')).toMatchObject({
      code: 0,
      stdout: '"hello, tcp"\n',
    });
    const status = await run('status', endpoint, '--json');
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      interfaceName: null,
      interfaceHash: null,
      interfaceWithheld: true,
      rejected: {},
    });
    const rows = statusRows((await run('status', endpoint)).stdout);
    expect(rows.get('interface')).toBe('- (withheld: not authenticated)');
    expect(rows.get('rejected')).toBe('0');
  });
});

describe('taskpool serve without --listen', () => {
  it('listens on $XDG_RUNTIME_DIR/taskpool/taskpool.sock, in a directory it makes mode 0700', async () => {
    const runtime = mkdtempSync(join(tmpdir(), 'taskpool-cli-runtime-'));
    try {
      const env = cleanEnv({ XDG_RUNTIME_DIR: runtime });
      const socket = join(runtime, 'taskpool', 'taskpool.sock');
      {
        await using server = await startServe([greeter, '--spares', '1'], env);
        expect(server.endpoint).toBe(`unix:${socket}`);
        expect(statSync(join(runtime, 'taskpool')).mode & 0o777).toBe(0o700);
        expect(statSync(socket).isSocket()).toBe(true);
        // Over its Unix socket, the interface is told without a key.
        const described = await taskpoolWithEnv(env, 'describe', server.endpoint);
        expect(described.code, described.stderr).toBe(0);
        expect(JSON.parse(described.stdout).interface).not.toBeNull();
        expect(await server.stop()).toBe(0);
      }
      expect(() => statSync(socket)).toThrow();
    } finally {
      rmSync(runtime, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses a socket in a directory others can write to, unless --insecure', async () => {
    const refused = await taskpool(
      'serve',
      greeter,
      '--listen',
      `unix:${join(tmpdir(), 'x.sock')}`,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('INSECURE_LISTEN');
    // The server's advice, in the command line's words.
    expect(refused.stderr).toContain('or give --insecure');
    expect(refused.stderr).not.toContain('insecure: true');
  });
});

describe('taskpool serve --tls-key --tls-cert, and the client commands with --tls-*', () => {
  it('serves TLS, with client certificates when --tls-request-cert', async () => {
    const pem = makeCertificates();
    const files = {
      ca: secretFile('ca.crt', pem.ca),
      key: secretFile('server.key', pem.serverKey),
      cert: secretFile('server.crt', pem.serverCert),
      clientKey: secretFile('billing.key', pem.billingKey),
      clientCert: secretFile('billing.crt', pem.billingCert),
    };
    await using server = await startServe(
      [
        greeter,
        '--listen',
        'tcp://127.0.0.1:0',
        '--tls-key',
        files.key,
        '--tls-cert',
        files.cert,
        '--tls-ca',
        files.ca,
        '--tls-request-cert',
        '--spares',
        '1',
      ],
      cleanEnv(),
    );
    expect(server.endpoint).toMatch(/^tls:\/\/127\.0\.0\.1:\d+$/);
    const port = server.endpoint.split(':').at(-1);
    const run = (...args: string[]) => taskpoolWithEnv(cleanEnv(), ...args);
    const client = [
      '--tls-ca',
      files.ca,
      '--tls-cert',
      files.clientCert,
      '--tls-key',
      files.clientKey,
    ];

    const greeting = await run('call', server.endpoint, 'greet', 'tls', ...client);
    expect(greeting).toMatchObject({ code: 0, stdout: '"hello, tls"\n' });
    // Any --tls-* option makes a tcp:// endpoint TLS too.
    const overTcp = await run('call', `tcp://127.0.0.1:${port}`, 'add', '1', '2', ...client);
    expect(overTcp).toMatchObject({ code: 0, stdout: '3\n' });
    // A verified client certificate authenticates: the interface is told.
    const described = await run('describe', server.endpoint, ...client);
    expect(described.code, described.stderr).toBe(0);
    expect(JSON.parse(described.stdout).interface).not.toBeNull();

    // Without a client certificate, or without the CA, the handshake fails.
    const anonymous = await run('call', server.endpoint, 'greet', 'x', '--tls-ca', files.ca);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain('AUTH_FAILED');
    const unverified = await run('call', server.endpoint, 'greet', 'x');
    expect(unverified.code).toBe(1);
    expect(unverified.stderr).toContain('AUTH_FAILED: the TLS handshake');
    // A name the certificate does not carry.
    const misnamed = await run(
      'call',
      server.endpoint,
      'greet',
      'x',
      ...client,
      '--tls-servername',
      'elsewhere.example',
    );
    expect(misnamed.code).toBe(1);
    expect(misnamed.stderr).toContain('AUTH_FAILED');
  }, 60_000);

  it('names the option whose file cannot be read', async () => {
    const missing = join(secrets, 'missing.key');
    const served = await taskpool(
      'serve',
      greeter,
      '--listen',
      'tcp://127.0.0.1:0',
      '--tls-key',
      missing,
      '--tls-cert',
      missing,
    );
    expect(served.code).toBe(1);
    expect(served.stderr).toBe(
      `taskpool: INVALID_OPTION: --tls-key: expected a readable file, received ${JSON.stringify(missing)} (ENOENT)\n`,
    );
    const called = await taskpool(
      'call',
      `unix:${socketPath('never.sock')}`,
      'greet',
      '--auth-key-file',
      missing,
    );
    expect(called.code).toBe(1);
    expect(called.stderr).toBe(
      `taskpool: INVALID_OPTION: --auth-key-file (or ${AUTH_KEY_ENV}): expected a readable file, received ${JSON.stringify(missing)} (ENOENT)\n`,
    );
  });
});

describe('bad usage of the protection options (exit 2)', () => {
  it.each([
    [['serve', greeter, '--tls-key', 'server.key'], '--tls-key and --tls-cert go together'],
    [['serve', greeter, '--tls-request-cert'], '--tls-request-cert is for a TLS server'],
    [
      ['serve', greeter, '--tls-key', 's.key', '--tls-cert', 's.crt', '--tls-request-cert'],
      '--tls-request-cert needs --tls-ca',
    ],
    [
      ['serve', greeter, '--handshake-timeout', '0'],
      '--handshake-timeout: expected a whole number',
    ],
    [
      ['call', 'unix:/x.sock', 'greet', '--tls-cert', 'c.crt'],
      '--tls-cert and --tls-key go together',
    ],
    [['status', 'unix:/x.sock', '--auth-key-id', 'k1'], '--auth-key-id names the key'],
    [['types', '--module', 'x.ts', '--auth-key-file', 'k'], '--auth-key-file is for an endpoint'],
  ])('%j', async (args, message) => {
    const run = await taskpoolWithEnv(cleanEnv(), ...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });
});

describe('connectSecurity and serveSecurity', () => {
  const withoutKey = cleanEnv();
  const withEnv = (env: NodeJS.ProcessEnv, body: () => void) => {
    const saved = process.env;
    process.env = env;
    try {
      body();
    } finally {
      process.env = saved;
    }
  };

  it('turn the options into the client options, files as { file } sources', () => {
    withEnv(withoutKey, () => {
      expect(connectSecurity({})).toEqual({});
      expect(
        connectSecurity({
          'tls-ca': 'ca.crt',
          'tls-cert': 'c.crt',
          'tls-key': 'c.key',
          'tls-servername': 'hasher.internal',
          'auth-key-file': 'auth.key',
          'auth-key-id': 'k2026',
          insecure: true,
        }),
      ).toEqual({
        tls: {
          ca: { file: 'ca.crt' },
          cert: { file: 'c.crt' },
          key: { file: 'c.key' },
          servername: 'hasher.internal',
        },
        auth: { keyId: 'k2026', key: { file: 'auth.key' } },
        insecure: true,
      });
    });
    withEnv({ ...withoutKey, [AUTH_KEY_ENV]: 'secret' }, () => {
      expect(connectSecurity({})).toEqual({
        auth: { keyId: 'default', key: { env: AUTH_KEY_ENV } },
      });
      // A file named wins over the environment.
      expect(connectSecurity({ 'auth-key-file': 'k' }).auth).toEqual({
        keyId: 'default',
        key: { file: 'k' },
      });
    });
  });

  it('turn the options into the server options; the workers do not get the key', () => {
    withEnv(withoutKey, () => {
      expect(serveSecurity({})).toEqual({});
      expect(
        serveSecurity({
          'tls-key': 's.key',
          'tls-cert': 's.crt',
          'tls-ca': 'ca.crt',
          'tls-request-cert': true,
          'auth-key-file': 'auth.key',
          'handshake-timeout': '2000',
          insecure: true,
        }),
      ).toEqual({
        tls: {
          key: { file: 's.key' },
          cert: { file: 's.crt' },
          ca: { file: 'ca.crt' },
          requestCert: true,
        },
        auth: { keys: { default: { file: 'auth.key' } } },
        insecure: true,
        handshakeTimeout: 2000,
      });
    });
    withEnv({ ...withoutKey, [AUTH_KEY_ENV]: 'secret', OTHER: 'kept' }, () => {
      const options = serveSecurity({ 'auth-key-id': 'k1' });
      expect(options.auth).toEqual({ keys: { k1: { env: AUTH_KEY_ENV } } });
      expect(options.env).toMatchObject({ OTHER: 'kept' });
      expect(options.env).not.toHaveProperty(AUTH_KEY_ENV);
    });
  });

  it('say the withheld interface, and the API advice in options of the command line', () => {
    expect(withheldInterface('tcp://h:1', { interfaceWithheld: true })).toContain(
      'the server at tcp://h:1 withholds its interface from unauthenticated peers',
    );
    expect(withheldInterface('tcp://h:1', {})).toBeUndefined();
    expect(withheldInterface('tcp://h:1', undefined)).toBeUndefined();
    expect(
      inCommandLineTerms(
        'INSECURE_CONNECT: refusing …: connect with tls:// (option tls), set option auth, or set insecure: true if the network itself is trusted',
      ),
    ).toBe(
      'INSECURE_CONNECT: refusing …: connect with tls:// (or --tls-ca), give --auth-key-file, or give --insecure if the network itself is trusted',
    );
    expect(
      inCommandLineTerms(
        'AUTH_FAILED: tcp://h:1 requires authentication: set option auth ({ keyId, key })',
      ),
    ).toBe(
      `AUTH_FAILED: tcp://h:1 requires authentication: give its key with --auth-key-file (or ${AUTH_KEY_ENV})`,
    );
    expect(
      inCommandLineTerms(
        'INVALID_OPTION: createServer: option auth.keys.k1: expected a non-empty secret, received an empty one',
      ),
    ).toBe(
      `INVALID_OPTION: --auth-key-file (or ${AUTH_KEY_ENV}): expected a non-empty secret, received an empty one`,
    );
    expect(inCommandLineTerms('REMOTE_ERROR: nothing to change')).toBe(
      'REMOTE_ERROR: nothing to change',
    );
  });
});
