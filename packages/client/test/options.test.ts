/**
 * The client's options are checked by the shared option checker: one message form, unknown
 * options refused with the nearest known name (nested ones too), INVALID_OPTION from
 * createClient, checkout() and each call.
 */
import { createClient, errorScope } from '@taskpool/client';
import { InvalidOptionError } from '@taskpool/protocol';
import { describe, expect, it } from 'vitest';
import {
  checkCallOptions,
  checkCheckoutOptions,
  checkCloseOptions,
  resolveClientOptions,
} from '../src/options.js';
import { clientOf, serve, warm } from './helpers/harness.js';

const connect = 'unix:/nonexistent/taskpool.sock';

/** The error `fn` throws or rejects with, checked to be an INVALID_OPTION; its message. */
async function refusal(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).code).toBe('INVALID_OPTION');
    return (error as Error).message;
  }
  throw new Error('did not throw');
}

describe('createClient options', () => {
  it('say which option, what was expected and what came', async () => {
    expect(await refusal(() => createClient({ connect, maxWorkers: -1 }))).toBe(
      'createClient: option maxWorkers: expected an integer >= 1, received -1',
    );
    expect(
      await refusal(() => createClient({ connect, reconnect: { first: 'fast' as never } })),
    ).toBe(
      'createClient: option reconnect.first: expected a number of milliseconds from 0 to 2147483647, received "fast" (a string)',
    );
    expect(await refusal(() => createClient({ connect, idleTimeout: 2 ** 31 }))).toBe(
      'createClient: option idleTimeout: expected a number of milliseconds from 1 to 2147483647, or null for no limit, received 2147483648',
    );
    expect(await refusal(() => createClient({ connect: [] }))).toBe(
      'createClient: option connect: expected an endpoint (unix:/path, an absolute path, tcp://host:port or tls://host:port with a port from 0 to 65535, { path } or { host, port }), or a non-empty array of them, or "dns://name:port" or "dns+srv://name", received an empty array',
    );
    expect(await refusal(() => createClient(undefined as never))).toMatch(
      /^createClient: option connect: expected .*, received nothing$/,
    );
  });

  it('take one of connect and discover, and a well-formed DNS name', async () => {
    const discover = { description: 'a test registry', watch: () => ({ stop: async () => {} }) };
    expect(await refusal(() => createClient({ connect, discover }))).toBe(
      'createClient: options connect and discover: expected one of them, received both',
    );
    expect(await refusal(() => createClient({ discover: 'redis://x' as never }))).toBe(
      'createClient: option discover: expected a server discovery ({ description, watch }, such as redisRegistry(…)), received "redis://x" (a string)',
    );
    expect(await refusal(() => createClient({ connect: 'dns://hasher' }))).toBe(
      'createClient: option connect: expected dns://name:port, with a port from 1 to 65535, received "dns://hasher" (a string)',
    );
    expect(await refusal(() => createClient({ connect: 'dns+srv://hasher:7000' }))).toBe(
      'createClient: option connect: expected dns+srv://name (the SRV records give the ports), received "dns+srv://hasher:7000" (a string)',
    );
  });

  it('refuse unknown options, nested ones too, with the nearest known name when one is close', async () => {
    expect(await refusal(() => createClient({ connect, maxWorker: 4 } as never))).toBe(
      'createClient: unknown option maxWorker (did you mean maxWorkers?)',
    );
    expect(await refusal(() => createClient({ connect, reconnect: { frist: 10 } } as never))).toBe(
      'createClient: unknown option reconnect.frist (did you mean reconnect.first?)',
    );
    expect(await refusal(() => createClient({ connect, spare: 1 } as never))).toBe(
      'createClient: unknown option spare',
    );
  });

  it('fill in the documented defaults, minWorkers clamped to maxWorkers', () => {
    const resolved = resolveClientOptions({ connect, maxWorkers: 1 });
    expect(resolved).toMatchObject({
      minWorkers: 1,
      maxWorkers: 1,
      timeout: 30_000,
      maxCheckouts: null,
      leaseTimeout: 300_000,
      idleTimeout: 30_000,
      reconnect: { first: 200, every: 1_000 },
      cancelGrace: 1_000,
      connectTimeout: 10_000,
      maxFrameBytes: 16 * 1024 * 1024,
    });
  });
});

