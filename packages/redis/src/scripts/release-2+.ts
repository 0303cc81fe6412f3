import { defineScript } from './script.js';

/** Puts ids a reliable worker holds but will not run back at the head of their queues. */
export const releaseScript = defineScript(
  'release',
  '2+',
  `
--[[ release: hand back jobs a reliable worker took but will not finish.
  KEYS[1] the worker's processing list
  KEYS[2] the live-workers zset
  KEYS[3..n] the wait list and marker of every priority of the queue, in pairs (where
          released jobs go back: the ones their records name)
  ARGV[1] job key prefix: the record of an id read from KEYS[1] is ARGV[1] .. id (read
          here, so not declared; it carries the queue's hash tag, so it is in the slot of
          KEYS)
  ARGV[2] worker id
  ARGV[3] 'only' to release the ids listed in ARGV[5..n], 'except' to release all others
  ARGV[4] '1' to also drop the worker's lease (it is stopping)
  ARGV[5..n] ids
  Released jobs go back to the head of their wait list with the attempt uncounted (the
  worker stopped; the job did not fail). Cancelled ones are deleted.
  Returns how many jobs were released.
]]
local listed = {}
for i = 5, #ARGV do listed[ARGV[i]] = true end
local only = ARGV[3] == 'only'
local released = 0
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if (listed[id] == true) == only then
    redis.call('LREM', KEYS[1], 1, id)
    local key = ARGV[1] .. id
    local f = redis.call('HMGET', key, 'state', 'wait', 'marker')
    if f[1] == 'active' then
      redis.call('HSET', key, 'state', 'queued')
      redis.call('HINCRBY', key, 'attempts', -1)
      redis.call('RPUSH', f[2], id)
      redis.call('ZADD', f[3], 0, '0')
      released = released + 1
    elseif f[1] == 'cancelled' then
      redis.call('DEL', key)
    end
  end
end
if ARGV[4] == '1' then redis.call('ZREM', KEYS[2], ARGV[2]) end
return released
`,
);
