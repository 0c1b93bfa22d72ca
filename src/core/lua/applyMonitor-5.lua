--[[
  Applies one monitor config to the zone: stores its JSON and interval, what recording its results
  needs of it in its state (configFlags, see include/configFlags.lua), adds it to the set of
  monitors and gives it a schedule slot. A monitor that already has a slot keeps it unless its
  interval changed, so an edit does not make it jump; a new one (or a new interval) starts at
  now + offset, the offset being random inside the interval so load is spread, not bursty.

  KEYS[1] monitor   STRING monitor config JSON
  KEYS[2] intervals HASH monitor id -> interval (ms)
  KEYS[3] monitors  SET of every monitor id in the zone
  KEYS[4] schedule  ZSET monitor id -> next due time (ms)
  KEYS[5] state     HASH of the monitor's state (field configFlags)
  ARGV[1] monitor id
  ARGV[2] monitor config JSON (secret fields stay encrypted)
  ARGV[3] interval (ms)
  ARGV[4] now (ms), or '' for Redis's clock (TIME)
  ARGV[5] offset (ms), chosen by the caller in [0, interval)

  Returns 0 when the monitor kept its slot, else its new due time (ms), which it also publishes on the channel named
  like the schedule key (KEYS[4]): a control sleeps until the next slot it knows of, and this wakes it for an earlier one.
]]
-- include configFlags.lua

local id, interval = ARGV[1], tonumber(ARGV[3])
local previous = tonumber(redis.call('HGET', KEYS[2], id))
redis.call('SET', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[5], 'configFlags', configFlags(ARGV[2]))
redis.call('HSET', KEYS[2], id, interval)
redis.call('SADD', KEYS[3], id)
if previous == interval and redis.call('ZSCORE', KEYS[4], id) then return 0 end
local function redisNow()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local now = ARGV[4] == '' and redisNow() or tonumber(ARGV[4])
local due = now + tonumber(ARGV[5])
redis.call('ZADD', KEYS[4], due, id)
redis.call('PUBLISH', KEYS[4], string.format('%d', due))
return due
