import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { expect, it } from 'vitest';

it('runs the password-hashing demo end to end', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=taskpool-source', '--import', 'tsx', 'demo.ts'],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 60_000 },
  );
  const crypted = /^Hashed password is (\$2[aby]\$10\$\S{53})$/m.exec(stdout)?.[1];
  expect(crypted).toBeDefined();
  expect(bcrypt.compareSync('secret', crypted as string)).toBe(true);
  expect(stdout).toMatch(/^Verify result is true$/m);
  expect(stdout).toMatch(/hashed and verified 8 passwords on \d+ workers in \d+ ms: all verified/);
  expect(stdout).toMatch(/closed the client and the server/);
}, 90_000);
