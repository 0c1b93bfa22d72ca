--[[
  Puts a told monitor's signal, received in another zone and copied through the store of record,
  into this zone's Redis when Redis has none or an older one (by `at`): a ping this zone's web
  process received meanwhile is never taken back.

  KEYS[1] signal STRING of the monitor (JSON {at, status, message?})
  ARGV[1] the signal's JSON   ARGV[2] its `at` (epoch ms)   ARGV[3] TTL in seconds

  Returns 1 when the signal was written, 0 when Redis had the same or a newer one.
]]
local current = redis.call('GET', KEYS[1])
if current then
  local ok, decoded = pcall(cjson.decode, current)
  if ok and type(decoded) == 'table' and tonumber(decoded.at) and tonumber(decoded.at) >= tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
