--- A stand-in for the C core, for testing the translator and the runtime in
-- plain Lua: loads the runtime manifest into a fresh env (with `dana.get/set`
-- simulated by a table that copies values, and `dana_internal` stubs), and runs
-- translated chunks in the Dana env it returns.
local P = {}

local function deepcopy(v, seen)
  if type(v) ~= "table" then
    if type(v) == "function" then error({ kind = "TypeError", message = "cannot copy a function" }, 0) end
    return v
  end
  seen = seen or {}
  if seen[v] then error({ kind = "ValueError", message = "cycle" }, 0) end
  seen[v] = true
  local r = {}
  for k, x in next, v do r[deepcopy(k, seen)] = deepcopy(x, seen) end
  seen[v] = nil
  local mt = debug.getmetatable(v)
  if mt then setmetatable(r, mt) end
  return r
end

--- A new simulated agent: { env = Dana env, out = {texts}, store = {key -> value} }.
function P.new(opts)
  opts = opts or {}
  local A = { out = {}, store = opts.store or {} }
  local registered = {}
  local dana = {
    get = function(key)
      if opts.deny_read and opts.deny_read(key) then
        error({ kind = "PermissionError", message = "read of " .. key .. " denied" }, 0)
      end
      local v = A.store[key]
      if v == nil then return nil end
      return deepcopy(v)
    end,
    set = function(key, v)
      if opts.deny_write and opts.deny_write(key) then
        error({ kind = "PermissionError", message = "write of " .. key .. " denied" }, 0)
      end
      A.store[key] = deepcopy(v)
    end,
    delete = function(key) A.store[key] = nil end,
    agent = "A", tenant = "t", role = "agent",
  }
  local dana_internal = {
    register_type = function(name, mt) registered[name] = mt end,
    output = function(text) A.out[#A.out + 1] = text end,
    raise = function(kind, message) error({ kind = kind, message = message }, 2) end,
  }
  local base = {
    assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs, pcall = pcall,
    xpcall = xpcall, print = print, rawequal = rawequal, rawget = rawget, rawlen = rawlen,
    rawset = rawset, select = select, setmetatable = setmetatable, getmetatable = getmetatable,
    tonumber = tonumber, tostring = tostring, type = type, _VERSION = _VERSION,
    string = string, table = table, math = math, utf8 = utf8, coroutine = coroutine,
    dana = dana, dana_internal = dana_internal,
  }
  local loaded = {}
  base.require = function(name)
    local m = loaded[name]
    if m == nil then error("module '" .. name .. "' not found (runtime)", 2) end
    return m
  end
  local manifest = dofile(assert(package.searchpath("dana.runtime_manifest", package.path)))
  local last
  for _, mod in ipairs(manifest) do
    local f = assert(load(mod.source, "=" .. mod.name, "t", base))
    last = f()
    loaded[mod.name] = last == nil and true or last
  end
  A.env = last
  A.registered = registered
  return A
end

local function errline(e)
  if type(e) == "table" then return e end
  local msg = tostring(e)
  local file, line, rest = msg:match("^([^:\n]*):(%d+): (.*)$")
  local kind = "RuntimeError"
  if rest then
    if rest:find("attempt to ", 1, true) then kind = "TypeError" end
    if rest:find("stack overflow", 1, true) then kind = "RecursionError" end
  end
  return { kind = kind, message = rest or msg, file = file, line = tonumber(line), raw = msg }
end

--- Translates and runs Dana source. Returns value, err (err = {kind, message, line, ...}).
function P.run(A, src, name)
  name = name or "test.na"
  local translate = require("dana.translate")
  local lua_src, errs = translate.translate(src, name)
  if not lua_src then
    local e = errs[1] or errs
    return nil, { kind = e.kind or "SyntaxError", message = e.msg or e.message, line = e.line,
      col = e.col }
  end
  local f, lerr = load(lua_src, "@" .. name, "t", A.env)
  if not f then return nil, { kind = "InternalError", message = lerr, lua = lua_src } end
  local ok, v = xpcall(f, function(e)
    if type(e) == "table" and e.line == nil then
      -- like the C core: position from the innermost Dana frame
      for lvl = 2, 60 do
        local info = debug.getinfo(lvl, "Sl")
        if not info then break end
        if info.source == "@" .. name then
          e.file, e.line = name, info.currentline
          break
        end
      end
    end
    return e
  end)
  if not ok then return nil, errline(v) end
  return v
end

--- Runs and returns value, err, printed text.
function P.exec(src, opts)
  local A = P.new(opts)
  local v, err = P.run(A, src, opts and opts.file)
  return v, err, table.concat(A.out), A
end

return P
