--[[
  Counts one slot of a monitor as lost (a broker went away holding its job), unless its result was recorded: the
  check and the count are one step, so a result recorded meanwhile is never also counted lost.

  KEYS[1] state       HASH of the monitor's state (recentDues: the last dues recorded, newest first)
  KEYS[2] counters    HASH of the zone's counters
  KEYS[3] writtenOff  ZSET "monitorId|due" -> when it was counted lost (ms, Redis time); kept 10 minutes
  ARGV[1] monitor id  ARGV[2] due (ms)  ARGV[3] counter field (control.jobs_lost_broker)

  A result for a written-off slot that arrives after all (a broker cut off from the zone that ran it later) finds
  its slot here: recordResults then records it and takes the count back, so the slot has one result and no reason.

  Returns 1 when counted lost, 0 when the slot has a result.
]]
local recent = redis.call('HGET', KEYS[1], 'recentDues') or ''
if string.find(' ' .. recent .. ' ', ' ' .. ARGV[2] .. ' ', 1, true) then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - 600000)
if redis.call('ZADD', KEYS[3], 'NX', now, ARGV[1] .. '|' .. ARGV[2]) == 1 then
  redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
  return 1
end
return 0
