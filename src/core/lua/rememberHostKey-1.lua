--[[
  Trust on first use of an SSH host key, in one step: records the key met for host:port unless one is
  recorded, and returns the recorded one, so no key is trusted that is not the one in the hash.

  KEYS[1] the zone's known-hosts HASH, field host:port, value "SHA256:..."
  ARGV[1] host:port   ARGV[2] the fingerprint of the key met

  Returns { recorded fingerprint, 1 when it was just recorded else 0 }.
]]
local recorded = redis.call('HGET', KEYS[1], ARGV[1])
if recorded then return { recorded, 0 } end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return { ARGV[2], 1 }
