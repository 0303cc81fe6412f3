/**
 * Runs the `taskpool` command line from source (through tsx), as a user's shell would run
 * the installed bin, and gives its exit code and output.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../src/bin.ts', import.meta.url));

/** What `node` is given before the command's own arguments. */
export const node = ['--conditions=taskpool-source', '--import', 'tsx', bin];

/** How a run of the command line ended. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `taskpool ...args`; a run past `timeout` ms is killed (and fails the test). */
export function taskpool(...args: string[]): Promise<CliRun> {
  return taskpoolWithin(60_000, ...args);
}

/** `taskpool` with a deadline of its own. */
export function taskpoolWithin(timeout: number, ...args: string[]): Promise<CliRun> {
  return run(args, { timeout });
}

/** `taskpool ...args` with `env` as its whole environment (this process's is not added). */
export function taskpoolWithEnv(env: NodeJS.ProcessEnv, ...args: string[]): Promise<CliRun> {
  return run(args, { timeout: 60_000, env });
}

function run(args: string[], options: { timeout: number; env?: NodeJS.ProcessEnv }) {
  return new Promise<CliRun>((resolve) => {
    execFile(process.execPath, [...node, ...args], options, (error, stdout, stderr) => {
      const code = error ? Number((error as { code?: unknown }).code ?? 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs `taskpool ...args` with `input` on its standard input. */
export function taskpoolWithInput(input: string, ...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...node, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** Resolves with what `child` wrote to stdout once it matches `pattern` (20 s at most). */
export function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} in ${seen}`)), 20_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = pattern.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(match[0]);
      }
    });
  });
}
