/**
 * A Lua script and the one way to run it: EVALSHA, falling back to EVAL when the server
 * does not know the script yet (first use, or a restarted server).
 *
 * Each script lives in its own file named `<command>-<numberOfKeys>.ts`, whose Lua opens
 * with a header documenting KEYS and ARGV.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** One Lua script: one multi-step state change, atomic on the server. */
export interface LuaScript {
  /** The command it implements, e.g. `claim`. */
  readonly name: string;
  /** How many KEYS it takes; the rest of its arguments are ARGV. */
  readonly numberOfKeys: number;
  /** The Lua source. */
  readonly lua: string;
  /** SHA-1 of {@link lua}, for EVALSHA. */
  readonly sha: string;
}

/** Declares a script. */
export function defineScript(name: string, numberOfKeys: number, lua: string): LuaScript {
  const source = lua.trim();
  return { name, numberOfKeys, lua: source, sha: createHash('sha1').update(source).digest('hex') };
}

/** A value a script may take as an argument. */
export type ScriptArg = string | number;

/** Runs `script` with `keys` and `args`; the reply is whatever the script returns. */
export async function runScript(
  redis: Redis,
  script: LuaScript,
  keys: readonly string[],
  args: readonly ScriptArg[],
): Promise<unknown> {
  if (keys.length !== script.numberOfKeys) {
    throw new Error(
      `script ${script.name}: expected ${script.numberOfKeys} keys, received ${keys.length}`,
    );
  }
  try {
    return await redis.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return await redis.eval(script.lua, keys.length, ...keys, ...args);
  }
}
