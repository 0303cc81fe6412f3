/**
 * The client's options are checked by the shared option checker: one message form, unknown
 * options refused with the nearest known name (nested ones too), INVALID_OPTION from
 * createClient, checkout() and each call.
 */
import { createClient } from '@taskpool/client';
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
      'createClient: option connect: expected an endpoint (unix:/path, an absolute path, tcp://host:port with a port from 0 to 65535, { path } or { host, port }), or a non-empty array of them, received an empty array',
    );
    expect(await refusal(() => createClient(undefined as never))).toMatch(
      /^createClient: option connect: expected .*, received nothing$/,
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
      'client.call: option waitForServer: expected a whole number of milliseconds from 0 to 2147483647, or null for no limit (until the timeout), received -1',
    );
    expect(await refusal(() => client.close({ timeout: -1 }))).toBe(
      'close: option timeout: expected a number of milliseconds from 0 to 2147483647, received -1',
    );
    expect(await client.call('echo', ['one-shot still works'])).toBe('one-shot still works');
  });

  it('are checked key by key, unknown keys included', () => {
    expect(checkCheckoutOptions(undefined)).toBeUndefined();
    expect(checkCheckoutOptions({ timeout: null, waitForServer: 0 })).toBeUndefined();
    expect(() => checkCheckoutOptions({ timout: 5 })).toThrow(
      'checkout: unknown option timout (did you mean timeout?)',
    );
    expect(() => checkCheckoutOptions({ signal: 'stop' })).toThrow(
      'checkout: option signal: expected an AbortSignal, received "stop" (a string)',
    );
    expect(() => checkCheckoutOptions({ waitForServer: -1 })).toThrow(
      'checkout: option waitForServer: expected a whole number of milliseconds from 0 to 2147483647, or null for no limit (until the timeout), received -1',
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
