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

-- Calls `command` [key] with `list` as its arguments, `step` at a time: a few thousand at once overflow Lua's stack.
local function callInChunks(command, key, list, step)
  local replies = {}
  for from = 1, #list, step do
    local to = math.min(from + step - 1, #list)
    local part = key and redis.call(command, key, unpack(list, from, to)) or redis.call(command, unpack(list, from, to))
    if type(part) == 'table' then for _, v in ipairs(part) do replies[#replies + 1] = v end end
  end
  return replies
end

-- One HMGET, one MGET and one ZADD for the whole batch: a call from Lua costs Redis more than the work of most calls.
local ids = {}
for i = 1, #due, 2 do ids[#ids + 1] = due[i] end
if #ids > 0 then
  local intervals = callInChunks('HMGET', KEYS[2], ids, 1000)
  local configs
  if prefix ~= '' then
    local configKeys = {}
    for i, id in ipairs(ids) do configKeys[i] = prefix .. id end
    configs = callInChunks('MGET', nil, configKeys, 1000)
  end
  local next, gone = {}, {}
  for i, id in ipairs(ids) do
    local slotS = due[2 * i]
    local slot = tonumber(slotS)
    local interval = tonumber(intervals[i])
    if interval == nil or interval <= 0 then
      gone[#gone + 1] = id
    else
      local behind = math.floor((now - slot) / interval)
      if behind > 0 then
        missed = missed + behind
        slot = slot + behind * interval
        slotS = string.format('%d', slot)
      end
      -- '%d', not a number argument: Redis and Lua turn a number into text with printf's %.17g, several times slower.
      next[#next + 1] = string.format('%d', slot + interval)
      next[#next + 1] = id
      out[#out + 1] = id
      out[#out + 1] = slotS
      if configs then out[#out + 1] = configs[i] end
    end
  end
  if #gone > 0 then callInChunks('ZREM', KEYS[1], gone, 1000) end
  if #next > 0 then callInChunks('ZADD', KEYS[1], next, 2000) end
end
out[2] = missed
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if first[2] then out[1] = first[2] end
return out
