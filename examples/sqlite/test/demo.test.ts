import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

it('runs the DBI synopsis, rolls back a transaction abandoned mid-way, and streams rows from a cursor', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=taskpool-source', '--import', 'tsx', 'demo.ts'],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 60_000 },
  );
  expect(stdout).toContain('username: jimmy, email: \n');
  expect(stdout).toContain('inside the transaction: [{"username":"alice"},{"username":"jimmy"}]');
  expect(stdout).toContain(
    'after releasing it mid-transaction (the same worker): [{"username":"jimmy"}], in a transaction: false',
  );
  // Breaking out of the rows stream closed the worker's cursor before the next call.
  expect(stdout).toContain('streamed 5 of 100000 rows, then dropped the table');
}, 90_000);
