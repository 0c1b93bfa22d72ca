--[[
  Ends a monitor's verification, once: the sink whose result settles it (fixed or not-fixed) records the outcome,
  any other sink that sees the same verification finds it gone. The monitor's own interval is put back.

  KEYS[1] verification STRING   KEYS[2] intervals HASH (the next slot follows the interval put back)
  ARGV[1] monitor id   ARGV[2] the verification's token (it must still be this one)   ARGV[3] the monitor's interval (ms)

  Returns 1 when this call ended it, 0 when it had ended already.
]]
local v = redis.call('GET', KEYS[1])
if not v or not string.find(v, ARGV[2], 1, true) then return 0 end
redis.call('DEL', KEYS[1])
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then redis.call('HSET', KEYS[2], ARGV[1], ARGV[3]) end
return 1
