import { defineScript } from './script.js';

/** Reads a queue's counts in one consistent snapshot (no state change). */
export const statsScript = defineScript(
  'stats',
  3,
  `
--[[ stats: count waiting, delayed, failed and running jobs and live workers.
  KEYS[1] the live-workers zset
  KEYS[2] the delayed zset
  KEYS[3] the failed zset
  ARGV[1] processing list prefix (a worker id is appended)
  ARGV[2..n] wait lists
  Returns { workers, delayed, failed, running, then the length of each wait list }.
]]
local workers = redis.call('ZRANGE', KEYS[1], 0, -1)
local running = 0
for _, worker in ipairs(workers) do
  running = running + redis.call('LLEN', ARGV[1] .. worker)
end
local out = { #workers, redis.call('ZCARD', KEYS[2]), redis.call('ZCARD', KEYS[3]), running }
for i = 2, #ARGV do out[#out + 1] = redis.call('LLEN', ARGV[i]) end
return out
`,
);
