--[[
  Records that one process of a zone is alive, on the Redis clock (one clock for every process and reader).

  KEYS[1] HASH of the zone's processes: id -> JSON {kind, id, host, pid, version, started, intervalMs, concurrency?}
  KEYS[2] ZSET of the zone's processes: id -> last heartbeat (ms, Redis time)
  ARGV[1] id (host:pid:start)
  ARGV[2] the entry as JSON, without `started`
  ARGV[3] entries not seen for this long are removed (ms)
  ARGV[4] 1 on a process's first heartbeat: gone entries of its kind on its host are removed, as it takes their place
  ARGV[5] missed heartbeats after which an entry counts as gone

  `started` is the Redis time of the first heartbeat, kept by later ones. Returns the Redis time (ms).
]]
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local id = ARGV[1]
local entry = cjson.decode(ARGV[2])

local old = redis.call('HGET', KEYS[1], id)
entry.started = old and cjson.decode(old).started or now

if ARGV[4] == '1' then
  local missed = tonumber(ARGV[5])
  local all = redis.call('HGETALL', KEYS[1])
  for i = 1, #all, 2 do
    local other = cjson.decode(all[i + 1])
    if all[i] ~= id and other.kind == entry.kind and other.host == entry.host then
      local seen = tonumber(redis.call('ZSCORE', KEYS[2], all[i]) or 0)
      if now - seen > missed * tonumber(other.intervalMs or 0) then
        redis.call('HDEL', KEYS[1], all[i])
        redis.call('ZREM', KEYS[2], all[i])
      end
    end
  end
end

redis.call('HSET', KEYS[1], id, cjson.encode(entry))
redis.call('ZADD', KEYS[2], now, id)

local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[3]))
for _, gone in ipairs(stale) do
  redis.call('HDEL', KEYS[1], gone)
  redis.call('ZREM', KEYS[2], gone)
end
return now
