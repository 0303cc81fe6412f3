import { defineScript } from './script.js';

/** Reads a queue's counts in one consistent snapshot (no state change). */
export const statsScript = defineScript(
  'stats',
  '3+',
  `
--[[ stats: count waiting, delayed, failed and running jobs and live workers.
  KEYS[1] the live-workers zset
  KEYS[2] the delayed zset
  KEYS[3] the failed zset
  KEYS[4..n] the wait list of each priority (ARGV[1] of them), then the processing list of
          each reliable worker the caller found in KEYS[1] just before
  ARGV[1] how many wait lists follow KEYS[3]
  Returns { workers, delayed, failed, running, then the length of each wait list }.
  Running counts the jobs in the processing lists given: a worker that registered since
  the caller read KEYS[1] is not counted yet.
]]
local lists = tonumber(ARGV[1])
local running = 0
for i = 4 + lists, #KEYS do running = running + redis.call('LLEN', KEYS[i]) end
local out = { redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2]),
  redis.call('ZCARD', KEYS[3]), running }
for i = 4, 3 + lists do out[#out + 1] = redis.call('LLEN', KEYS[i]) end
return out
`,
);
