/**
 * `taskpool serve` with worker code that cannot load exits 1 with the load error (message
 * and stack) instead of serving while its workers crash, and leaves nothing running.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, marked } from '../../../test/helpers/processes.js';

const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const node = ['--conditions=taskpool-source', '--import', 'tsx', bin];
const scratch = mkdtempSync(join(tmpdir(), 'taskpool-cli-load-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs `taskpool serve`, with a mark in the environment of every process it starts. */
function serve(
  module: string,
  socket: string,
  mark: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...node, 'serve', module, '--listen', `unix:${socket}`],
      { timeout: 30_000, env: { ...process.env, TASKPOOL_TEST_MARK: mark } },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code) : 0, stdout, stderr });
      },
    );
  });
}

describe('taskpool serve with worker code that cannot load', () => {
  it('exits 1 naming a missing module', async () => {
    const module = join(scratch, 'missing-worker.mjs');
    const socket = join(scratch, 'missing.sock');
    const mark = `${process.pid}-missing-${Date.now()}`;
    const { code, stdout, stderr } = await serve(module, socket, mark);
    expect(code).toBe(1);
    expect(stdout).not.toContain('serving');
    expect(stderr).toContain(
      `taskpool: WORKER_START_FAILED: worker code ${module} cannot load: Error [ERR_MODULE_NOT_FOUND]: Cannot find module '${module}'`,
    );
    expect(stderr).toMatch(/\n\s+at /);
    expect(existsSync(socket)).toBe(false);
    expect(marked(mark)).toEqual([]);
  });

  it('exits 1 with the message and stack of a module that throws at import', async () => {
    const module = join(scratch, 'throwing-worker.mjs');
    writeFileSync(
      module,
      'function loadConfig() {\n  throw new RangeError("BROKEN CLI WORKER");\n}\nloadConfig();\nexport default { interface: {} };\n',
    );
    const socket = join(scratch, 'throwing.sock');
    const mark = `${process.pid}-throwing-${Date.now()}`;
    const { code, stderr } = await serve(module, socket, mark);
    expect(code).toBe(1);
    expect(stderr).toContain(
      `taskpool: WORKER_START_FAILED: worker code ${module} cannot load: RangeError: BROKEN CLI WORKER`,
    );
    // The load error's own stack, pointing into the broken module.
    expect(stderr).toMatch(
      /RangeError: BROKEN CLI WORKER\n\s+at loadConfig \(file:\/\/\S+throwing-worker\.mjs:2/,
    );
    // Said once: not a stack per crashed worker.
    expect(stderr.match(/BROKEN CLI WORKER/g)).toHaveLength(2);
    expect(existsSync(socket)).toBe(false);
    expect(marked(mark)).toEqual([]);
  });

  it('exits 0 on SIGTERM while its first worker is still loading, and leaves nothing running', async () => {
    const module = join(scratch, 'loading-worker.mjs');
    // Loads for ever: the server is still starting when it is asked to stop. The timer keeps
    // the worker's event loop alive; an await that never settles alone would end the process
    // (an unsettled top-level await), a failed start rather than a slow one.
    writeFileSync(
      module,
      'setInterval(() => {}, 1_000);\nawait new Promise(() => {});\nexport default { interface: {} };\n',
    );
    const socket = join(scratch, 'loading.sock');
    const mark = `${process.pid}-loading-${Date.now()}`;
    const cli = spawn(process.execPath, [...node, 'serve', module, '--listen', `unix:${socket}`], {
      env: { ...process.env, TASKPOOL_TEST_MARK: mark },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    cli.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => cli.once('exit', resolve));
    // The command and a worker (loading the module) run.
    await eventually(() => marked(mark).length >= 2, 20_000, 'a worker loading');
    cli.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    await eventually(() => marked(mark).length === 0, 10_000, 'nothing left running');
  });
});
