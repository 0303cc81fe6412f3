import { defineScript } from './script.js';

/** Puts ids a recoverable worker started but will not run back at the head of their queues. */
export const requeueScript = defineScript(
  'requeue',
  0,
  `
--[[ requeue: hand back started jobs a recoverable worker will not finish.
  No KEYS: record keys are built from ARGV[1], wait lists are read from the records.
  ARGV[1] job key prefix
  ARGV[2..n] ids
  Each active job goes back to the head of its wait list as queued; cancelled ones are
  deleted. Returns how many jobs were requeued.
]]
local requeued = 0
for i = 2, #ARGV do
  local key = ARGV[1] .. ARGV[i]
  local f = redis.call('HMGET', key, 'state', 'wait')
  if f[1] == 'active' then
    redis.call('HSET', key, 'state', 'queued')
    redis.call('RPUSH', f[2], ARGV[i])
    requeued = requeued + 1
  elseif f[1] == 'cancelled' then
    redis.call('DEL', key)
  end
end
return requeued
`,
);
