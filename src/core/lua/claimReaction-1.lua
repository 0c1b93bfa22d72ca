--[[
  Claims the right to run one reaction for one monitor now, so that frequency and once-per-episode
  hold however many sinks see the result.

  KEYS[1] reaction state HASH (lastrun ms, lastEpisode) for this monitor and reaction
  ARGV[1] now (ms), or '' for Redis's clock (TIME), so the sinks' own clocks do not bend the frequency   ARGV[2] frequency (ms)   ARGV[3] once (1|0)   ARGV[4] episode

  Returns the time of the run (ms, > 0) when claimed (lastrun is set to it), 0 when the rules say not now.
]]
local s = redis.call('HMGET', KEYS[1], 'lastrun', 'lastEpisode')
local function redisNow()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local now = ARGV[1] == '' and redisNow() or tonumber(ARGV[1])
if ARGV[3] == '1' and s[2] == ARGV[4] then return 0 end
if s[1] and now - tonumber(s[1]) < tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'lastrun', now, 'lastEpisode', ARGV[4])
return now