describe('checkout, call and close options', () => {
  it('are refused with INVALID_OPTION at checkout() and at each call', async () => {
    await using server = await serve('scenario-worker.ts');
    await using client = await warm(clientOf(server, { minWorkers: 1, maxWorkers: 1 }));
    expect(await refusal(() => client.checkout({ timeout: 'soon' as never }))).toBe(
      'checkout: option timeout: expected a number of milliseconds from 1 to 2147483647, or null for no limit, received "soon" (a string)',
    );
    await using co = await client.checkout();
    expect(await refusal(() => co.call('echo', [1], { timeout: 0 }))).toBe(
      'call: option timeout: expected a number of milliseconds from 1 to 2147483647, or null for no limit, received 0',
    );
    expect(await refusal(() => co.call('echo', [1], { timout: 5 } as never))).toBe(
      'call: unknown option timout (did you mean timeout?)',
    );
    expect(await refusal(() => client.checkout({ waitForServr: 0 } as never))).toBe(
      'checkout: unknown option waitForServr (did you mean waitForServer?)',
    );
    expect(await co.echo('still usable')).toBe('still usable');
    await co.release();
    expect(await refusal(() => client.call('echo', [1], { waitForServer: -1 }))).toBe(
      'client.call: option waitForServer: expected a number of milliseconds from 0 to 2147483647, or null for no limit (until the timeout), received -1',
    );
    expect(await refusal(() => client.close({ timeout: -1 }))).toBe(
      'close: option timeout: expected a number of milliseconds from 0 to 2147483647, received -1',
    );
    expect(await client.call('echo', ['one-shot still works'])).toBe('one-shot still works');
  });

  it('are checked key by key, unknown keys included', () => {
    expect(checkCheckoutOptions(undefined)).toBeUndefined();
    expect(checkCheckoutOptions({ timeout: null, waitForServer: 0 })).toBeUndefined();
    // Fractions, as every other duration of the client (timeout: 1.5 is taken too).
    expect(checkCheckoutOptions({ timeout: 1.5, waitForServer: 0.5 })).toBeUndefined();
    expect(checkCallOptions('client.call', { waitForServer: 12.5 })).toBeUndefined();
    expect(() => checkCheckoutOptions({ timout: 5 })).toThrow(
      'checkout: unknown option timout (did you mean timeout?)',
    );
    expect(() => checkCheckoutOptions({ signal: 'stop' })).toThrow(
      'checkout: option signal: expected an AbortSignal, received "stop" (a string)',
    );
    expect(() => checkCheckoutOptions({ waitForServer: -1 })).toThrow(
      'checkout: option waitForServer: expected a number of milliseconds from 0 to 2147483647, or null for no limit (until the timeout), received -1',
    );
    expect(checkCallOptions('call', { timeout: 5 })).toBeUndefined();
    expect(() => checkCallOptions('call', { waitForServer: 0 })).toThrow(
      'call: unknown option waitForServer',
    );
    expect(checkCallOptions('client.call', { waitForServer: 0 })).toBeUndefined();
    expect(() => checkCloseOptions({ timeout: -1 })).toThrow(
      'close: option timeout: expected a number of milliseconds from 0 to 2147483647, received -1',
    );
  });
});

describe('close()', () => {
  it('rejects on a bad option instead of throwing at the caller', async () => {
    await using client = createClient({ connect, minWorkers: 0 });
    let closing: Promise<void> | undefined;
    expect(() => {
      closing = client.close({ timeout: -1 });
    }).not.toThrow();
    await expect(closing).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message:
        'close: option timeout: expected a number of milliseconds from 0 to 2147483647, received -1',
    });
    // The usual way to handle it: .catch() is reached, nothing is thrown past it.
    const caught = await client.close({ timeot: 5 } as never).catch((error: unknown) => error);
    expect(caught).toBeInstanceOf(InvalidOptionError);
    expect((caught as Error).message).toBe('close: unknown option timeot (did you mean timeout?)');
    // The refused close did not close the client: a good one still does.
    await client.close({ timeout: 0 });
  });
});

describe('null as options', () => {
  it('is refused with INVALID_OPTION by every entry point, never a TypeError', async () => {
    await using server = await serve('scenario-worker.ts');
    await using client = await warm(clientOf(server, { minWorkers: 1, maxWorkers: 1 }));
    expect(await refusal(() => client.checkout(null as never))).toBe(
      'checkout: options: expected an object, received null',
    );
    expect(await refusal(() => client.call('echo', [1], null as never))).toBe(
      'client.call: options: expected an object, received null',
    );
    expect(await refusal(() => client.withCheckout(() => 1, null as never))).toBe(
      'checkout: options: expected an object, received null',
    );
    await using co = await client.checkout();
    expect(await refusal(() => co.call('echo', [1], null as never))).toBe(
      'call: options: expected an object, received null',
    );
    // Checked before the signal is read: an aborted one does not hide a wrong option.
    expect(
      await refusal(() =>
        co.call('echo', [1], { signal: AbortSignal.abort(), timout: 5 } as never),
      ),
    ).toBe('call: unknown option timout (did you mean timeout?)');
    expect(await co.echo('still usable')).toBe('still usable');
    await co.release();
    expect(await refusal(() => client.close(null as never))).toBe(
      'close: options: expected an object, received null',
    );
    expect(await client.call('echo', ['still open'])).toBe('still open');
  });
});

describe('errorScope options', () => {
  it('are checked, unknown keys included', () => {
    expect(() => errorScope(() => 1, { name: 5 } as never)).toThrow(
      'errorScope: option name: expected a string, received 5',
    );
    expect(() => errorScope(() => 1, { cach: () => {} } as never)).toThrow(
      'errorScope: unknown option cach (did you mean catch?)',
    );
    expect(() => errorScope(() => 1, { catch: 'log' } as never)).toThrow(
      'errorScope: option catch: expected a function, received "log" (a string)',
    );
    expect(() => errorScope(() => 1, { values: { at: () => 1 } })).toThrow(
      'errorScope: option values: expected an object of JSON values, received an object',
    );
    expect(() => errorScope(() => 1, null as never)).toThrow(
      'errorScope: options: expected an object, received null',
    );
    let thrown: unknown;
    try {
      errorScope(() => 1, { values: [1] as never });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidOptionError);
    expect(errorScope(() => 2, { name: 'fine', values: { requestId: 'r1' } })).toBe(2);
    expect(errorScope(() => 3)).toBe(3);
  });
});
