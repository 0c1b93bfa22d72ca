--[[
  historyWaiting(history, len, total): the results the history stream holds (its backlog), from the `n` of its first
  entry (results added up to and with that entry) and `total`, the `n` of its last (see recordResults-7.lua). `len`
  is the stream's length in entries. While an entry of the older one-result shapes (no `n`) leads the stream, each
  entry counts one. The same count as historyWaiting in src/core/history-entry.ts.
]]
-- Most results in one history entry (RESULTS_PER_ENTRY in src/core/result-outbox.ts).
local HISTORY_PER_ENTRY = 16

local function historyWaiting(history, len, total)
  local first = redis.call('XRANGE', history, '-', '+', 'COUNT', 1)[1]
  if not first or first[2][1] ~= 'n' then return len end
  local waiting = total - tonumber(first[2][2]) + (#first[2] - 2) / 2
  -- A count below what the entries could hold means the counter was lost apart from the stream: count entries.
  if waiting < len then return len end
  return waiting
end
