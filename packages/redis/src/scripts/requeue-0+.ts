import { defineScript } from './script.js';

/** Puts ids a recoverable worker started but will not run back at the head of their queues. */
export const requeueScript = defineScript(
  'requeue',
  '0+',
  `
--[[ requeue: hand back started jobs a recoverable worker will not finish.
  KEYS[1..n] the record of each id in ARGV (KEYS[i] is that of ARGV[i]), then the wait list
          of every priority of the queue (where requeued jobs go back: the ones their
          records name)
  ARGV[1..n] ids
  Each active job goes back to the head of its wait list as queued; cancelled ones are
  deleted. Returns how many jobs were requeued.
]]
local requeued = 0
for i = 1, #ARGV do
  local key = KEYS[i]
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
