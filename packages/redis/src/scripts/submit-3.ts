import { defineScript } from './script.js';

/** Stores a new job's record and queues its id (recoverable and reliable modes). */
export const submitScript = defineScript(
  'submit',
  3,
  `
--[[ submit: store a job record and queue its id.
  KEYS[1] the job's record (hash)
  KEYS[2] the wait list of its priority
  KEYS[3] the marker of that priority (touched only when ARGV[8] is '1')
  ARGV[1] job id
  ARGV[2] data, JSON
  ARGV[3] client id results are published to
  ARGV[4] priority name
  ARGV[5] milliseconds from now to the job's deadline, '0' for none
  ARGV[6] max attempts
  ARGV[7] milliseconds a record outlives its deadline
  ARGV[8] '1' to wake reliable workers through the marker
  Returns the wait list's new length, or -1 when the record already exists (a resent submit).
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local timeout = tonumber(ARGV[5])
local deadline = 0
if timeout > 0 then deadline = now + timeout end
redis.call('HSET', KEYS[1], 'data', ARGV[2], 'replyTo', ARGV[3], 'priority', ARGV[4],
  'wait', KEYS[2], 'marker', KEYS[3], 'state', 'queued', 'queued', now,
  'deadline', deadline, 'attempts', 0, 'maxAttempts', ARGV[6])
if deadline > 0 then redis.call('PEXPIREAT', KEYS[1], deadline + tonumber(ARGV[7])) end
local length = redis.call('LPUSH', KEYS[2], ARGV[1])
if ARGV[8] == '1' then redis.call('ZADD', KEYS[3], 0, '0') end
return length
`,
);
