/**
 * Vitest global setup: one private directory (mode 0700) for the Unix sockets of this run's
 * tests, given to them as `inject('socketDirectory')` and removed when the run ends, so
 * that no test leaves a directory behind (a test worker may end without its exit hooks).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
// The type of what is provided: `ProvidedContext['socketDirectory']`.
import './helpers/sockets.js';

export default function setup(project: TestProject): () => void {
  // A short name: some tests read paths back from messages that shorten long values.
  const directory = mkdtempSync(join(tmpdir(), 'tpt-'));
  project.provide('socketDirectory', directory);
  return () => rmSync(directory, { recursive: true, force: true });
}
