/**
 * A Lua script and the one way to run it: EVALSHA, falling back to EVAL when the server
 * does not know the script yet (first use, or a restarted server).
 *
 * Each script lives in its own file named `<command>-<numberOfKeys>.ts`, or
 * `<command>-<numberOfKeys>+.ts` when more KEYS follow, as many as the call needs (one per
 * id, one per priority, …). Its Lua opens with a header documenting KEYS and ARGV.
 *
 * Every key a script touches is in its KEYS, so that Redis Cluster routes it to the node of
 * the queue's slot and may check it, except the records of ids the script itself reads from
 * a list or zset: those it names by appending the id to the job key prefix it is given in
 * ARGV. They carry the queue's hash tag, so they are in the same slot as its KEYS.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { Connection } from '../connection.js';

/** One Lua script: one multi-step state change, atomic on the server. */
export interface LuaScript {
  /** The command it implements, e.g. `claim`. */
  readonly name: string;
  /** How many KEYS it takes (at least, with {@link moreKeys}); the rest are ARGV. */
  readonly numberOfKeys: number;
  /** Whether more KEYS follow the first {@link numberOfKeys}, their count set by the call. */
  readonly moreKeys: boolean;
  /** The Lua source. */
  readonly lua: string;
  /** SHA-1 of {@link lua}, for EVALSHA. */
  readonly sha: string;
}

/** Declares a script; `numberOfKeys` ending in `+` (`'3+'`) takes more KEYS after those. */
export function defineScript(
  name: string,
  numberOfKeys: number | `${number}+`,
  lua: string,
): LuaScript {
  const source = lua.trim();
  return {
    name,
    numberOfKeys: Number.parseInt(String(numberOfKeys), 10),
    moreKeys: typeof numberOfKeys === 'string',
    lua: source,
    sha: createHash('sha1').update(source).digest('hex'),
  };
}

/** A value a script may take as an argument. */
export type ScriptArg = string | number;

/** Runs `script` with `keys` and `args`; the reply is whatever the script returns. */
export async function runScript(
  redis: Connection,
  script: LuaScript,
  keys: readonly string[],
  args: readonly ScriptArg[],
): Promise<unknown> {
  const fits = script.moreKeys
    ? keys.length >= script.numberOfKeys
    : keys.length === script.numberOfKeys;
  // A script with no KEYS could be sent to any node of a cluster: every call names one.
  if (!fits || keys.length === 0) {
    const least = Math.max(1, script.numberOfKeys);
    const expected = script.moreKeys ? `at least ${least}` : String(script.numberOfKeys);
    throw new Error(`script ${script.name}: expected ${expected} keys, received ${keys.length}`);
  }
  try {
    return await redis.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return await redis.eval(script.lua, keys.length, ...keys, ...args);
  }
}
