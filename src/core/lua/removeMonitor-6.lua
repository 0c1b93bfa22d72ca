--[[
  Removes one monitor from the zone: its config, its state, other zones' views of it, its
  interval, its schedule slot and its membership of the set of monitors. Safe to run for a monitor that is already gone.

  KEYS[1] monitor   STRING monitor config JSON
  KEYS[2] state     HASH of the monitor's state
  KEYS[3] intervals HASH monitor id -> interval (ms)
  KEYS[4] schedule  ZSET monitor id -> next due time (ms)
  KEYS[5] monitors  SET of every monitor id in the zone
  KEYS[6] views     HASH of other zones' latest results for it
  ARGV[1] monitor id

  Returns 1 when anything was removed, 0 when the monitor was not there.
]]
local id = ARGV[1]
local n = redis.call('DEL', KEYS[1], KEYS[2], KEYS[6])
n = n + redis.call('HDEL', KEYS[3], id)
n = n + redis.call('ZREM', KEYS[4], id)
n = n + redis.call('SREM', KEYS[5], id)
if n > 0 then return 1 end
return 0
