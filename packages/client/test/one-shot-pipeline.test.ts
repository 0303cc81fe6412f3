// One-shot calls pipelined on busy workers: when no worker is idle and none may be opened,
// client.call sends the next calls (each with its own `done`) to a worker before the
// reply to the one it runs has come back. Each is still a checkout of its own
// (checkoutDone runs between them); those behind a call that failed never run there and
// are sent again; an aborted one the worker has not started never runs; waiting checkouts
// are not overtaken; a worker busy with a long call does not collect a queue.
//
// The client pipelines only once replies have shown that calls are short, so each test
// first makes a few hundred small calls. Whether a given call was pipelined still depends
// on how fast this machine answered them: where a test needs it, it checks that the calls
// went out (diagnostics `call:start`) and, if a busy machine kept the client from it, runs
// its scenario again.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHANNELS, type Client, createClient, type MethodsOf } from '@taskpool/client';
import type { ForkedServer } from '@taskpool/server';
import { afterAll, expect, it } from 'vitest';
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

function clientOf(server: ForkedServer, workers: number): Client<PipelineMethods> {
  return createClient<PipelineMethods>({
    connect: server.endpoint,
    minWorkers: workers,
    maxWorkers: workers,
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
    let behind: Promise<string>[];
    try {
      failing = client.call('fail', [log, 'boom']).catch((error: unknown) => error);
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

it('never runs an aborted call pipelined behind a running one, and keeps the worker', async () => {
  await using server = await serve('pipeline-worker.ts', { spares: 1 });
  await using client = await warm(clientOf(server, 1));
  await whenPipelined(client, async () => {
    const log = fileName('aborted');
    const flag = fileName('flag');
    const sends = countSends();
    const lostBefore = client.stats().lost;
    const controller = new AbortController();
    const head = client.call('wait_for', [log, 'head', flag]);
    const aborted = client.call('record', [log, 'aborted'], { signal: controller.signal });
    const after = client.call('record', [log, 'after']);
    const pipelined = sends.count === 3;
    sends.stop();
    await eventually(() => tagsOf(readLog(log)).includes('head'), 10_000, 'the head call runs');
    const reason = new Error('changed my mind');
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    writeFileSync(flag, '');
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
  const long = client.call('wait_for', [log, 'long', flag]).catch((error: unknown) => error);
  await eventually(() => tagsOf(readLog(log)).includes('long'), 10_000, 'the long call runs');
  // Past the longest a lane may go without a reply before it counts as busy (a few calls'
  // time, at least 1 ms): a lower bound, however slow this machine is.
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
    const head = client.call('wait_for', [log, 'head', flag]).catch((error: unknown) => error);
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
