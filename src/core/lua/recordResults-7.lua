--[[
  Records a batch of check results (one script call for all, so Redis pays the call once, and trims and
  acknowledges once). For each result: updates the monitor's state, adds the result to the history stream and, when
  the monitor's status changed, appends a status event (with the episode it opens or continues); the results' entries in the results stream are acknowledged
  (and the entries every group is done with removed) in the same script, so a result is either recorded and
  acknowledged or neither.

  The batch's results go to history up to 16 to an entry (Redis's work on a stream is mostly per entry: adding,
  reading, acknowledging, trimming): fields `n`, the results added to the stream so far with this entry's (from
  KEYS[7]), then one `r` per result: monitorId, zone, status, latencyMs, checkedAt, due, failcount, cacheOnly and
  message separated by tabs, the message last (see src/core/history-entry.ts). The `n` of the stream's first and
  last entries give the results it holds, whatever took entries away.

  KEYS[1] history  STREAM of results
  KEYS[2] events   STREAM of events
  KEYS[3] counters HASH of the zone's counters (bridge.history_trimmed, and the write-offs taken back)
  KEYS[4] results  STREAM the results came from (acknowledged here)
  KEYS[5] writtenOff ZSET "monitorId|due" of slots counted lost (writeOffSlot)
  KEYS[6] writtenOffWhy HASH "monitorId|due" -> the counter each was counted under
  KEYS[7] historyAdded STRING results ever added to the history stream (the `n` of its entries)
  ARGV[1] zone   ARGV[2] '1' when the store of record is down: the results are marked cache-only
  ARGV[3] most results kept waiting for the bridge in the history stream (CLOUDROUTES_BACKLOG_MAX; 0: no limit)
  ARGV[4] consumer group of the results stream
  ARGV[5], ARGV[6], ARGV[7] the prefixes that a monitor id completes into the keys of its state (HASH), its config
    (STRING, JSON) and its views (HASH other zone -> "status|checkedAt ms|failcount", filled by the bridge): a key
    per result in KEYS would cost Redis more to pass than reading most states does
  then for each result i: ARGV[8 + 7i ..] monitor id, status of this zone's check (healthy|failed|unknown), message,
    latency ms ('' when none), checkedAt ms, due ms, entry id in the results stream ('' when it came another way)

  What recording needs of the monitor's config (a quorum, reactions) is its state's configFlags, written by
  applyMonitor; a state without it (seeded, or older) has it from the config, read once and then kept. No state
  and no config: the monitor no longer exists.

  Recording is idempotent by (monitor, due slot): a result whose due is among the last 8 dues recorded for the
  monitor (a worker sent it again because Redis did not confirm it) is acknowledged and not recorded twice.

  Past ARGV[3] the oldest history entries are trimmed, whole stream nodes at a time (XTRIM MAXLEN ~), and their
  results counted in bridge.history_trimmed: they are the bridge's backlog, lost to the store of record. Events are
  never trimmed.

  The monitor's status is this zone's result, except with a quorum above 1 (a monitor setting): then it is failed
  only when at least `quorum` zones, this one included, saw it failed within one interval (plus 5 s for the views
  to travel), and healthy otherwise. `zoneStatus` keeps this zone's own view.

  Returns one row per result, in order, each one text of tab-separated fields (a table of nine values costs Redis
  more to turn into its reply than the whole row as one string):
    outcome, previousStatus ('' if none), failcount, episode, changed (0|1), stale (0|1), status, episodeStart,
    reactionsJson (last: the rest of the row, whatever it holds); a monitor that no longer exists gives only '2'.
  outcome 0: recorded; 1: a duplicate of a slot already recorded (nothing written); 2: the monitor no longer exists.
  reactionsJson is the monitor's config JSON when it names reactions, '' otherwise (most monitors: nothing to send).
  A result for an earlier slot than the last one recorded (stale: it was late) goes to history only. A result whose
  slot had been counted lost (control.jobs_lost_broker, broker.jobs_lost_worker), stale or not, takes that count
  back: the slot has its result.
  Slots are the schedule's due times, so which machine's clock stamped checkedAt does not matter.
  failcount counts consecutive failed statuses; healthy resets it, unknown leaves it.
  episode increases whenever the status moves between healthy and failed; episodeStart is when.
]]
-- include trimAcked.lua
-- include hasDue.lua
-- include historyWaiting.lua
-- include configFlags.lua

