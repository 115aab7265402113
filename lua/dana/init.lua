--- dana-sandbox: run untrusted Dana (and Lua) code inside any Lua 5.4 host.
--
-- The host API. Sandboxes (tenants) and agents (one child `lua_State` each)
-- live in C (`dana.core`); this module adds the Dana pipeline on top:
-- translate in the host (cached per sandbox), boot the runtime into the
-- agent once, run the translated chunk.
--
--     local dana  = require "dana"
--     local sb    = dana.sandbox{ tenant = "acme" }
--     local agent = sb:agent{ name = "A", role = "agent" }
--     print(agent:run('x = 6 * 7\nx'))        --> 42
--
-- Expected failures return `nil, err, kind` where `err` is an error record
-- `{kind, message, file, line, col, source_line}`; programming errors raise.
-- @module dana

local core = require "dana.core"

local M = {
  core = core,
  version = core.version,
  Error = core.Error,
  is_error = core.is_error,
  error_record = core.error_record,
}

local Agent, Sandbox = core.Agent, core.Sandbox

-- Lua-side modules loaded on first use, so that a host that only runs Lua
-- (run_lua) never loads the translator.
local lazy = {
  translate = function() return require("dana.translate").translate end,
  policy = function() return require("dana.policy").new end,
  sanitize = function() return require("dana.sanitize").sanitize end,
  audit = function() return require("dana.audit") end,
}
setmetatable(M, {
  __index = function(t, k)
    local f = lazy[k]
    if not f then return nil end
    local v = f()
    rawset(t, k, v)
    return v
  end,
})

-- sandbox -> the host's extra sanitizer words and patterns (`sandbox{sanitize = {keys=, patterns=}}`)
local sanitize_opts = setmetatable({}, { __mode = "k" })

local function default_print(_, text)
  io.stdout:write(text)
end

