/**
 * Socket paths for tests: in one private directory (mode 0700) per test process, removed
 * when the process exits. A server refuses a directory other users can write to, such as
 * the temporary directory itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let directory: string | undefined;

/** A path for a Unix socket, unique within this test process. */
export function socketPath(name: string): string {
  if (directory === undefined) {
    const made = mkdtempSync(join(tmpdir(), 'taskpool-test-'));
    directory = made;
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return join(directory, name);
}
