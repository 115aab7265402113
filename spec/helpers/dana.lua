-- Harness for the Dana behaviour specs.
--
-- Each spec is DATA, checked against the host API (`require "dana"`):
--
--   { name = "...", src = [[ ...dana... ]],
--     out   = "exact printed text",          -- everything print/log sent to the sink
--     has   = { "substring", ... },          -- substrings the printed text must contain
--     lacks = { "substring", ... },          -- substrings it must not contain
--     value = <lua value>,                   -- the run's last value (host-decoded), assert.same
--     value_nil = true,                      -- the last value must be nil (None)
--     err   = { kind = "K" or {"K1","K2"}, msg = "substring" or {...}, line = N, col = N },
--     role  = "agent", file = "test.na",
--     setup = function(sb, agent) end,       -- before the run (host-side scope writes...)
--     check = function(r, sb, agent) end,    -- extra checks; r = {value=, err=, out=}
--   }
--
-- Sources are de-indented (common leading whitespace removed), so they can be written
-- indented inside the Lua table; a leading newline is dropped by Lua's long brackets.
-- Every case runs in a fresh sandbox and a fresh agent, so no state leaks between specs.
local H = {}
local assert = require("luassert")

local function load_dana()
  -- Loaded lazily, so that a missing implementation makes every case fail with the
  -- require error rather than breaking the spec file itself.
  return require("dana")
end

--- Remove the common indentation of the non-blank lines, and trailing blank space.
function H.dedent(s)
  local min
  for line in (s .. "\n"):gmatch("(.-)\n") do
    if line:match("%S") then
      local ind = #line:match("^[ ]*")
      if not min or ind < min then min = ind end
    end
  end
  min = min or 0
  local lines = {}
  for line in (s .. "\n"):gmatch("(.-)\n") do
    lines[#lines + 1] = line:sub(min + 1)
  end
  -- drop trailing blank lines (the line holding the closing `]]`)
  while #lines > 0 and not lines[#lines]:match("%S") do lines[#lines] = nil end
  return table.concat(lines, "\n") .. "\n"
end

--- A fresh sandbox with a print sink, and a fresh agent.
-- @return sb, agent, out (array of text chunks)
function H.new(opts)
  opts = opts or {}
  local dana = load_dana()
  local out = {}
  local sb = dana.sandbox {
    tenant = opts.tenant or "spec",
    print = function(_, text) out[#out + 1] = text end,
  }
  local agent = sb:agent { name = opts.agent or "A", role = opts.role or "agent" }
  return sb, agent, out
end

--- Run a Dana source in a fresh agent.
-- @return r = { value, err, out }, sb, agent
function H.run(src, opts)
  opts = opts or {}
  local sb, agent, out = H.new(opts)
  if opts.setup then opts.setup(sb, agent) end
  local code = opts.raw and src or H.dedent(src)
  local ok, value, err = pcall(agent.run, agent, code, opts.file or "test.na")
  if not ok then
    error("agent:run raised instead of returning nil, err: " .. tostring(value), 2)
  end
  return { value = value, err = err, out = table.concat(out), src = code }, sb, agent
end

local function errtext(e)
  if type(e) ~= "table" then return tostring(e) end
  local ok, s = pcall(tostring, e)
  if ok and s and not s:match("^table: ") then return s end
  return string.format("%s:%s:%s: %s: %s", tostring(e.file), tostring(e.line),
    tostring(e.col), tostring(e.kind), tostring(e.message))
end
H.errtext = errtext

local function oneof(v, want)
  if type(want) ~= "table" then return v == want end
  for _, w in ipairs(want) do if v == w then return true end end
  return false
end

local function show(want)
  if type(want) ~= "table" then return tostring(want) end
  local t = {}
  for i, w in ipairs(want) do t[i] = tostring(w) end
  return "one of {" .. table.concat(t, ", ") .. "}"
end

--- Check one case (see the top of this file).
function H.check(case)
  local r, sb, agent = H.run(case.src, case)
  local ctx = "\n--- source:\n" .. r.src .. "--- printed:\n" .. r.out .. "\n---"
  if case.err then
    local e = r.err
    assert(e ~= nil, "expected an error " .. show(case.err.kind) .. ", got value "
      .. tostring(r.value) .. ctx)
    assert(type(e) == "table", "error is not a record: " .. tostring(e) .. ctx)
    if case.err.kind then
      assert(oneof(e.kind, case.err.kind), "expected kind " .. show(case.err.kind)
        .. ", got " .. errtext(e) .. ctx)
    end
    local msgs = case.err.msg
    if type(msgs) == "string" then msgs = { msgs } end
    for _, m in ipairs(msgs or {}) do
      assert(type(e.message) == "string" and e.message:find(m, 1, true),
        "expected message containing '" .. m .. "', got " .. errtext(e) .. ctx)
    end
    if case.err.line then
      assert(e.line == case.err.line, "expected line " .. case.err.line .. ", got "
        .. errtext(e) .. ctx)
    end
    if case.err.col then
      assert(oneof(e.col, case.err.col), "expected col " .. show(case.err.col) .. ", got "
        .. errtext(e) .. ctx)
    end
    if case.err.file then
      assert(e.file == case.err.file, "expected file " .. case.err.file .. ", got "
        .. errtext(e) .. ctx)
    end
  else
    assert(r.err == nil, "unexpected error: " .. errtext(r.err) .. ctx)
  end
  if case.out ~= nil then
    assert(r.out == case.out, "printed output differs\n--- expected:\n" .. case.out
      .. "\n--- got:\n" .. r.out .. "\n--- source:\n" .. r.src)
  end
  for _, s in ipairs(case.has or {}) do
    assert(r.out:find(s, 1, true), "output lacks '" .. s .. "'" .. ctx)
  end
  for _, s in ipairs(case.lacks or {}) do
    assert(not r.out:find(s, 1, true), "output contains '" .. s .. "'" .. ctx)
  end
  if case.value ~= nil then
    assert.same(case.value, r.value)
  end
  if case.value_nil then
    assert(r.value == nil, "expected nil (None) as the value, got " .. tostring(r.value) .. ctx)
  end
  if case.check then case.check(r, sb, agent) end
end

--- Register every case of a list as a busted `it` (inside a `describe`).
function H.cases(list)
  -- a required module does not see the spec file's busted globals
  local busted = require("busted")
  local it, pending = busted.it, busted.pending
  for i, case in ipairs(list) do
    local name = case.name or ("case " .. i)
    if case.pending then
      pending(name .. " (" .. tostring(case.pending) .. ")")
    else
      it(name, function() H.check(case) end)
    end
  end
end

return H
