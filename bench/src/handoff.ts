/**
 * `npm run bench:handoff -w bench`: connect-to-hello latency with warm spares (the
 * supervisor's accept → hand-off over IPC → worker hello), and spawn-to-ready of one
 * worker (a connection to a server with no spare: spawn, load, hello), next to a bare
 * `node` child that only says it is ready. Runs the packages' JavaScript build, made here
 * from the sources, as users run it.
 */
import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import buildForChildren from '../../test/build-for-children.js';

type Built = typeof import('@taskpool/server');

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? Number.NaN;
}

function summary(label: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const f = (ms: number) => `${ms.toFixed(2)} ms`;
  return `${label.padEnd(44)} p50 ${f(percentile(sorted, 0.5))}  p99 ${f(percentile(sorted, 0.99))}  min ${f(sorted[0] ?? Number.NaN)}  (n=${sorted.length})`;
}

/** Connects and resolves with the ms until the first frame (hello) arrived. */
function timeToHello(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(path);
    const timer = setTimeout(() => reject(new Error('no hello within 10 s')), 10_000);
    socket.once('data', () => {
      const ms = performance.now() - started;
      clearTimeout(timer);
      socket.destroy();
      resolve(ms);
    });
    socket.once('error', reject);
  });
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** A server of trivial workers on a fresh Unix socket, in this process. */
async function benchServer(built: Built, spares: number) {
  // In a private directory: a server refuses one that other users can write to.
  const path = join(mkdtempSync(join(tmpdir(), 'tpbench-handoff-')), 'taskpool.sock');
  const server = built.createServer({
    listen: `unix:${path}`,
    workerModule: new URL('./workers/handoff-worker.mjs', import.meta.url),
    spares,
    execArgv: [],
    handleSignals: false,
  });
  await server.listen();
  return { server, path };
}

async function handoff(built: Built, connections: number): Promise<number[]> {
  const { server, path } = await benchServer(built, 4);
  const samples: number[] = [];
  try {
    for (let i = 0; i < connections; i++) {
      await waitFor(
        () => server.stats().spares >= 4 && server.stats().serving === 0,
        'warm spares',
      );
      samples.push(await timeToHello(path));
    }
  } finally {
    await server.close({ timeout: 2_000 });
  }
  return samples;
}

async function spawnToReady(built: Built, spawns: number): Promise<number[]> {
  const { server, path } = await benchServer(built, 0);
  const samples: number[] = [];
  try {
    for (let i = 0; i < spawns; i++) {
      samples.push(await timeToHello(path));
      await waitFor(
        () => server.stats().serving === 0 && server.stats().starting === 0,
        'worker exit',
      );
    }
  } finally {
    await server.close({ timeout: 2_000 });
  }
  return samples;
}

async function bareNode(spawns: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < spawns; i++) {
    const started = performance.now();
    const child = fork(here('./workers/bare-ready.mjs'), [], { execArgv: [], stdio: 'ignore' });
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    samples.push(performance.now() - started);
    await new Promise((resolve) => child.once('close', resolve));
  }
  return samples;
}

await buildForChildren();
const built = (await import(here('../../packages/server/dist/index.js'))) as Built;
const quick = process.argv.includes('--quick');
const connections = quick ? 50 : 300;
const spawns = quick ? 5 : 20;
console.log(
  `hand-off bench: node ${process.version}, ${connections} connections, ${spawns} spawns`,
);
console.log(summary('connect → hello, warm spare (hand-off)', await handoff(built, connections)));
console.log(
  summary('connect → hello, no spare (spawn-to-ready)', await spawnToReady(built, spawns)),
);
console.log(summary('bare node child: fork → ready over IPC', await bareNode(spawns)));
