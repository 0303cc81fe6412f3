import { defineScript } from './script.js';

/** Gives the jobs of reliable workers whose lease lapsed back to the queue. */
export const reapScript = defineScript(
  'reap',
  '2+',
  `
--[[ reap: recover the jobs of dead workers (reliable mode).
  KEYS[1] the live-workers zset
  KEYS[2] the failed zset
  KEYS[3..n] the processing list of each worker named in ARGV[6..] (KEYS[2 + i] is that of
          ARGV[5 + i]), then the wait list and marker of every priority of the queue, in
          pairs (where recovered jobs go back: the ones their records name)
  ARGV[1] job key prefix: the record of an id read from a processing list is ARGV[1] .. id
          (read here, so not declared; it carries the queue's hash tag, so it is in the
          slot of KEYS)
  ARGV[2] reply channel prefix (a client id is appended; a channel, not a key)
  ARGV[3] milliseconds a finished record is kept
  ARGV[4] the error recorded for the lost attempt, JSON
  ARGV[5] the publish command: 'SPUBLISH' on a cluster, else 'PUBLISH'
  ARGV[6..n] ids of workers whose lease the caller saw run out (the heartbeat script)
  A named worker whose lease still has run out (another reaper may have been first, or it
  renewed) is removed with its processing list. Each active job in it goes back to the
  head of its wait list, or, when it has used all its attempts, is failed with ARGV[4] and
  its outcome published. Cancelled jobs are deleted.
  Returns { workers reaped, jobs requeued, jobs failed }.
]]
local publish = ARGV[5] == 'SPUBLISH' and 'SPUBLISH' or 'PUBLISH'
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
local reaped, requeued, failed = 0, 0, 0
for i = 6, #ARGV do
  local worker = ARGV[i]
  local list = KEYS[i - 3]
  local lease = redis.call('ZSCORE', KEYS[1], worker)
  if lease and tonumber(lease) < now then
    for _, id in ipairs(redis.call('LRANGE', list, 0, -1)) do
      local key = ARGV[1] .. id
      local f = redis.call('HMGET', key, 'state', 'wait', 'marker', 'attempts', 'maxAttempts',
        'replyTo')
      if f[1] == 'active' then
        if tonumber(f[4]) >= tonumber(f[5]) then
          local outcome = '{"id":' .. cjson.encode(id) .. ',"ok":false,"attempts":' .. f[4] ..
            ',"error":' .. ARGV[4] .. '}'
          redis.call('HSET', key, 'state', 'failed', 'outcome', outcome, 'finished', now,
            'error', ARGV[4])
          redis.call('PEXPIRE', key, ttl)
          redis.call('ZADD', KEYS[2], now, id)
          redis.call('PEXPIRE', KEYS[2], ttl)
          redis.call(publish, ARGV[2] .. f[6], outcome)
          failed = failed + 1
        else
          redis.call('HSET', key, 'state', 'queued', 'error', ARGV[4])
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
    reaped = reaped + 1
  end
end
return { reaped, requeued, failed }
`,
);
