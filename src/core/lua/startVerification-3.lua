--[[
  Starts the verification of a fix that just ran: until it ends, the monitor is checked every `every` ms instead of
  its interval (its interval in the intervals hash is replaced, and its next slot brought forward), so whether the
  fix fixed it is known in seconds. One verification per monitor at a time.

  KEYS[1] verification STRING (JSON, expires on its own after ARGV[3] ms)   KEYS[2] intervals HASH   KEYS[3] schedule ZSET
  ARGV[1] monitor id   ARGV[2] the verification's JSON   ARGV[3] ms it may last at most   ARGV[4] every (ms)
  ARGV[5] now (ms), or '' for Redis's clock

  Returns 1 when started, 0 when another verification of the monitor runs or the monitor is no longer scheduled.
]]
local id = ARGV[1]
local scheduled = redis.call('ZSCORE', KEYS[3], id)
if not scheduled then return 0 end
if not redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[3]) then return 0 end
local now
if ARGV[5] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[5])
end
local every = tonumber(ARGV[4])
redis.call('HSET', KEYS[2], id, ARGV[4])
local next = now + every
if next < tonumber(scheduled) then
  redis.call('ZADD', KEYS[3], 'XX', string.format('%d', next), id)
  -- A control sleeping until the slots it knows of hears of the earlier one (as applyMonitor tells it of a new one).
  redis.call('PUBLISH', KEYS[3], string.format('%d', next))
end
return 1
