--[[
  Acknowledges entries of a stream for a consumer group and removes from the stream the entries every group is done
  with (see include/trimAcked.lua), instead of deleting each acknowledged entry with XDEL.

  KEYS[1] stream   ARGV[1] consumer group   ARGV[2..] entry ids to acknowledge (none: only trim)
  Returns the number of entries acknowledged.
]]
-- include trimAcked.lua

local acked = 0
-- 1,000 ids at a time: a few thousand arguments at once overflow Lua's stack.
for from = 2, #ARGV, 1000 do
  acked = acked + redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, from, math.min(from + 999, #ARGV)))
end
if redis.call('EXISTS', KEYS[1]) == 1 then trimAcked(KEYS[1]) end
return acked
