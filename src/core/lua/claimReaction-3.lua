--[[
  Decides whether one reaction runs now for one monitor, and claims the run when it does, so that frequency,
  once-per-episode and budgets hold however many sinks see the result. Checked in this order: once, frequency
  (a refusal is `skipped`: the reaction's own rules), the reaction's budget, the target's budget (`held`: a bound).

  KEYS[1] reaction state HASH for this monitor and reaction: lastrun (ms), lastEpisode, runs (the run times within
          the budget window, ms, newest first, separated by spaces)
  KEYS[2] target runs ZSET: member "<monitorId>|<reactionId>|<ms>", score the run's time (ms); only with ARGV[7]
  KEYS[3] targets HASH target name -> "<most runs> <window ms>" (`cloudroutes target set`, carried by the bridge)
  ARGV[1] now (ms), or '' for Redis's clock (TIME), so the sinks' own clocks do not bend frequency or budgets
  ARGV[2] frequency (ms)   ARGV[3] once (1|0)   ARGV[4] episode
  ARGV[5] budget's most runs ('' for none)   ARGV[6] budget window (ms)
  ARGV[7] target name ('' for none)   ARGV[8] a target's budget when KEYS[3] has none: "<most runs> <window ms>"
  ARGV[9] this pair's member prefix in the target's runs ("<monitorId>|<reactionId>")

  Returns { 'run', now, target budget used ('' without a target) } when claimed, or { reason } when not: once |
  frequency | budget; or { 'target-budget', now, the target budget that is spent }.
]]
local state, targetRuns, targets = KEYS[1], KEYS[2], KEYS[3]
local s = redis.call('HMGET', state, 'lastrun', 'lastEpisode', 'runs')
local function redisNow()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local now = ARGV[1] == '' and redisNow() or tonumber(ARGV[1])
local episode = ARGV[4]
local function refuse(reason) return { reason } end

if ARGV[3] == '1' and s[2] == episode then return refuse('once') end
if s[1] and now - tonumber(s[1]) < tonumber(ARGV[2]) then return refuse('frequency') end

-- The runs still inside the window, newest first.
local kept = {}
if ARGV[5] ~= '' and s[3] then
  local from = now - tonumber(ARGV[6])
  for t in string.gmatch(s[3], '%d+') do
    if tonumber(t) > from then kept[#kept + 1] = t end
  end
  if #kept >= tonumber(ARGV[5]) then return refuse('budget') end
end

local nowS = string.format('%d', now)
local budget = ''
if ARGV[7] ~= '' then
  budget = redis.call('HGET', targets, ARGV[7]) or ARGV[8]
  local most, window = string.match(budget, '^(%d+) (%d+)$')
  most, window = tonumber(most), tonumber(window)
  redis.call('ZREMRANGEBYSCORE', targetRuns, '-inf', now - window)
  if redis.call('ZCARD', targetRuns) >= most then return { 'target-budget', now, budget } end
  redis.call('ZADD', targetRuns, nowS, ARGV[9] .. '|' .. nowS)
  redis.call('PEXPIRE', targetRuns, window)
end

local fields = { 'lastrun', nowS, 'lastEpisode', episode }
if ARGV[5] ~= '' then
  fields[#fields + 1] = 'runs'
  table.insert(kept, 1, nowS)
  fields[#fields + 1] = table.concat(kept, ' ')
end
redis.call('HSET', state, unpack(fields))
return { 'run', now, budget }
