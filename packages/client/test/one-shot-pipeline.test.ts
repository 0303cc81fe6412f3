// One-shot calls pipelined on busy workers: when no worker is idle and none may be opened,
// client.call sends the next calls (each with its own `done`) to a worker before the
// reply to the one it runs has come back. Each is still a checkout of its own
// (checkoutDone runs between them); those behind a call that failed never run there and
// are sent again; an aborted one the worker has not started never runs; waiting checkouts
// are not overtaken; a worker busy with a long call does not collect a queue.
//
// The client pipelines a method's calls only once replies have shown that they are short,
// so each test first makes a few hundred small calls of `record`, and then makes every
// call it wants pipelined with `record` too (a call of it that is slow, or fails, is one
// the client expected to be short). Whether a given call was pipelined still depends on
// how fast this machine answered them: where a test needs it, it checks that the calls
// went out (diagnostics `call:start`) and, if a busy machine kept the client from it, runs
// its scenario again.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CHANNELS,
  type Client,
  type ClientOptions,
  createClient,
  type MethodsOf,
} from '@taskpool/client';
import { defineInterface } from '@taskpool/protocol';
import type { ForkedServer } from '@taskpool/server';
import { afterAll, expect, it } from 'vitest';
import { z } from 'zod';
import type { handlers } from './fixtures/pipeline-worker.js';
import { eventually, pause, serve, warm } from './helpers/harness.js';

type PipelineMethods = MethodsOf<typeof handlers>;

const dir = mkdtempSync(join(tmpdir(), 'taskpool-pipeline-'));
let files = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A new file name in this test's directory. */
const fileName = (what: string) => join(dir, `${what}-${++files}`);

interface Line {
  tag: string;
  pid: number;
}

/** What the workers wrote to `log`, in order (`done` lines are checkoutDone's). */
function readLog(log: string): Line[] {
  let text = '';
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [tag, pid] = line.split(' ');
      return { tag: tag as string, pid: Number(pid) };
    });
}

const tagsOf = (lines: Line[]) => lines.filter((line) => line.tag !== 'done').map((l) => l.tag);

function clientOf(
  server: ForkedServer,
  workers: number,
  options: Omit<ClientOptions, 'connect' | 'interface'> = {},
): Client<PipelineMethods> {
  return createClient<PipelineMethods>({
    connect: server.endpoint,
    minWorkers: workers,
    maxWorkers: workers,
    ...options,
  });
}

/** Small calls, many at once, so that the client learns that calls here are short. */
async function calibrate(client: Client<PipelineMethods>): Promise<void> {
  const log = fileName('calibrate');
  const tags = Array.from({ length: 300 }, (_, i) => `c${i}`);
  expect(await Promise.all(tags.map((tag) => client.call('record', [log, tag])))).toEqual(tags);
}

/** Counts the calls sent to a worker (a call sent again counts again). */
function countSends(): { readonly count: number; stop(): void } {
  const counter = {
    count: 0,
    stop: () => unsubscribe(CHANNELS.callStart, onStart),
  };
  const onStart = () => {
    counter.count++;
  };
  subscribe(CHANNELS.callStart, onStart);
  return counter;
}

/**
 * Runs `scenario` until the client pipelined what it made (it returns whether it did), at
 * most 5 times: a busy machine can keep the client from pipelining once, not five times.
 */
async function whenPipelined(
  client: Client<PipelineMethods>,
  scenario: () => Promise<boolean>,
): Promise<void> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    await calibrate(client);
    if (await scenario()) return;
  }
  throw new Error('the client never pipelined the calls of this scenario');
}

