import { defineScript } from './script.js';

/** Stores a running job's latest progress and publishes it to its submitter. */
export const progressScript = defineScript(
  'progress',
  1,
  `
--[[ progress: record a running job's progress and publish it (record modes).
  KEYS[1] the job's record
  ARGV[1] id of the worker reporting it
  ARGV[2] the attempt it is running
  ARGV[3] the progress value, JSON (kept in the record as 'progress')
  ARGV[4] the start of the message, to which the update's counter and ARGV[3] are appended
  ARGV[5] the prefix of reply channels (the client id is appended; a channel, not a key)
  ARGV[6] the publish command: 'SPUBLISH' on a cluster, else 'PUBLISH'
  Only the worker running that attempt may report: the record must be active, held by
  ARGV[1], at attempt ARGV[2]. The record's 'progressSeq' counts the updates, so the
  submitter can order them and skip one it already has. The record keeps its expiry.
  Returns the update's counter, or 0 when the job is no longer this worker's (finished,
  cancelled, reclaimed after a lapsed lease, or its record is gone).
]]
local publish = ARGV[6] == 'SPUBLISH' and 'SPUBLISH' or 'PUBLISH'
local f = redis.call('HMGET', KEYS[1], 'state', 'worker', 'attempts', 'replyTo')
if f[1] ~= 'active' or f[2] ~= ARGV[1] or f[3] ~= ARGV[2] then return 0 end
local seq = redis.call('HINCRBY', KEYS[1], 'progressSeq', 1)
redis.call('HSET', KEYS[1], 'progress', ARGV[3])
redis.call(publish, ARGV[5] .. f[4], ARGV[4] .. seq .. ',"value":' .. ARGV[3] .. '}')
return seq
`,
);
