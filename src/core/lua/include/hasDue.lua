-- hasDue(list, due): whether `due` is one of `list`, a state's recentDues (space-separated dues, newest first).
local function hasDue(list, due)
  local from = 1
  while true do
    local i, j = string.find(list, due, from, true)
    if not i then return false end
    if (i == 1 or string.byte(list, i - 1) == 32) and (j == #list or string.byte(list, j + 1) == 32) then return true end
    from = i + 1
  end
end
