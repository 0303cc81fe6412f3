/**
 * The right answer for every bcrypt hash the bench asks for (fixed passwords and salts),
 * computed once per machine with bcryptjs and cached under .build/, so that children
 * compare each result instead of only counting them.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import bcrypt from 'bcryptjs';
import { buildDir } from './paths.js';
import { bcryptPassword, bcryptSalt } from './payloads.js';

export function bcryptExpected(count: number, cost: number): string[] {
  const file = `${buildDir}bcrypt-expected-${cost}.json`;
  let cached: string[] = [];
  try {
    cached = JSON.parse(readFileSync(file, 'utf8')) as string[];
  } catch {
    // not computed yet on this machine
  }
  const valid = (hash: string | undefined, i: number) =>
    hash?.startsWith(bcryptSalt(i, cost).slice(0, 28)) === true;
  if (cached.length >= count && cached.slice(0, count).every(valid)) return cached.slice(0, count);
  const computed = Array.from({ length: count }, (_, i) =>
    valid(cached[i], i)
      ? (cached[i] as string)
      : bcrypt.hashSync(bcryptPassword(i), bcryptSalt(i, cost)),
  );
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(file, JSON.stringify(computed));
  return computed;
}
