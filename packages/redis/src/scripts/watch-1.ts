import { defineScript } from './script.js';

/** Reads a job's outcome, or points its future outcome at the caller. */
export const watchScript = defineScript(
  'watch',
  1,
  `
--[[ watch: collect a finished job, or have its outcome published to the caller.
  KEYS[1] the job's record
  ARGV[1] client id to publish the outcome to
  Returns nil when the record is gone, { state, outcome } when finished, else { state }
  after pointing the record's reply-to at ARGV[1].
]]
local f = redis.call('HMGET', KEYS[1], 'state', 'outcome')
if not f[1] then return nil end
if f[1] == 'completed' or f[1] == 'failed' then return { f[1], f[2] } end
redis.call('HSET', KEYS[1], 'replyTo', ARGV[1])
return { f[1] }
`,
);
