/**
 * forkTaskServer's options: a bad one is INVALID_OPTION naming the option, thrown before
 * anything is forked when it can be checked here, and carried back with its code when only
 * the forked server can tell (it threw a raw TypeError, or came back as CLOSED).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { isTaskpoolError } from '@taskpool/protocol';
import { describe, expect, it } from 'vitest';
import { socketPath } from '../../../test/helpers/sockets.js';
import { builtServer, fixture } from './helpers/processes.js';

type ForkOptions = Parameters<typeof builtServer.forkTaskServer>[0];

async function refusal(options: unknown): Promise<Error & { code?: string }> {
  const error = await builtServer.forkTaskServer(options as ForkOptions).then(
    () => {
      throw new Error('forkTaskServer resolved');
    },
    (thrown: unknown) => thrown as Error & { code?: string },
  );
  // Checked here, before anything was forked: the error was made in this process by the
  // fork's option check. One carried back from a forked server has the stack it had there,
  // which runs no resolveForkOptions.
  expect(error.stack).toMatch(/\n\s+at resolveForkOptions \(/);
  return error;
}

describe('forkTaskServer options', () => {
  const module = fixture('echo-worker.ts');

  it.each([
    [
      'no options',
      undefined,
      'forkTaskServer: option module: expected the path or file URL of a worker module, received nothing',
    ],
    [
      'an unknown option, with the nearest known name',
      { module: 'w.js', spare: 1 },
      'forkTaskServer: unknown option spare (did you mean spares?)',
    ],
    [
      'no module',
      {},
      'forkTaskServer: option module: expected the path or file URL of a worker module, received nothing',
    ],
    [
      'a module that is not a path',
      { module: 42 },
      'forkTaskServer: option module: expected the path or file URL of a worker module, received 42',
    ],
    [
      'a startTimeout of 0',
      { module, startTimeout: 0 },
      'forkTaskServer: option startTimeout: expected a number of milliseconds from 1 to 2147483647, received 0',
    ],
    [
      'an interface (the code comes from the module)',
      { module, interface: { echo: () => 1 } },
      'forkTaskServer: option interface: expected nothing (the worker code comes from option module), received an object',
    ],
    [
      'handleSignals',
      { module, handleSignals: false },
      'forkTaskServer: option handleSignals: expected nothing (a forked server always handles its signals), received false',
    ],
    [
      'a listen that is not an endpoint',
      { module, listen: 'http://x' },
      'forkTaskServer: option listen: expected an endpoint (unix:/path, an absolute path, tcp://host:port or tls://host:port with a port from 0 to 65535, { path } or { host, port }), received "http://x" (a string)',
    ],
  ])('refuses %s with INVALID_OPTION, before forking', async (_name, options, message) => {
    const error = await refusal(options);
    expect(isTaskpoolError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'INVALID_OPTION', name: 'InvalidOptionError' });
    expect(error.message).toBe(message);
  });

  it('refuses a bad server option with INVALID_OPTION naming it, before forking', async () => {
    const error = await refusal({ module, spares: -1 });
    expect(error).toMatchObject({ code: 'INVALID_OPTION' });
    expect(error.message).toBe(
      'forkTaskServer: option spares: expected an integer >= 0, received -1',
    );
  });

  it('carries a failure only the forked server can tell back with its code', async () => {
    const path = socketPath(`fork-options-${Date.now()}`);
    writeFileSync(path, 'not a socket');
    try {
      const error = await builtServer
        .forkTaskServer({ module, listen: `unix:${path}`, execArgv: [], spares: 1 })
        .then(
          () => {
            throw new Error('forkTaskServer resolved');
          },
          (thrown: unknown) => thrown as Error & { code?: string },
        );
      expect(isTaskpoolError(error)).toBe(true);
      expect(error).toMatchObject({ code: 'INVALID_OPTION', name: 'InvalidOptionError' });
      expect(error.message).toBe(
        `forkTaskServer: option listen: expected a free socket path, not a regular file (it is left as it is: remove it, or listen elsewhere), received "unix:${path}" (a string)`,
      );
      // The stack is the forked server's, where the check failed.
      expect(error.stack).toContain('openListener');
      expect(error.stack).not.toContain('resolveForkOptions');
    } finally {
      rmSync(path, { force: true });
    }
  });
});
