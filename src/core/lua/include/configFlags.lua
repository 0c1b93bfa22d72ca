--[[
  configFlags(json): what recording a result needs of a monitor's config, kept in its state hash (field
  `configFlags`) by applyMonitor so that recordResults reads it with the state instead of the whole config:
  'r' when the monitor names reactions, then 'q<quorum>:<interval s>' when its quorum is above 1; '' for neither
  (most monitors). A config that is not JSON gives ''.
]]
local function configFlags(json)
  local ok, config = pcall(cjson.decode, json)
  if not ok or type(config) ~= 'table' then return '' end
  local flags = ''
  if type(config.reactions) == 'table' and #config.reactions > 0 then flags = 'r' end
  if type(config.quorum) == 'number' and config.quorum > 1 then
    flags = flags .. 'q' .. config.quorum .. ':' .. (tonumber(config.interval) or 60)
  end
  return flags
end
