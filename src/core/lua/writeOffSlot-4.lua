--[[
  Counts one slot of a monitor as lost (a broker went away holding its job, or a worker holding it went silent),
  unless its result was recorded: the check and the count are one step, so a result recorded meanwhile is never
  also counted lost, and a slot is counted at most once whoever counts it.

  KEYS[1] state         HASH of the monitor's state (recentDues: the last dues recorded, newest first)
  KEYS[2] counters      HASH of the zone's counters
  KEYS[3] writtenOff    ZSET "monitorId|due" -> when it was counted lost (ms, Redis time); kept 10 minutes
  KEYS[4] writtenOffWhy HASH "monitorId|due" -> the counter it was counted under, kept as long
  ARGV[1] monitor id  ARGV[2] due (ms)  ARGV[3] counter field (control.jobs_lost_broker, broker.jobs_lost_worker)

  A result for a written-off slot that arrives after all (a broker or worker cut off from the zone that ran it
  later) finds its slot here: recordResults then records it and takes the count back, so the slot has one result
  and no reason.

  Returns 1 when counted lost, 0 when the slot has a result or was counted already.
]]
-- include hasDue.lua

if hasDue(redis.call('HGET', KEYS[1], 'recentDues') or '', ARGV[2]) then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local old = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - 600000, 'LIMIT', 0, 1000)
for _, slot in ipairs(old) do redis.call('HDEL', KEYS[4], slot) end
if #old > 0 then redis.call('ZREM', KEYS[3], unpack(old)) end
local slot = ARGV[1] .. '|' .. ARGV[2]
if redis.call('ZADD', KEYS[3], 'NX', now, slot) == 1 then
  redis.call('HSET', KEYS[4], slot, ARGV[3])
  redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
  return 1
end
return 0