it('pipelines calls behind a failed one, sends them again, and runs each once, in order, with checkoutDone between', async () => {
  await using server = await serve('pipeline-worker.ts', { spares: 1 });
  await using client = await warm(clientOf(server, 1));
  await whenPipelined(client, async () => {
    const log = fileName('failed');
    const sends = countSends();
    const lostBefore = client.stats().lost;
    let pipelined: boolean;
    let failing: Promise<unknown>;
    let behind: Promise<unknown>[];
    try {
      failing = client.call('record', [log, 'boom', { fail: true }]).catch((e: unknown) => e);
      const tags = Array.from({ length: 30 }, (_, i) => `r${i}`);
      behind = tags.map((tag) => client.call('record', [log, tag]));
      pipelined = sends.count > 1;
      expect(await failing).toMatchObject({ message: 'boom failed on purpose' });
      expect(await Promise.all(behind)).toEqual(tags);
      const lines = readLog(log);
      // Every call ran once, in the order made: those sent again went first.
      expect(tagsOf(lines)).toEqual(['boom', ...tags]);
      // None behind the failure ran on the worker that failed: it was replaced.
      const failedOn = lines[0]?.pid;
      const ran = lines.filter((line) => line.tag.startsWith('r'));
      expect(ran.every((line) => line.pid !== failedOn)).toBe(true);
      expect(client.stats().lost).toBe(lostBefore + 1);
      // Each call was a checkout of its own: on every worker, checkoutDone ran after each
      // call before the next (and after each call it refused: that was a checkout too).
      for (const pid of new Set(lines.map((line) => line.pid))) {
        const own = lines.filter((line) => line.pid === pid).map((line) => line.tag !== 'done');
        expect(own.some((isCall, i) => isCall && own[i + 1] !== false)).toBe(false);
      }
      if (pipelined) {
        // The calls pipelined behind the failing one were sent twice.
        expect(sends.count).toBeGreaterThan(31);
      }
    } finally {
      sends.stop();
    }
    return pipelined;
  });
});

it('never runs an aborted call pipelined behind a running one, and keeps the worker and the call ahead', async () => {
  await using server = await serve('pipeline-worker.ts', { spares: 1 });
  // A grace far shorter than the call ahead takes: the aborted call is not the one that
  // holds the worker up, so its grace does not count while it waits.
  await using client = await warm(clientOf(server, 1, { cancelGrace: 50 }));
  await whenPipelined(client, async () => {
    const log = fileName('aborted');
    const sends = countSends();
    const lostBefore = client.stats().lost;
    const controller = new AbortController();
    // Blocks the worker: it reads the cancel only once the head call has returned.
    const head = client.call('record', [log, 'head', { block: 500 }]);
    const aborted = client.call('record', [log, 'aborted'], { signal: controller.signal });
    const after = client.call('record', [log, 'after']);
    const pipelined = sends.count === 3;
    sends.stop();
    await eventually(() => tagsOf(readLog(log)).includes('head'), 10_000, 'the head call runs');
    const reason = new Error('changed my mind');
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    expect(await head).toBe('head');
    expect(await after).toBe('after');
    const lines = readLog(log);
    expect(tagsOf(lines)).toEqual(['head', 'after']);
    if (pipelined) {
      // Its `done` still ran: a checkout without a call.
      expect(lines.map((line) => line.tag)).toEqual(['head', 'done', 'done', 'after', 'done']);
    }
    expect(client.stats().lost).toBe(lostBefore);
    return pipelined;
  });
});

it('serves waiting checkouts in turn: one-shot calls made after a checkout are not pipelined ahead of it', async () => {
  await using server = await serve('pipeline-worker.ts', { spares: 1 });
  await using client = await warm(clientOf(server, 1));
  await calibrate(client);
  const log = fileName('fifo');
  const before = Array.from({ length: 10 }, (_, i) => client.call('record', [log, `s${i}`]));
  const checkout = client.checkout();
  const after = Array.from({ length: 10 }, (_, i) => client.call('record', [log, `e${i}`]));
  {
    await using co = await checkout;
    await co.record(log, 'C');
  }
  await Promise.all([...before, ...after]);
  expect(tagsOf(readLog(log))).toEqual([
    ...Array.from({ length: 10 }, (_, i) => `s${i}`),
    'C',
    ...Array.from({ length: 10 }, (_, i) => `e${i}`),
  ]);
});

it('does not pipeline onto a worker busy with a long call while another can take the calls', async () => {
  await using server = await serve('pipeline-worker.ts', { spares: 2 });
  await using client = await warm(clientOf(server, 2), 2);
  await calibrate(client);
  const log = fileName('long');
  const flag = fileName('flag');
  const long = client
    .call('record', [log, 'long', { waitFor: flag }])
    .catch((error: unknown) => error);
  await eventually(() => tagsOf(readLog(log)).includes('long'), 10_000, 'the long call runs');
  // Past the longest a lane may go without a reply before it counts as busy (a few times
  // what a call of `record` takes, at least 1 ms): a lower bound, however slow this
  // machine is.
  await pause(50);
  const longOn = readLog(log)[0]?.pid;
  const tags = Array.from({ length: 40 }, (_, i) => `q${i}`);
  // Each with a deadline: a call queued behind the long one would wait for the flag.
  const answers = await Promise.all(
    tags.map((tag) => client.call('record', [log, tag], { timeout: 20_000 })),
  );
  expect(answers).toEqual(tags);
  const quick = readLog(log).filter((line) => line.tag.startsWith('q'));
  expect(quick).toHaveLength(40);
  expect(quick.every((line) => line.pid !== longOn)).toBe(true);
  writeFileSync(flag, '');
  expect(await long).toBe('long');
});

