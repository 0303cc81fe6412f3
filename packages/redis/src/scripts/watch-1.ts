import { defineScript } from './script.js';

/** Reads a job's outcome and latest progress, or points its future messages at the caller. */
export const watchScript = defineScript(
  'watch',
  1,
  `
--[[ watch: collect a finished job, or have its outcome published to the caller.
  KEYS[1] the job's record
  ARGV[1] client id to publish the outcome (and progress) to
  Returns nil when the record is gone, else { state, outcome, progress counter, progress }
  (nil for each field the record lacks); a job not finished has its reply-to pointed at
  ARGV[1] first.
]]
local f = redis.call('HMGET', KEYS[1], 'state', 'outcome', 'progressSeq', 'progress')
if not f[1] then return nil end
if f[1] ~= 'completed' and f[1] ~= 'failed' then redis.call('HSET', KEYS[1], 'replyTo', ARGV[1]) end
-- A missing field is false here, not nil, so the table keeps its length; Redis replies nil.
return { f[1], f[2], f[3], f[4] }
`,
);
