import { defineScript } from './script.js';

/** Lists (or renews) one server of a service in its registry, and drops entries that ran out. */
export const announceScript = defineScript(
  'announce',
  2,
  `
--[[ announce: list a server of a service, until ARGV[3] ms from now.
  KEYS[1] the hash of the service's servers: id -> announcement (JSON)
  KEYS[2] the zset of the service's live servers, scored by when their entry runs out
  ARGV[1] the server's id
  ARGV[2] its announcement, JSON
  ARGV[3] how long the entry lives unless renewed, in milliseconds
  Both keys expire when no server has renewed for ten times that, so that a service whose
  servers are all gone leaves nothing behind. Returns the number of entries dropped.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. now)
for _, id in ipairs(gone) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('HDEL', KEYS[1], id)
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl * 10)
redis.call('PEXPIRE', KEYS[2], ttl * 10)
return #gone
`,
);
