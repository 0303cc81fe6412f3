import { defineScript } from './script.js';

/** Records a job's final outcome and publishes it to its submitter. */
export const finishScript = defineScript(
  'finish',
  3,
  `
--[[ finish: record a job's final outcome and publish it.
  KEYS[1] the job's record
  KEYS[2] the processing list of the worker finishing it (reliable mode)
  KEYS[3] the failed zset
  ARGV[1] job id
  ARGV[2] 'completed' or 'failed'
  ARGV[3] the outcome, JSON, exactly as published
  ARGV[4] '1' when ownership is proven by removal from KEYS[2] (reliable), '0' when by
          the record being active (recoverable)
  ARGV[5] milliseconds the finished record is kept
  ARGV[6] the prefix of reply channels (the client id the record names is appended; a
          channel, not a key)
  ARGV[7] the publish command: 'SPUBLISH' on a cluster, else 'PUBLISH'
  Returns 1 when recorded, 0 when the job is no longer this worker's (its lease lapsed
  and it was reclaimed, it was cancelled, or its record is gone).
]]
local publish = ARGV[7] == 'SPUBLISH' and 'SPUBLISH' or 'PUBLISH'
if ARGV[4] == '1' and redis.call('LREM', KEYS[2], 1, ARGV[1]) == 0 then return 0 end
local f = redis.call('HMGET', KEYS[1], 'state', 'replyTo')
if f[1] == 'cancelled' then
  redis.call('DEL', KEYS[1])
  return 0
end
if f[1] ~= 'active' then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[5])
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'outcome', ARGV[3], 'finished', now)
redis.call('PEXPIRE', KEYS[1], ttl)
if ARGV[2] == 'failed' then
  redis.call('ZADD', KEYS[3], now, ARGV[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - ttl)
  redis.call('PEXPIRE', KEYS[3], ttl)
end
redis.call(publish, ARGV[6] .. f[2], ARGV[3])
return 1
`,
);
