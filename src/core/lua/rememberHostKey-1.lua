--[[
  Trust on first use of an SSH host key, in one step: records the key met for host:port unless one is
  recorded, and returns the recorded one, so no key is trusted that is not the one in the hash.

  KEYS[1] the zone's known-hosts HASH, field host:port (host name lower case), value "SHA256:..."
  ARGV[1] host:port, normalised   ARGV[2] the fingerprint of the key met
  ARGV[3] host:port as the caller spelled it

  Earlier versions kept host names as spelled: a key recorded under ARGV[3] or under another case of
  ARGV[1] is the recorded one, and moves to ARGV[1]. Looking for one scans the hash, but only for a host
  not recorded yet.

  Returns { recorded fingerprint, 1 when it was just recorded else 0 }.
]]
local recorded = redis.call('HGET', KEYS[1], ARGV[1])
if recorded then return { recorded, 0 } end
local legacy
if redis.call('HEXISTS', KEYS[1], ARGV[3]) == 1 then
  legacy = ARGV[3]
else
  for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
    if string.lower(field) == ARGV[1] then
      legacy = field
      break
    end
  end
end
if legacy then
  recorded = redis.call('HGET', KEYS[1], legacy)
  redis.call('HSET', KEYS[1], ARGV[1], recorded)
  redis.call('HDEL', KEYS[1], legacy)
  return { recorded, 0 }
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return { ARGV[2], 1 }
