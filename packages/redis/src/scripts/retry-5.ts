import { defineScript } from './script.js';

/** Sends a failed attempt of a reliable job back to be tried again, now or after a backoff. */
export const retryScript = defineScript(
  'retry',
  5,
  `
--[[ retry: give a failed attempt back (reliable mode).
  KEYS[1] the job's record
  KEYS[2] the processing list of the worker that ran the attempt
  KEYS[3] the delayed zset
  KEYS[4] the wait list of the job's priority
  KEYS[5] the marker of that priority
  ARGV[1] job id
  ARGV[2] the attempt's error, JSON (kept in the record as 'error')
  ARGV[3] backoff in milliseconds; 0 puts the id straight back on KEYS[4]
  Returns 1 when rescheduled, 0 when the job is no longer this worker's.
]]
if redis.call('LREM', KEYS[2], 1, ARGV[1]) == 0 then return 0 end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'cancelled' then
  redis.call('DEL', KEYS[1])
  return 0
end
if state ~= 'active' then return 0 end
local delay = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'error', ARGV[2])
if delay > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('HSET', KEYS[1], 'state', 'delayed')
  redis.call('ZADD', KEYS[3], now + delay, ARGV[1])
else
  redis.call('HSET', KEYS[1], 'state', 'queued')
  redis.call('LPUSH', KEYS[4], ARGV[1])
  redis.call('ZADD', KEYS[5], 0, '0')
end
return 1
`,
);
