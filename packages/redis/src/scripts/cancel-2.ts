import { defineScript } from './script.js';

/** Cancels a job nobody waits for any more (its submitter timed out or aborted). */
export const cancelScript = defineScript(
  'cancel',
  2,
  `
--[[ cancel: mark an unfinished job cancelled.
  KEYS[1] the job's record
  KEYS[2] the delayed zset
  ARGV[1] job id
  ARGV[2] milliseconds the cancelled record is kept at most
  ARGV[3] the cancel channel, told about jobs that are running
  ARGV[4] the message published there (the id and why)
  ARGV[5] the publish command: 'SPUBLISH' on a cluster (the channel is in this slot), else
          'PUBLISH'
  A queued job stays in its list and is dropped by the worker that pops it; a delayed one
  is deleted at once; a running one is published on ARGV[3] so its worker can abort it.
  Returns 1 when cancelled, 0 when already finished or unknown.
]]
local publish = ARGV[5] == 'SPUBLISH' and 'SPUBLISH' or 'PUBLISH'
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'delayed' then
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('DEL', KEYS[1])
  return 1
end
if state == 'queued' or state == 'active' then
  redis.call('HSET', KEYS[1], 'state', 'cancelled')
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  if state == 'active' then redis.call(publish, ARGV[3], ARGV[4]) end
  return 1
end
return 0
`,
);
