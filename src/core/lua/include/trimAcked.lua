--[[
  trimAcked(stream): removes the entries of `stream` that every consumer group is done with: those before the oldest
  entry a group still holds pending, or, for a group with nothing pending, before the first it has not been given yet.
  Removing them from the front frees whole stream nodes at once, where XDEL of each acknowledged entry rewrites its
  node once per entry. Returns how many entries went (0 when the stream has no group).
]]
local function streamIdBefore(a, b)
  local ams, aseq = string.match(a, '^(%d+)-(%d+)$')
  local bms, bseq = string.match(b, '^(%d+)-(%d+)$')
  ams, bms = tonumber(ams), tonumber(bms)
  return ams < bms or (ams == bms and tonumber(aseq) < tonumber(bseq))
end

local function trimAcked(stream)
  local keep
  for _, group in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
    local info = {}
    for i = 1, #group, 2 do info[group[i]] = group[i + 1] end
    local needed
    if tonumber(info['pending']) > 0 then
      needed = redis.call('XPENDING', stream, info['name'])[2]
    else
      local ms, seq = string.match(info['last-delivered-id'], '^(%d+)-(%d+)$')
      needed = ms .. '-' .. (tonumber(seq) + 1)
    end
    if not keep or streamIdBefore(needed, keep) then keep = needed end
  end
  if not keep then return 0 end
  return redis.call('XTRIM', stream, 'MINID', keep)
end
