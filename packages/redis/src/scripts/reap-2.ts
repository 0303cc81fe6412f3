import { defineScript } from './script.js';

/** Gives the jobs of reliable workers whose lease lapsed back to the queue. */
export const reapScript = defineScript(
  'reap',
  2,
  `
--[[ reap: recover the jobs of dead workers (reliable mode).
  KEYS[1] the live-workers zset
  KEYS[2] the failed zset
  ARGV[1] job key prefix
  ARGV[2] processing list prefix (a worker id is appended)
  ARGV[3] reply channel prefix (a client id is appended)
  ARGV[4] milliseconds a finished record is kept
  ARGV[5] the error recorded for the lost attempt, JSON
  ARGV[6] most workers to reap in one call
  A worker whose lease ran out is removed with its processing list. Each active job in it
  goes back to the head of its wait list, or, when it has used all its attempts, is failed
  with ARGV[5] and its outcome published. Cancelled jobs are deleted.
  Returns { workers reaped, jobs requeued, jobs failed }.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[4])
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now, 'LIMIT', 0, tonumber(ARGV[6]))
local requeued, failed = 0, 0
for _, worker in ipairs(dead) do
  local list = ARGV[2] .. worker
  for _, id in ipairs(redis.call('LRANGE', list, 0, -1)) do
    local key = ARGV[1] .. id
    local f = redis.call('HMGET', key, 'state', 'wait', 'marker', 'attempts', 'maxAttempts',
      'replyTo')
    if f[1] == 'active' then
      if tonumber(f[4]) >= tonumber(f[5]) then
        local outcome = '{"id":' .. cjson.encode(id) .. ',"ok":false,"attempts":' .. f[4] ..
          ',"error":' .. ARGV[5] .. '}'
        redis.call('HSET', key, 'state', 'failed', 'outcome', outcome, 'finished', now,
          'error', ARGV[5])
        redis.call('PEXPIRE', key, ttl)
        redis.call('ZADD', KEYS[2], now, id)
        redis.call('PEXPIRE', KEYS[2], ttl)
        redis.call('PUBLISH', ARGV[3] .. f[6], outcome)
        failed = failed + 1
      else
        redis.call('HSET', key, 'state', 'queued', 'error', ARGV[5])
        redis.call('RPUSH', f[2], id)
        redis.call('ZADD', f[3], 0, '0')
        requeued = requeued + 1
      end
    elseif f[1] == 'cancelled' then
      redis.call('DEL', key)
    end
  end
  redis.call('DEL', list)
  redis.call('ZREM', KEYS[1], worker)
end
return { #dead, requeued, failed }
`,
);
