--[[
  Pops the monitors that are due and re-schedules each at its next due time, atomically,
  so two controls of one zone never dispatch the same slot.

  KEYS[1] schedule  ZSET monitor id -> next due time (ms)
  KEYS[2] intervals HASH monitor id -> interval (ms)
  ARGV[1] now (ms), or '' for Redis's own clock (TIME): the zone's one clock, whatever the control's clock says
  ARGV[2] most monitors to pop
  ARGV[3] optional: the prefix of the monitors' config keys; when given each popped monitor comes with its config
          (nil when it has none), so a control round is one call instead of a pop and an MGET
  ARGV[4] optional: ms ahead of now; slots due up to now + this are popped too (sent ahead, started on time)

  Returns { nextDue, missed, now, id1, due1, id2, due2, ... }, or with ARGV[3] { ..., id1, due1, config1, ... }
    nextDue: due time of the earliest monitor left (ms), or -1 when the schedule is empty
    missed:  slots skipped because the control was more than one interval late
    now:     the time the slots were judged against (ms)
    dueN:    the slot being dispatched (the latest one not after now, or one due within ARGV[4] of now)
  A monitor with no interval (removed) is dropped from the schedule.
]]
local function redisNow()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local now = ARGV[1] == '' and redisNow() or tonumber(ARGV[1])
local ahead = tonumber(ARGV[4] or '0') or 0
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now + ahead, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local out = { -1, 0, tostring(now) }
local missed = 0
local prefix = ARGV[3] or ''
for i = 1, #due, 2 do
  local id = due[i]
  local slot = tonumber(due[i + 1])
  local interval = tonumber(redis.call('HGET', KEYS[2], id))
  if interval == nil or interval <= 0 then
    redis.call('ZREM', KEYS[1], id)
  else
    local behind = math.floor((now - slot) / interval)
    if behind > 0 then
      missed = missed + behind
      slot = slot + behind * interval
    end
    redis.call('ZADD', KEYS[1], slot + interval, id)
    out[#out + 1] = id
    out[#out + 1] = tostring(slot)
    if prefix ~= '' then out[#out + 1] = redis.call('GET', prefix .. id) end
  end
end
out[2] = missed
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if first[2] then out[1] = first[2] end
return out
