// An error raised before a handler ran (an unknown method, invalid arguments, a call
// refused behind a failed one, a cancel the handler honoured) says nothing about the
// worker's health: it must go back to the pool (same pid next time, nothing counted as
// lost). An error the handler itself caused (it threw, returned a bad result, or setup
// failed) still replaces the worker on release, unless dontReforkAfterError.
import type { Checkout } from '@taskpool/client';
import { expect, it } from 'vitest';
import { serve, untypedClientOf, warm } from '../helpers/harness.js';

interface Case {
  name: string;
  fixture: string;
  /** Makes the failing call(s) and checks what they rejected with. */
  fail: (co: Checkout) => Promise<void>;
  replaced: boolean;
}

const rejects = async (promise: Promise<unknown>, code: string) => {
  await expect(promise).rejects.toMatchObject({ code });
};

const cases: Case[] = [
  {
    name: 'UNKNOWN_METHOD from the worker',
    fixture: 'scenario-worker.ts',
    fail: (co) => rejects(co.call('no_such_method'), 'UNKNOWN_METHOD'),
    replaced: false,
  },
  {
    name: 'INVALID_ARGS from the worker',
    fixture: 'hasher-worker.ts',
    fail: (co) => rejects(co.call('hash', [42]), 'INVALID_ARGS'),
    replaced: false,
  },
  {
    name: 'PRECEDING_CALL_FAILED behind an UNKNOWN_METHOD',
    fixture: 'scenario-worker.ts',
    fail: async (co) => {
      const first = co.call('no_such_method');
      const second = co.call('get_pid');
      await rejects(first, 'UNKNOWN_METHOD');
      await rejects(second, 'PRECEDING_CALL_FAILED');
    },
    replaced: false,
  },
  {
    name: 'CANCELLED: an abort the handler honoured',
    fixture: 'scenario-worker.ts',
    fail: async (co) => {
      const controller = new AbortController();
      const call = co.call('honours_signal', [], { signal: controller.signal });
      const reason = new Error('stop');
      controller.abort(reason);
      await expect(call).rejects.toBe(reason);
      expect(await co.call('echo', ['after'])).toBe('after'); // the cancel's reply came first
    },
    replaced: false,
  },
  {
    name: 'CANCELLED: an abort of a call queued behind another',
    fixture: 'scenario-worker.ts',
    fail: async (co) => {
      const running = co.call('sleep', [100]);
      const controller = new AbortController();
      const queued = co.call('echo', ['never'], { signal: controller.signal });
      controller.abort();
      await expect(queued).rejects.toMatchObject({ name: 'AbortError' });
      expect(await running).toBe(100);
    },
    replaced: false,
  },
  {
    name: 'REMOTE_ERROR: the handler threw',
    fixture: 'scenario-worker.ts',
    fail: (co) => rejects(co.call('throw', ['boom']), 'REMOTE_ERROR'),
    replaced: true,
  },
  {
    name: 'INVALID_RESULT: the handler returned a bad result',
    fixture: 'hasher-worker.ts',
    fail: (co) => rejects(co.call('lying'), 'INVALID_RESULT'),
    replaced: true,
  },
  {
    name: 'SETUP_FAILED',
    fixture: 'setup-dies-worker.ts',
    fail: (co) => rejects(co.call('never'), 'SETUP_FAILED'),
    replaced: true,
  },
];

for (const { name, fixture, fail, replaced } of cases) {
  it(`${name}: the worker is ${replaced ? 'replaced' : 'kept'}`, async () => {
    await using server = await serve(fixture);
    await using client = await warm(untypedClientOf(server, { minWorkers: 1, maxWorkers: 1 }));
    let pid: number | undefined;
    {
      await using co = await client.checkout();
      pid = co.pid;
      await fail(co);
    }
    await using next = await client.checkout();
    if (replaced) {
      expect(next.pid).not.toBe(pid);
      expect(client.stats().lost).toBe(1);
    } else {
      expect(next.pid).toBe(pid);
      expect(client.stats()).toMatchObject({ lost: 0, retired: 0 });
    }
  });
}

it('with dontReforkAfterError, a worker whose handler threw is kept', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = await warm(
    untypedClientOf(server, { minWorkers: 1, maxWorkers: 1, dontReforkAfterError: true }),
  );
  let pid: number | undefined;
  {
    await using co = await client.checkout();
    pid = co.pid;
    await rejects(co.call('throw', ['boom']), 'REMOTE_ERROR');
  }
  await using next = await client.checkout();
  expect(next.pid).toBe(pid);
  expect(client.stats().lost).toBe(0);
});