local zone, cacheOnly, cap, group = ARGV[1], ARGV[2], tonumber(ARGV[3]) or 0, ARGV[4]
local statePrefix, monitorPrefix, viewsPrefix = ARGV[5], ARGV[6], ARGV[7]
local history, events, counters, results, writtenOff, writtenOffWhy, historyAdded = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
-- The batch's history lines, added at the end, HISTORY_PER_ENTRY (historyWaiting.lua) to an entry.
local lines = {}

-- Numbers stay text where they can: Redis and Lua turn text into a number with strtod and a number into text with
-- printf's %.17g, and those conversions cost more than the rest of recording a result.

-- The quorum and interval (s) of configFlags; 1 for a monitor without a quorum.
local function quorumOf(flags)
  if flags == '' or flags == 'r' then return 1, nil end
  local quorum, interval = string.match(flags, 'q([%d.]+):([%d.]+)')
  return tonumber(quorum) or 1, tonumber(interval)
end

-- `due` followed by the first 7 of `list`: the last 8 dues recorded, newest first.
local function withDue(list, due)
  if list == '' then return due end
  local at = 0
  for _ = 1, 7 do
    at = string.find(list, ' ', at + 1, true)
    if not at then return due .. ' ' .. list end
  end
  return due .. ' ' .. string.sub(list, 1, at - 1)
end

-- a > b for two integers written in decimal (dues, ms).
local function later(a, b)
  if #a ~= #b then return tonumber(a) > tonumber(b) end
  return a > b
end

-- The next count of consecutive failures after `status`, as text ('0' for a count never written).
local function nextCount(count, status)
  if status == 'failed' then return string.format('%d', (tonumber(count) or 0) + 1) end
  if status == 'healthy' then return '0' end
  return count or '0'
end

local function row(outcome, prev, failcount, episode, changed, stale, status, episodeStart, reactionsJson)
  return outcome .. '\t' .. prev .. '\t' .. failcount .. '\t' .. episode .. '\t' .. changed .. '\t' .. stale .. '\t' .. status .. '\t'
    .. episodeStart .. '\t' .. reactionsJson
end

