--[[
  Records one check result: updates the monitor's state, appends the result to the history
  stream and, when the monitor's status changed, appends a status event. All or nothing, and
  together with the acknowledgement of the result's entry in the results stream, so a result is
  either recorded and acknowledged or neither.

  KEYS[1] state    HASH of the monitor's state
  KEYS[2] history  STREAM of results
  KEYS[3] events   STREAM of events
  KEYS[4] monitor  STRING monitor config JSON
  KEYS[5] views    HASH other zone -> "status|checkedAt ms|failcount", that zone's latest result (filled by the bridge)
  KEYS[6] counters HASH of the zone's counters (field bridge.history_trimmed)
  KEYS[7] results  STREAM the result came from (acknowledged and deleted here)
  KEYS[8] writtenOff ZSET "monitorId|due" of slots counted lost with a broker (writeOffSlot)
  ARGV[1] monitor id   ARGV[2] zone        ARGV[3] status of this zone's check (healthy|failed|unknown)
  ARGV[4] message      ARGV[5] latency ms ('' when none)
  ARGV[6] checkedAt ms ARGV[7] due ms
  ARGV[8] '1' when the store of record is down: the result is marked cache-only (in Redis alone for now)
  ARGV[9] most history entries kept waiting for the bridge (CLOUDROUTES_BACKLOG_MAX; 0: no limit)
  ARGV[10] consumer group of the results stream   ARGV[11] the result's entry id there ('' when it came another way)

  Recording is idempotent by (monitor, due slot): a result whose due is among the last dues recorded
  for the monitor (a worker that sent it again because Redis did not confirm it) is acknowledged and
  not recorded twice.

  Past ARGV[9] the oldest history entries are trimmed, whole stream nodes at a time (XTRIM MAXLEN ~, so the
  stream may hold up to stream-node-max-entries more), and counted in bridge.history_trimmed: they are the
  bridge's backlog, lost to the store of record. Events are never trimmed.

  The monitor's status is this zone's result, except with a quorum above 1 (a monitor setting):
  then it is failed only when at least `quorum` zones, this one included, saw it failed within
  one interval (plus 5 s for the views to travel), and healthy otherwise. `zoneStatus` keeps
  this zone's own view.

  Returns
    false when the monitor no longer exists (nothing is written), else
    { monitorJson, previousStatus ('' if none), failcount, episode, changed (0|1), stale (0|1), status, episodeStart, duplicate (0|1) }
  A result for an earlier slot than the last one recorded (stale: it was late) goes to history only; when its slot
  had been counted lost with a broker (control.jobs_lost_broker), that count is taken back: the slot has its result.
  Slots are the schedule's due times, so which machine's clock stamped checkedAt does not matter.
  failcount counts consecutive failed statuses; healthy resets it, unknown leaves it.
  episode increases whenever the status moves between healthy and failed; episodeStart is when.
]]
if ARGV[11] ~= '' then
  redis.call('XACK', KEYS[7], ARGV[10], ARGV[11])
  redis.call('XDEL', KEYS[7], ARGV[11])
end
local monitor = redis.call('GET', KEYS[4])
if not monitor then return false end

local own, checkedAt, due = ARGV[3], tonumber(ARGV[6]), tonumber(ARGV[7])
local s = redis.call('HMGET', KEYS[1], 'status', 'failcount', 'episode', 'definite', 'lastDue', 'episodeStart', 'zoneFailcount', 'recentDues')
local prev, failcount, episode, definite = s[1] or '', tonumber(s[2]) or 0, tonumber(s[3]) or 0, s[4] or ''
local episodeStart = tonumber(s[6]) or 0
-- The last 8 dues recorded, newest first, space-separated.
local recent = s[8] or ''
if string.find(' ' .. recent .. ' ', ' ' .. ARGV[7] .. ' ', 1, true) then
  return { monitor, prev, failcount, episode, 0, 1, prev, episodeStart, 1 }
end
local kept = ARGV[7]
local n = 1
for d in string.gmatch(recent, '%d+') do
  if n >= 8 then break end
  kept = kept .. ' ' .. d
  n = n + 1
end
local stale = s[5] and tonumber(s[5]) > due
local zoneFailcount = tonumber(s[7]) or 0
if own == 'failed' then zoneFailcount = zoneFailcount + 1 elseif own == 'healthy' then zoneFailcount = 0 end

local status = own
local ok, config = pcall(cjson.decode, monitor)
local quorum = (ok and type(config.quorum) == 'number') and config.quorum or 1
if quorum > 1 and own ~= 'unknown' then
  local fresh = ((ok and tonumber(config.interval)) or 60) * 1000 + 5000
  local failedZones = own == 'failed' and 1 or 0
  local views = redis.call('HGETALL', KEYS[5])
  for i = 1, #views, 2 do
    if views[i] ~= ARGV[2] then
      local vstatus, vat = string.match(views[i + 1], '^(%a+)|(%d+)')
      if vstatus == 'failed' and checkedAt - tonumber(vat) <= fresh then failedZones = failedZones + 1 end
    end
  end
  status = failedZones >= quorum and 'failed' or 'healthy'
end

redis.call('XADD', KEYS[2], '*', 'monitorId', ARGV[1], 'zone', ARGV[2], 'status', own,
  'message', ARGV[4], 'latencyMs', ARGV[5], 'checkedAt', ARGV[6], 'due', ARGV[7], 'failcount', zoneFailcount,
  'cacheOnly', ARGV[8])
local cap = tonumber(ARGV[9]) or 0
if cap > 0 then
  local trimmed = redis.call('XTRIM', KEYS[2], 'MAXLEN', '~', cap)
  if trimmed > 0 then redis.call('HINCRBY', KEYS[6], 'bridge.history_trimmed', trimmed) end
end
if stale then
  if redis.call('ZREM', KEYS[8], ARGV[1] .. '|' .. ARGV[7]) == 1 then redis.call('HINCRBY', KEYS[6], 'control.jobs_lost_broker', -1) end
  redis.call('HSET', KEYS[1], 'recentDues', kept)
  return { monitor, prev, failcount, episode, 0, 1, prev, episodeStart, 0 }
end

if status == 'failed' then failcount = failcount + 1 elseif status == 'healthy' then failcount = 0 end
if status ~= 'unknown' and status ~= definite then
  episode = episode + 1
  episodeStart = checkedAt
  redis.call('HSET', KEYS[1], 'definite', status, 'episodeStart', checkedAt)
end
local changed = prev ~= status
redis.call('HSET', KEYS[1], 'status', status, 'failcount', failcount, 'episode', episode, 'zoneStatus', own,
  'zoneFailcount', zoneFailcount, 'lastCheck', ARGV[6], 'lastDue', ARGV[7], 'recentDues', kept, 'latencyMs', ARGV[5], 'message', ARGV[4], 'cacheOnly', ARGV[8])
if changed then
  redis.call('HSET', KEYS[1], 'lastChange', ARGV[6], 'previousStatus', prev)
  redis.call('XADD', KEYS[3], '*', 'kind', 'status', 'monitorId', ARGV[1], 'zone', ARGV[2],
    'at', ARGV[6], 'status', status, 'previousStatus', prev, 'failcount', failcount, 'message', ARGV[4])
end
return { monitor, prev, failcount, episode, changed and 1 or 0, 0, status, episodeStart, 0 }