it('fails the calls pipelined on a worker killed with SIGKILL with WORKER_LOST, and serves the next', async () => {
  await using server = await serve('pipeline-worker.ts', { spares: 1 });
  await using client = await warm(clientOf(server, 1));
  await whenPipelined(client, async () => {
    const log = fileName('killed');
    const flag = fileName('flag');
    const sends = countSends();
    const head = client
      .call('record', [log, 'head', { waitFor: flag }])
      .catch((error: unknown) => error);
    const behind = Array.from({ length: 5 }, (_, i) =>
      client.call('record', [log, `k${i}`]).catch((error: unknown) => error),
    );
    const pipelined = sends.count === 6;
    sends.stop();
    await eventually(() => tagsOf(readLog(log)).includes('head'), 10_000, 'the head call runs');
    process.kill(readLog(log)[0]?.pid as number, 'SIGKILL');
    expect(await head).toMatchObject({ code: 'WORKER_LOST' });
    const errors = await Promise.all(behind);
    if (pipelined) {
      // They may have run, as far as the client knows: it says so instead of running them again.
      for (const error of errors) expect(error).toMatchObject({ code: 'WORKER_LOST' });
      expect(tagsOf(readLog(log))).toEqual(['head']);
    }
    expect(await client.call('record', [log, 'next'])).toBe('next');
    return pipelined;
  });
});

it('does not pipeline calls of a method it has not timed yet', async () => {
  await using server = await serve('pipeline-worker.ts', { spares: 2 });
  await using client = await warm(clientOf(server, 2), 2);
  await calibrate(client);
  const log = fileName('untimed');
  const flag = fileName('flag');
  const sends = countSends();
  try {
    const calls = Array.from({ length: 6 }, (_, i) => client.call('untimed', [log, `u${i}`, flag]));
    // One on each worker; the others wait in the client's queue, not behind them.
    expect(sends.count).toBe(2);
    await eventually(() => tagsOf(readLog(log)).length === 2, 10_000, 'two calls running');
    expect(client.stats().waiting).toBe(4);
    writeFileSync(flag, '');
    expect(await Promise.all(calls)).toEqual(['u0', 'u1', 'u2', 'u3', 'u4', 'u5']);
  } finally {
    sends.stop();
  }
});

it('cancels a pipelined call whose deadline passes while it is queued, and keeps the worker and the call ahead', async () => {
  await using server = await serve('pipeline-worker.ts', { spares: 1 });
  await using client = await warm(clientOf(server, 1));
  await whenPipelined(client, async () => {
    const log = fileName('late');
    const flag = fileName('flag');
    const sends = countSends();
    const lostBefore = client.stats().lost;
    const head = client.call('record', [log, 'head', { waitFor: flag }], { timeout: null });
    const late = client
      .call('record', [log, 'late'], { timeout: 100 })
      .catch((error: unknown) => error);
    const pipelined = sends.count === 2;
    sends.stop();
    const error = await late;
    expect(error).toMatchObject({ code: 'TIMEOUT' });
    if (pipelined) {
      expect((error as Error).message).toContain('queued behind other calls on its worker');
    }
    writeFileSync(flag, '');
    expect(await head).toBe('head');
    expect(tagsOf(readLog(log))).toEqual(['head']);
    expect(client.stats().lost).toBe(lostBefore);
    return pipelined;
  });
});

