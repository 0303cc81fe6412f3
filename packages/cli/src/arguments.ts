/**
 * How `call` and `bench` read the arguments of the method they call: each word as JSON, a
 * word that is not JSON as a string, and `-` as one JSON value read from standard input
 * (for arguments too large, or too awkward to quote, for a command line).
 *
 * @module
 */
import { text } from 'node:stream/consumers';
import { UsageError } from './usage.js';

function parseJsonArgument(word: string): unknown {
  try {
    return JSON.parse(word);
  } catch {
    // A bare word is a string, as a shell user would expect.
    return word;
  }
}

/** The argument `-` stands for: standard input, which must be one JSON value. */
async function readStdinArgument(): Promise<unknown> {
  const input = await text(process.stdin);
  try {
    return JSON.parse(input);
  } catch (error) {
    throw new UsageError(
      `-: standard input must be one JSON value (${(error as Error).message}), received ${input.length} characters`,
    );
  }
}

/** The method's arguments from the words after its name; at most one `-`. */
export async function readArguments(command: string, words: readonly string[]): Promise<unknown[]> {
  if (words.filter((word) => word === '-').length > 1) {
    throw new UsageError(`${command} reads at most one argument from standard input (-)`);
  }
  const args: unknown[] = [];
  for (const word of words)
    args.push(word === '-' ? await readStdinArgument() : parseJsonArgument(word));
  return args;
}
