--[[
  Puts this zone's last known result of a monitor, as the store of record has it, into its state
  hash when Redis has none or an older one (after Redis lost its data): the newer copy wins, so a
  fail count is never taken back.

  KEYS[1] state HASH of the monitor's state
  ARGV[1] status   ARGV[2] failcount   ARGV[3] checkedAt ms

  Returns 1 when the state was written, 0 when Redis had the same or a newer result.
]]
local last = tonumber(redis.call('HGET', KEYS[1], 'lastCheck') or '0')
if last >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'zoneStatus', ARGV[1], 'failcount', ARGV[2], 'zoneFailcount', ARGV[2],
  'lastCheck', ARGV[3], 'definite', ARGV[1] == 'unknown' and '' or ARGV[1])
return 1