it('lets the calls pipelined behind a result that breaks the interface finish, then replaces the worker', async () => {
  await using server = await serve('pipeline-worker.ts', { spares: 1 });
  // The client's interface wants a string back; `returns: 42` breaks it.
  const iface = defineInterface({
    record: {
      args: z.tuple([z.string(), z.string(), z.looseObject({}).optional()]),
      result: z.string(),
    },
  });
  await using client = await warm(
    createClient({ connect: server.endpoint, interface: iface, minWorkers: 1, maxWorkers: 1 }),
  );
  const untyped = client as unknown as Client<PipelineMethods>;
  await whenPipelined(untyped, async () => {
    const log = fileName('invalid');
    const flag = fileName('flag');
    const sends = countSends();
    const lostBefore = client.stats().lost;
    const bad = client
      .call('record', [log, 'bad', { waitFor: flag, returns: 42 }])
      .catch((error: unknown) => error);
    const tags = Array.from({ length: 5 }, (_, i) => `b${i}`);
    const behind = tags.map((tag) => client.call('record', [log, tag]));
    const pipelined = sends.count === 6;
    sends.stop();
    await eventually(() => tagsOf(readLog(log)).includes('bad'), 10_000, 'the bad call runs');
    writeFileSync(flag, '');
    expect(await bad).toMatchObject({ code: 'INVALID_RESULT' });
    // They ran, on the same worker, and their results came back.
    expect(await Promise.all(behind)).toEqual(tags);
    const lines = readLog(log).filter((line) => line.tag !== 'done');
    if (pipelined) expect(new Set(lines.map((line) => line.pid)).size).toBe(1);
    // Then the worker was replaced.
    await eventually(() => client.stats().lost === lostBefore + 1, 10_000, 'the worker replaced');
    return pipelined;
  });
});

it('keeps the worker when it reaches a queued call after its deadline before this side notices', async () => {
  await using server = await serve('pipeline-worker.ts', { spares: 1 });
  await using client = await warm(clientOf(server, 1));
  await whenPipelined(client, async () => {
    const log = fileName('late-timer');
    const sends = countSends();
    const lostBefore = client.stats().lost;
    const head = client.call('record', [log, 'head', { block: 150 }]);
    const late = client
      .call('record', [log, 'late'], { timeout: 100 })
      .catch((error: unknown) => error);
    const behind = client.call('record', [log, 'behind']);
    const pipelined = sends.count === 3;
    sends.stop();
    // This side's event loop is busy past the late call's deadline, in a timer callback:
    // the worker's TIMEOUT ("before it ran") is read before this side's own timer fires.
    setTimeout(() => {
      const end = Date.now() + 400;
      while (Date.now() < end) {
        // Blocks the event loop on purpose.
      }
    }, 5);
    const lateOutcome = await late;
    expect(await head).toBe('head');
    expect(await behind).toBe('behind');
    // Not pipelined (a busy machine): the late call waited in this process, where its
    // timeout bounds the wait, and once sent it had a timeout of its own, so it may have run.
    // Only a pipelined attempt says anything here: the scenario is tried again.
    if (!pipelined) return false;
    expect(lateOutcome).toMatchObject({ code: 'TIMEOUT' });
    expect(tagsOf(readLog(log))).toEqual(['head', 'behind']);
    expect(client.stats().lost).toBe(lostBefore);
    return true;
  });
});

it('does not take a call cancelled while queued for a sign that its busy worker moved on', async () => {
  await using server = await serve('pipeline-worker.ts', { spares: 2 });
  await using client = await warm(clientOf(server, 2), 2);
  await whenPipelined(client, async () => {
    const log = fileName('stuck');
    const flags = [fileName('flag'), fileName('flag')];
    const sends = countSends();
    const [one, two] = flags.map((flag, i) =>
      client.call('record', [log, `long${i}`, { waitFor: flag }]),
    );
    const queued = client
      .call('record', [log, 'queued'], { timeout: 100 })
      .catch((error: unknown) => error);
    const pipelined = sends.count === 3;
    sends.stop();
    expect(await queued).toMatchObject({ code: 'TIMEOUT' });
    // Its cancel was answered at once; both workers still run their long calls, so a new
    // call waits in the queue rather than behind one of them.
    const next = client.call('record', [log, 'next'], { timeout: 20_000 });
    if (pipelined) expect(client.stats().waiting).toBe(1);
    writeFileSync(flags[0] as string, '');
    expect(await one).toBe('long0');
    expect(await next).toBe('next');
    writeFileSync(flags[1] as string, '');
    expect(await two).toBe('long1');
    const lines = readLog(log).filter((line) => line.tag !== 'done');
    const longOn = (tag: string) => lines.find((line) => line.tag === tag)?.pid;
    expect(lines.find((line) => line.tag === 'next')?.pid).toBe(longOn('long0'));
    return pipelined;
  });
});
