/**
 * Where a secret or a certificate comes from: the value itself, an environment variable
 * or a file. Read when the option is resolved (and again on a rolling restart, so a
 * renewed certificate file is picked up), never written to the worker's environment.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { InvalidOptionError } from './errors.js';

/**
 * A secret, a key or a certificate: the value (a string or bytes), `{ env: 'NAME' }` for
 * an environment variable, or `{ file: '/path' }` for a file's contents (without one final
 * newline).
 */
export type SecretSource = string | Uint8Array | { env: string } | { file: string };

/** True when `value` has the shape of a {@link SecretSource}. */
export function isSecretSource(value: unknown): value is SecretSource {
  if (typeof value === 'string' || value instanceof Uint8Array) return true;
  if (typeof value !== 'object' || value === null) return false;
  const keys = Object.keys(value);
  if (keys.length !== 1) return false;
  const [key] = keys;
  return (
    (key === 'env' || key === 'file') &&
    typeof (value as Record<string, unknown>)[key as string] === 'string'
  );
}

/** Reads a secret; `what` names the option in errors (`createServer: option auth.keys.k1`). */
export function readSecret(source: SecretSource, what: string): Buffer {
  let value: Buffer;
  if (typeof source === 'string') value = Buffer.from(source, 'utf8');
  else if (source instanceof Uint8Array) value = Buffer.from(source);
  else if ('env' in source) {
    const text = process.env[source.env];
    if (text === undefined) {
      throw new InvalidOptionError(
        `${what}: expected environment variable ${source.env} to be set, received nothing`,
      );
    }
    value = Buffer.from(text, 'utf8');
  } else {
    try {
      value = withoutFinalNewline(readFileSync(source.file));
    } catch (error) {
      throw new InvalidOptionError(
        `${what}: expected a readable file, received ${JSON.stringify(source.file)} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        { cause: error },
      );
    }
  }
  if (value.length === 0) {
    throw new InvalidOptionError(`${what}: expected a non-empty secret, received an empty one`);
  }
  return value;
}

/** A key file written with `echo` ends in a newline that is not part of the key. */
function withoutFinalNewline(bytes: Buffer): Buffer {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) end--;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  return bytes.subarray(0, end);
}
