--- dana.hostvalues (host side): how Dana runtime values decode in the host.
-- `install(core)` registers a decoder per runtime type tag with
-- `core.set_host_decoder(tag, fn)`; fn receives the raw contents of the value
-- (nested values already decoded) and returns the plain Lua value:
-- list/tuple/set/range/dict views -> array, dict -> table, struct -> table of its
-- fields, exception -> {kind=, message=}, None -> nil.
-- @module dana.hostvalues
local M = {}

local function seq(raw)
  local t = {}
  for i = 1, raw.n or 0 do t[i] = raw[i] end
  return t
end

local function dict(raw)
  local t = {}
  local ks, vs = raw.k or {}, raw.v or {}
  for i = 1, raw.n or 0 do
    local k = ks[i]
    if k ~= nil then t[k] = vs[i] end
  end
  return t
end

local function set(raw)
  local t = {}
  local ks = raw.k or {}
  for i = 1, raw.n or 0 do t[i] = ks[i] end
  return t
end

local function struct(raw)
  local t = {}
  for k, v in pairs(raw) do
    if type(k) == "string" and k:sub(1, 2) ~= "__" then t[k] = v end
  end
  return t
end

local function range(raw)
  local t = {}
  local a, b, s = raw.start, raw.stop, raw.step
  if type(a) == "number" and type(b) == "number" and type(s) == "number" and s ~= 0 then
    local n = 0
    local v = a
    while (s > 0 and v < b) or (s < 0 and v > b) do
      n = n + 1
      if n > 10000000 then break end
      t[n] = v
      v = v + s
    end
  end
  return t
end

M.decoders = {
  ["dana.list"] = seq, ["dana.tuple"] = seq, ["dana.dict_keys"] = seq,
  ["dana.dict_values"] = seq, ["dana.dict_items"] = seq,
  ["dana.dict"] = dict, ["dana.set"] = set, ["dana.struct"] = struct, ["dana.range"] = range,
  ["dana.exception"] = function(raw) return { kind = raw.kind, message = raw.message } end,
  ["dana.none"] = function() return nil end,
  ["dana.fnref"] = function() return nil end,
}

--- Registers the decoders with the C core.
function M.install(core)
  if not (core and core.set_host_decoder) then return false end
  for tag, fn in pairs(M.decoders) do core.set_host_decoder(tag, fn) end
  return true
end

return M
