import { defineScript } from './script.js';

/** Moves up to N queued ids, in priority order, into a reliable worker's processing list. */
export const claimScript = defineScript(
  'claim',
  '3+',
  `
--[[ claim: take jobs for a reliable worker, atomically.
  KEYS[1] this worker's processing list
  KEYS[2] the live-workers zset (lease expiry per worker)
  KEYS[3] the delayed zset (retries waiting out their backoff)
  KEYS[4..n] pairs: a wait list, then its marker; first the priorities this worker serves,
          in the order it serves them, then the queue's other priorities (a due retry goes
          back to its own list, whichever it is)
  ARGV[1] worker id
  ARGV[2] most jobs to take
  ARGV[3] lease in milliseconds
  ARGV[4] job key prefix: the record of an id taken from a list or zset is ARGV[4] .. id
          (ids are read here, so their records cannot be declared; they carry the
          queue's hash tag, so they are in the slot of KEYS)
  ARGV[5] how many of the pairs, from KEYS[4], are served
  Returns { -1 } when this worker holds no lease (it was reaped: it must re-register),
  else { now, next delayed due time or 0, then per job: id, data, priority, queued,
  deadline, attempt, max attempts }.
  Due delayed jobs are moved back to their wait lists (the ones their records name, among
  KEYS) first. Ids whose record is gone are dropped; cancelled ones are deleted. Each
  served priority's marker is left set exactly when its list still has work, so idle
  workers wake only for real work.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then return { -1 } end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])

local due = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 1000)
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[3], id)
  local key = ARGV[4] .. id
  local f = redis.call('HMGET', key, 'state', 'wait', 'marker')
  if f[1] == 'delayed' then
    redis.call('HSET', key, 'state', 'queued')
    redis.call('LPUSH', f[2], id)
    redis.call('ZADD', f[3], 0, '0')
  elseif f[1] == 'cancelled' then
    redis.call('DEL', key)
  end
end
local nextDue = 0
local head = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
if head[2] then nextDue = tonumber(head[2]) end

local out = { now, nextDue }
local max = tonumber(ARGV[2])
local taken = 0
for i = 4, 3 + 2 * tonumber(ARGV[5]), 2 do
  while taken < max do
    local id = redis.call('LMOVE', KEYS[i], KEYS[1], 'RIGHT', 'LEFT')
    if not id then break end
    local key = ARGV[4] .. id
    local f = redis.call('HMGET', key, 'state', 'data', 'priority', 'queued', 'deadline',
      'attempts', 'maxAttempts')
    if f[1] == 'queued' then
      local attempt = tonumber(f[6]) + 1
      redis.call('HSET', key, 'state', 'active', 'started', now, 'attempts', attempt,
        'worker', ARGV[1])
      out[#out + 1] = id
      out[#out + 1] = f[2]
      out[#out + 1] = f[3]
      out[#out + 1] = f[4]
      out[#out + 1] = f[5]
      out[#out + 1] = attempt
      out[#out + 1] = f[7]
      taken = taken + 1
    else
      redis.call('LREM', KEYS[1], 1, id)
      if f[1] == 'cancelled' then redis.call('DEL', key) end
    end
  end
  if redis.call('LLEN', KEYS[i]) > 0 then
    redis.call('ZADD', KEYS[i + 1], 0, '0')
  else
    redis.call('ZREM', KEYS[i + 1], '0')
  end
end
return out
`,
);
