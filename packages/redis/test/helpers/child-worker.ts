/**
 * Runs fixtures/reliable-worker.ts as a real child process: bundled once with esbuild
 * (from source, so no build is needed), then started with node. Every child is reaped.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

let bundled: Promise<string> | undefined;
let dir: string | undefined;
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Kills every child still running and deletes the bundle; call in afterAll. */
export async function cleanupChildWorkers(): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
          setTimeout(resolve, 5_000).unref();
        }),
    ),
  );
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
  bundled = undefined;
}

function bundle(): Promise<string> {
  bundled ??= (async () => {
    dir = mkdtempSync(join(tmpdir(), 'taskpool-child-'));
    const outfile = join(dir, 'reliable-worker.mjs');
    await build({
      entryPoints: [source('../fixtures/reliable-worker.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // ioredis is CommonJS: let its require() calls work inside an ES module.
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
      alias: {
        '@taskpool/protocol/internal': source('../../../protocol/src/internal.ts'),
        '@taskpool/protocol': source('../../../protocol/src/index.ts'),
        '@taskpool/redis': source('../../src/index.ts'),
      },
      logLevel: 'silent',
    });
    return outfile;
  })();
  return bundled;
}

/** A running child worker. */
export interface ChildWorker {
  readonly process: ChildProcess;
  /** Resolves with the first stdout line matching `pattern`; rejects after `ms`. */
  line(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** SIGKILLs the child and waits for it to be gone. */
  kill(): Promise<void>;
}

/** Starts a child worker with `env` added to this process's environment. */
export async function startChildWorker(env: Record<string, string>): Promise<ChildWorker> {
  const file = await bundle();
  const child = spawn(process.execPath, [file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  exited.then(() => children.delete(child));
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const wake of waiters) wake();
  });
  return {
    process: child,
    line(pattern, ms = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (const line of lines) {
            const match = line.match(pattern);
            if (match) {
              cleanup();
              resolve(match);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`child printed no line matching ${pattern} within ${ms} ms`));
        }, ms);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    },
  };
}