local function put(fields, name, value)
  fields[#fields + 1] = name
  fields[#fields + 1] = value
end

-- Written-off slots are few and kept 10 minutes: most script calls look for none.
local anyWrittenOff = redis.call('EXISTS', writtenOff) == 1

-- A slot counted lost (writeOffSlot) has its result after all: the count is taken back.
local function takeBackWriteOff(slot)
  if redis.call('ZREM', writtenOff, slot) == 0 then return end
  -- Slots written off before the counter was kept beside them were all the control's.
  local counter = redis.call('HGET', writtenOffWhy, slot) or 'control.jobs_lost_broker'
  redis.call('HDEL', writtenOffWhy, slot)
  redis.call('HINCRBY', counters, counter, -1)
end

local function record(id, own, message, latency, checkedAtS, dueS)
  local stateKey = statePrefix .. id
  local s = redis.call('HMGET', stateKey, 'status', 'failcount', 'episode', 'definite', 'lastDue', 'episodeStart', 'zoneFailcount', 'recentDues',
    'zoneStatus', 'message', 'cacheOnly', 'configFlags')
  local flags, monitor = s[12], nil
  if not flags then
    monitor = redis.call('GET', monitorPrefix .. id)
    if not monitor then return '2' end
    flags = configFlags(monitor)
  end
  local prev, failcount, episode, definite, episodeStart = s[1] or '', s[2] or '0', s[3] or '0', s[4] or '', s[6] or '0'
  local recent = s[8] or ''
  if hasDue(recent, dueS) then
    return row('1', prev, failcount, episode, '0', '1', prev, episodeStart, '')
  end
  local kept = withDue(recent, dueS)
  local stale = s[5] and later(s[5], dueS)
  local zoneFailcount = nextCount(s[7], own)

  local status = own
  local quorum, interval = quorumOf(flags)
  if quorum > 1 and own ~= 'unknown' then
    local checkedAt = tonumber(checkedAtS)
    local fresh = (interval or 60) * 1000 + 5000
    local failedZones = own == 'failed' and 1 or 0
    local views = redis.call('HGETALL', viewsPrefix .. id)
    for i = 1, #views, 2 do
      if views[i] ~= zone then
        local vstatus, vat = string.match(views[i + 1], '^(%a+)|(%d+)')
        if vstatus == 'failed' and checkedAt - tonumber(vat) <= fresh then failedZones = failedZones + 1 end
      end
    end
    status = failedZones >= quorum and 'failed' or 'healthy'
  end

  lines[#lines + 1] = id .. '\t' .. zone .. '\t' .. own .. '\t' .. latency .. '\t' .. checkedAtS .. '\t' .. dueS .. '\t'
    .. zoneFailcount .. '\t' .. cacheOnly .. '\t' .. message
  if anyWrittenOff then takeBackWriteOff(id .. '|' .. dueS) end
  if stale then
    redis.call('HSET', stateKey, 'recentDues', kept)
    return row('0', prev, failcount, episode, '0', '1', prev, episodeStart, '')
  end

  -- Only the fields that change are written (most results change only the times, the slots and the latency): a
  -- field set costs Redis a search of the state hash each.
  local fields = { 'lastCheck', checkedAtS, 'lastDue', dueS, 'recentDues', kept, 'latencyMs', latency }
  if not s[12] then put(fields, 'configFlags', flags) end
  local newFailcount = nextCount(s[2], status)
  if status ~= prev then put(fields, 'status', status) end
  if newFailcount ~= s[2] then put(fields, 'failcount', newFailcount) end
  if own ~= s[9] then put(fields, 'zoneStatus', own) end
  if zoneFailcount ~= s[7] then put(fields, 'zoneFailcount', zoneFailcount) end
  if message ~= s[10] then put(fields, 'message', message) end
  if cacheOnly ~= (s[11] or false) then put(fields, 'cacheOnly', cacheOnly) end
  if status ~= 'unknown' and status ~= definite then
    episode = string.format('%d', tonumber(episode) + 1)
    episodeStart = checkedAtS
    put(fields, 'episode', episode)
    put(fields, 'definite', status)
    put(fields, 'episodeStart', checkedAtS)
  elseif not s[3] then
    put(fields, 'episode', episode)
  end
  local changed = prev ~= status
  if changed then
    put(fields, 'lastChange', checkedAtS)
    put(fields, 'previousStatus', prev)
    redis.call('XADD', events, '*', 'kind', 'status', 'monitorId', id, 'zone', zone,
      'at', checkedAtS, 'status', status, 'previousStatus', prev, 'failcount', newFailcount, 'episode', episode, 'message', message)
  end
  redis.call('HSET', stateKey, unpack(fields))
  local reactionsJson = ''
  if string.byte(flags, 1) == 114 then reactionsJson = monitor or redis.call('GET', monitorPrefix .. id) or '' end -- 114: 'r'
  return row('0', prev, newFailcount, episode, changed and '1' or '0', '0', status, episodeStart, reactionsJson)
end

local out, acks = {}, {}
for i = 0, (#ARGV - 7) / 7 - 1 do
  local a = 8 + 7 * i
  if ARGV[a + 6] ~= '' then acks[#acks + 1] = ARGV[a + 6] end
  out[i + 1] = record(ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5])
end
if #acks > 0 then
  redis.call('XACK', results, group, unpack(acks))
  trimAcked(results)
end
if #lines > 0 then
  local added = redis.call('INCRBY', historyAdded, #lines) - #lines
  for from = 1, #lines, HISTORY_PER_ENTRY do
    local to = math.min(from + HISTORY_PER_ENTRY - 1, #lines)
    local fields = { 'n', string.format('%d', added + to) }
    for j = from, to do
      fields[#fields + 1] = 'r'
      fields[#fields + 1] = lines[j]
    end
    redis.call('XADD', history, '*', unpack(fields))
  end
  -- Below cap / HISTORY_PER_ENTRY entries the stream is under the cap without a look at what they hold.
  local len = cap > 0 and redis.call('XLEN', history) or 0
  if len * HISTORY_PER_ENTRY > cap then
    local total = added + #lines
    local waiting = historyWaiting(history, len, total)
    if waiting > cap then
      local gone = redis.call('XTRIM', history, 'MAXLEN', '~', len - math.ceil((waiting - cap) * len / waiting))
      if gone > 0 then redis.call('HINCRBY', counters, 'bridge.history_trimmed', waiting - historyWaiting(history, len - gone, total)) end
    end
  end
end
return out
