--[[
  Records one check result: updates the monitor's state, appends it to the history stream
  and, when the status changed, appends a status event. All or nothing.

  KEYS[1] state    HASH of the monitor's state
  KEYS[2] history  STREAM of results
  KEYS[3] events   STREAM of events
  KEYS[4] monitor  STRING monitor config JSON
  ARGV[1] monitor id   ARGV[2] zone        ARGV[3] status (healthy|failed|unknown)
  ARGV[4] message      ARGV[5] latency ms ('' when none)
  ARGV[6] checkedAt ms ARGV[7] due ms

  Returns
    false when the monitor no longer exists (nothing is written), else
    { monitorJson, previousStatus ('' if none), failcount, episode, changed (0|1), stale (0|1) }
  A result older than the last one recorded (stale) goes to history only.
  failcount counts consecutive failed results; a healthy one resets it, unknown leaves it.
  episode increases whenever the status moves between healthy and failed.
]]
local monitor = redis.call('GET', KEYS[4])
if not monitor then return false end

local status, checkedAt = ARGV[3], tonumber(ARGV[6])
redis.call('XADD', KEYS[2], '*', 'monitorId', ARGV[1], 'zone', ARGV[2], 'status', status,
  'message', ARGV[4], 'latencyMs', ARGV[5], 'checkedAt', ARGV[6], 'due', ARGV[7])

local s = redis.call('HMGET', KEYS[1], 'status', 'failcount', 'episode', 'definite', 'lastCheck')
local prev, failcount, episode, definite = s[1] or '', tonumber(s[2]) or 0, tonumber(s[3]) or 0, s[4] or ''
if s[5] and tonumber(s[5]) > checkedAt then
  return { monitor, prev, failcount, episode, 0, 1 }
end

if status == 'failed' then failcount = failcount + 1 elseif status == 'healthy' then failcount = 0 end
if status ~= 'unknown' and status ~= definite then
  episode = episode + 1
  redis.call('HSET', KEYS[1], 'definite', status)
end
local changed = prev ~= status
redis.call('HSET', KEYS[1], 'status', status, 'failcount', failcount, 'episode', episode,
  'lastCheck', ARGV[6], 'latencyMs', ARGV[5], 'message', ARGV[4])
if changed then
  redis.call('HSET', KEYS[1], 'lastChange', ARGV[6], 'previousStatus', prev)
  redis.call('XADD', KEYS[3], '*', 'kind', 'status', 'monitorId', ARGV[1], 'zone', ARGV[2],
    'at', ARGV[6], 'status', status, 'previousStatus', prev, 'failcount', failcount, 'message', ARGV[4])
end
return { monitor, prev, failcount, episode, changed and 1 or 0, 0 }
