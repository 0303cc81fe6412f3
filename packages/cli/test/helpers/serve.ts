/**
 * `taskpool serve` as a user runs it: a real process, from source (through tsx), whose
 * endpoint is read from the line it prints once it serves.
 */
import { spawn } from 'node:child_process';
import { node } from './run-cli.js';

/** A running `taskpool serve`. */
export interface Serving {
  /** Where it serves, as it printed it (`tcp://127.0.0.1:40123`, `unix:/…`). */
  endpoint: string;
  /** What it wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM; resolves to its exit code. */
  stop(): Promise<number | null>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts `taskpool serve ...args` (with `env` as its whole environment when given) and
 * waits for it to serve; rejects, with what it said, when it exits or is silent for 20 s.
 */
export function startServe(args: string[], env?: NodeJS.ProcessEnv): Promise<Serving> {
  const child = spawn(process.execPath, [...node, 'serve', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(env !== undefined ? { env } : {}),
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`taskpool serve did not serve within 20 s:\n${output}`));
    }, 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /taskpool: serving \S+ on (\S+) \(pid \d+\)/.exec(output);
      if (!match?.[1]) return;
      clearTimeout(timer);
      resolve({
        endpoint: match[1],
        output: () => output,
        stop,
        [Symbol.asyncDispose]: async () => {
          await stop();
        },
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`taskpool serve exited (${code}) before it served:\n${output}`));
    });
  });
}
