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
  expect(stdout).toMatch(/^closed the client and the server in \d+ ms$/m);
  // Each step line gives its own time, so together they make the total (give or take the
  // rounding of each): times counted from the start would add up to far more.
  const steps = [...stdout.matchAll(/ in (\d+) ms\b/g)].map((match) => Number(match[1]));
  const total = Number(/^total (\d+) ms$/m.exec(stdout)?.[1]);
  expect(steps).toHaveLength(4);
  expect(Math.abs(steps.reduce((sum, ms) => sum + ms, 0) - total)).toBeLessThanOrEqual(
    steps.length,
  );
}, 90_000);
