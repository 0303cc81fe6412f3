import { defineScript } from './script.js';

/** Renews (or first takes) a reliable worker's lease. */
export const heartbeatScript = defineScript(
  'heartbeat',
  1,
  `
--[[ heartbeat: renew a worker's lease, registering it when it holds none.
  KEYS[1] the live-workers zset
  ARGV[1] worker id
  ARGV[2] lease in milliseconds
  Returns 1 when the lease was renewed, 0 when the worker held none (new, or reaped: any
  job it was running has been given back to the queue).
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local held = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
if held then return 1 end
return 0
`,
);
