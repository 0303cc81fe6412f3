import { defineScript } from './script.js';

/** Withdraws one server of a service from its registry. */
export const withdrawScript = defineScript(
  'withdraw',
  2,
  `
--[[ withdraw: take a server of a service off its registry.
  KEYS[1] the hash of the service's servers
  KEYS[2] the zset of the service's live servers
  ARGV[1] the server's id
  Returns 1 when it was listed, 0 otherwise.
]]
redis.call('HDEL', KEYS[1], ARGV[1])
return redis.call('ZREM', KEYS[2], ARGV[1])
`,
);
