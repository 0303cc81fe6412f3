import { defineScript } from './script.js';

/** Reads the live servers of a service. */
export const serversScript = defineScript(
  'servers',
  2,
  `
--[[ servers: the announcements of a service's live servers.
  KEYS[1] the hash of the service's servers
  KEYS[2] the zset of the service's live servers, scored by when their entry runs out
  ARGV[1] the most servers to return
  Read only: entries that ran out are left out here, and dropped by the next announce.
  Returns { id1, announcement1, id2, announcement2, ... } (announcements as JSON).
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], now, '+inf', 'LIMIT', 0, tonumber(ARGV[1]))
local out = {}
for _, id in ipairs(ids) do
  local entry = redis.call('HGET', KEYS[1], id)
  if entry then
    out[#out + 1] = id
    out[#out + 1] = entry
  end
end
return out
`,
);
