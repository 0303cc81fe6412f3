import { defineScript } from './script.js';

/** Marks ids a recoverable worker popped as started and returns their records. */
export const startScript = defineScript(
  'start',
  '0+',
  `
--[[ start: mark popped ids active (recoverable mode).
  KEYS[1..n] the record of each id popped (KEYS[i] is that of ARGV[i + 1])
  ARGV[1] worker id
  ARGV[2..n] ids popped from the wait lists
  Returns { now, then per started job: id, data, priority, queued, deadline }.
  Ids whose record is gone are dropped; cancelled ones are deleted. A job this worker
  already started is returned again, so a call resent after a lost reply loses nothing.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = { now }
for i = 1, #KEYS do
  local id = ARGV[i + 1]
  local key = KEYS[i]
  local f = redis.call('HMGET', key, 'state', 'data', 'priority', 'queued', 'deadline', 'worker')
  if f[1] == 'queued' or (f[1] == 'active' and f[6] == ARGV[1]) then
    redis.call('HSET', key, 'state', 'active', 'started', now, 'attempts', 1, 'worker', ARGV[1])
    out[#out + 1] = id
    out[#out + 1] = f[2]
    out[#out + 1] = f[3]
    out[#out + 1] = f[4]
    out[#out + 1] = f[5]
  elseif f[1] == 'cancelled' then
    redis.call('DEL', key)
  end
end
return out
`,
);
