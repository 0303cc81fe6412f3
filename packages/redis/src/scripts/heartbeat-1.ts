import { defineScript } from './script.js';

/** Renews (or first takes) a reliable worker's lease, and names workers whose lease ran out. */
export const heartbeatScript = defineScript(
  'heartbeat',
  1,
  `
--[[ heartbeat: renew a worker's lease, registering it when it holds none.
  KEYS[1] the live-workers zset
  ARGV[1] worker id
  ARGV[2] lease in milliseconds
  ARGV[3] most workers whose lease ran out to name
  Returns { 1 when the lease was renewed, 0 when the worker held none (new, or reaped: any
  job it was running has been given back to the queue), then the ids of up to ARGV[3]
  other workers whose lease ran out }: the caller reaps them, declaring their processing
  lists (the reap script).
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local held = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local out = { 0 }
if held then out[1] = 1 end
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now, 'LIMIT', 0, tonumber(ARGV[3]))
for _, worker in ipairs(dead) do out[#out + 1] = worker end
return out
`,
);