--- Makes a sandbox (one tenant).
-- @tparam[opt] table opts `tenant`, `limits` (tenant totals), `agent_limits`
-- (defaults for its agents), `print = function(agent_name, text)` (default:
-- standard output), `system_limited = {names}` (the `system:` keys the `agent`
-- role may read), `max_depth`, `store_limit`, `policy` (a policy, a Lua table
-- or a JSON file path; default: the built-in roles), `audit` (an audit log or
-- the options of `core.audit_open`, e.g. `{path = "audit.log"}`), `approve =
-- function(request) -> false | true | {seconds=, ops=}` (escalation),
-- `llm = function(prompt, info) -> text` or `"echo"` (for `reason()`),
-- `injection = "block" | "warn"`, `sanitize = {keys = {words}, patterns = {lpeg
-- patterns}}` (extra rules for what is shared: `reason()` context,
-- `agent:sanitized()`).
-- @treturn Sandbox
function M.sandbox(opts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  if o.print == nil then o.print = default_print end
  local P = require "dana.policy"
  if o.policy == nil then
    o.policy = P.sandbox_default(o.system_limited)
  elseif not P.is_policy(o.policy) then
    local p, extras = P.load(o.policy)
    if not p then error("dana.sandbox: policy: " .. tostring(extras), 2) end
    o.policy = p
    if extras and extras.injection and o.injection == nil then o.injection = extras.injection end
    if extras and (extras.keys or extras.patterns) then
      -- the policy's sanitizer words and patterns, plus the sandbox's own
      local merged = { keys = {}, patterns = {} }
      for _, src in ipairs { extras, o.sanitize or {} } do
        for _, w in ipairs(src.keys or {}) do merged.keys[#merged.keys + 1] = w end
        for _, q in ipairs(src.patterns or {}) do merged.patterns[#merged.patterns + 1] = q end
      end
      o.sanitize = merged
    end
  end
  if type(o.audit) == "table" and getmetatable(o.audit) == nil then
    local a = {}
    for k, v in pairs(o.audit) do a[k] = v end
    a.tenant = a.tenant or o.tenant
    local log, err = core.audit_open(a)
    if not log then error("dana.sandbox: audit: " .. tostring(err), 2) end
    o.audit = log
  end
  local sb = core.sandbox(o)
  sanitize_opts[sb] = o.sanitize
  if o.llm ~= nil then
    require("dana.reason").install(sb, { llm = o.llm, injection = o.injection, audit = o.audit,
      sanitize = o.sanitize })
  end
  return sb
end

--- The agent's context, ready to share: local and public only, sanitized.
-- @function Agent:sanitized
-- @treturn table `{["local"] = {}, public = {...}}`
function Agent:sanitized()
  local ctx = M.sanitize({ ["local"] = {}, public = self:scope("public") }, sanitize_opts[self:sandbox()])
  return ctx
end

-- ---------------------------------------------------------------------------
-- Running Dana: translation cache, runtime boot.

local MAX_CACHED = 256
local caches = setmetatable({}, { __mode = "k" })  -- sandbox -> {key -> entry}

local function cache_of(sb)
  local c = caches[sb]
  if not c then
    c = { n = 0, map = {} }
    caches[sb] = c
  end
  return c
end

local function translate_cached(sb, source, name)
  local c = cache_of(sb)
  local key = name .. "\0" .. source
  local hit = c.map[key]
  if hit then return hit[1], hit[2] end
  local lua_src, info = M.translate(source, name)
  if not lua_src then return nil, info end
  if c.n >= MAX_CACHED then  -- bounded: start again rather than grow without end
    c.map, c.n = {}, 0
  end
  c.map[key] = { lua_src, info }
  c.n = c.n + 1
  return lua_src, info
end

local manifest
local function runtime_modules()
  if not manifest then
    manifest = require("dana.runtime_manifest")
    require("dana.hostvalues").install(core)  -- Dana values reach the host as plain Lua
  end
  return manifest
end

local function source_line(source, n)
  if not n or n < 1 then return nil end
  local i = 1
  for line in (source .. "\n"):gmatch("([^\n]*)\n") do
    if i == n then return line end
    i = i + 1
  end
end

-- Where a program nests deepest, for the errors of Lua's compiler, which carry no
-- position: the first bracket at the deepest level (strings and comments skipped), or,
-- when it nests little (a long operator chain), the start of its longest line.
local function deepest(source)
  local sbyte, sfind = string.byte, string.find
  local depth, best, bl, bc = 0, 0, 1, 1
  local longest, ll = -1, 1
  local line, lstart, quote = 1, 1, nil
  local i, n = 1, #source
  while i <= n do
    local c = sbyte(source, i)
    if quote then
      if c == 92 then i = i + 1 elseif c == quote then quote = nil end
    elseif c == 34 or c == 39 then quote = c
    elseif c == 35 then i = (sfind(source, "\n", i, true) or n + 1) - 1
    elseif c == 40 or c == 91 or c == 123 then
      depth = depth + 1
      if depth > best then best, bl, bc = depth, line, i - lstart + 1 end
    elseif c == 41 or c == 93 or c == 125 then depth = depth - 1
    end
    if sbyte(source, i) == 10 or i >= n then
      if i - lstart > longest then longest, ll = i - lstart, line end
      line, lstart = line + 1, i + 1
    end
    i = i + 1
  end
  if best >= 16 then return bl, bc end
  local text = source_line(source, ll) or ""
  return ll, (text:find("%S")) or 1
end

-- Lua reports lines only; for a runtime error, point at the name the message
-- quotes when the line holds it, else at the statement.
local function guess_col(line, message)
  local quoted = message and message:match("'([%w_]+)'")
  if quoted then
    local i = 1
    while true do
      local s, e = line:find(quoted, i, true)
      if not s then break end
      local before, after = line:sub(s - 1, s - 1), line:sub(e + 1, e + 1)
      if not before:match("[%w_]") and not after:match("[%w_]") then return s end
      i = e + 1
    end
  end
  return (line:find("%S")) or 1
end

--- Turns the errors of `dana.translate` (or `dana.grammar.parse`) into one error record.
-- @param errs the list of error tables (or a message) the translator returned
-- @tparam string name the file name
-- @tparam[opt] string source the Dana source, for the source line
-- @treturn table error record
function M.translation_error(errs, name, source)
  local e = errs
  if type(errs) == "table" and errs[1] then e = errs[1] end
  if type(e) ~= "table" then
    e = { kind = "SyntaxError", message = tostring(e) }
  end
  local line = tonumber(e.line)
  return core.error_record(e.kind or "SyntaxError", tostring(e.message or e.msg or "invalid syntax"),
    e.file or name, line and math.floor(line) or 0, tonumber(e.col) and math.floor(e.col) or 0,
    e.source_line or (source and source_line(source, line)))
end

--- Runs a Dana program in the agent.
-- @function Agent:run
-- @tparam string source Dana source
-- @tparam[opt="main.na"] string name file name used in error positions
-- @return[1] the program's last value, copied into the host (lists and tuples
-- as arrays, dicts as tables, None as nil)
-- @treturn[2] nil
-- @treturn[2] table error record
-- @treturn[2] string kind
function Agent:run(source, name)
  if type(source) ~= "string" then
    error("bad argument #1 to 'run' (string expected, got " .. type(source) .. ")", 2)
  end
  name = name or "main.na"
  local lua_src, info = translate_cached(self:sandbox(), source, name)
  if not lua_src then
    local rec = M.translation_error(info, name, source)
    return nil, rec, rec.kind
  end
  if not self:booted() then
    local ok, err, kind = self:boot(runtime_modules())
    if not ok then return nil, err, kind end
  end
  local value, err, kind = self:exec(lua_src, "@" .. name)
  if err then
    if kind == "SyntaxError" then
      -- the translator only emits valid Lua, so this is a limit of Lua's compiler
      -- (nesting depth, registers, locals, jump lengths) that the program exceeds
      err.message = "the program is too deeply nested or too long to compile (" .. tostring(err.message)
        .. "): reduce the nesting of brackets, calls or operator chains, or split it into functions"
      if not err.line or err.line < 1 then
        err.file, err.line, err.col = name, deepest(source)
      end
    end
    if err.file == name and err.line then
      local l = source_line(source, err.line)
      err.source_line = l and self:redact(l)
      if l and not err.col then err.col = guess_col(l, err.message) end
    end
    return nil, err, kind
  end
  return value
end

--- Translates Dana source to Lua (see `dana.translate`).
-- @function translate
-- @tparam string source
-- @tparam[opt] string name
-- @treturn[1] string Lua source, line-aligned with the Dana source
-- @treturn[2] nil
-- @treturn[2] table error record

M.Agent, M.Sandbox = Agent, Sandbox
return M
