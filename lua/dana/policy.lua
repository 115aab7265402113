--- Policies: loading (Lua tables or JSON files), deciding, explaining, escalating.
--
-- The decision core is C (`dana.core.policy_compile`, see `src/policy.c` and
-- docs/policy.md); this module loads and validates definitions and adds the
-- escalation protocol. Expected failures return `nil, message, "EPOLICY"`.
-- @module dana.policy
local core = require("dana.core")
local cjson = require("cjson.safe").new()

cjson.decode_max_depth(32)

local M = {}

--- Largest policy file read (bytes).
M.MAX_FILE = 4 * 1024 * 1024

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local data = f:read(M.MAX_FILE + 1)
  f:close()
  if data == nil then data = "" end
  if #data > M.MAX_FILE then return nil, path .. ": file too large" end
  return data
end

-- JSON null (a light userdata) means "absent" in a policy file.
local function strip_nulls(v, depth)
  if type(v) ~= "table" then return v end
  if depth > 32 then return v end
  local out = {}
  for k, x in pairs(v) do
    if x ~= cjson.null then out[k] = strip_nulls(x, depth + 1) end
  end
  return out
end

--- Decodes a JSON policy text into a definition table.
-- @tparam string text
-- @tparam[opt="policy"] string name for messages
-- @treturn[1] table definition
-- @treturn[2] nil
-- @treturn[2] string message
-- @treturn[2] string `"EPOLICY"`
function M.decode_json(text, name)
  name = name or "policy"
  local def, err = cjson.decode(text)
  if def == nil then return nil, name .. ": invalid JSON: " .. tostring(err), "EPOLICY" end
  if type(def) ~= "table" then return nil, name .. ": expected a JSON object", "EPOLICY" end
  return strip_nulls(def, 0)
end

--- Compiles a policy.
-- @tparam[opt] table|string src a definition table
--   `{roles = {name = {inherits=, allow=, deny=, replace=, description=}}, limited = {scope = {keys}},
--   escalation = {max_seconds=, max_ops=}}`, or the path of a JSON file with the same shape;
--   nil gives the built-in roles only
-- @treturn[1] userdata a `dana.Policy` with `:decide(role, op, resource[, own[, grant]])`
--   → `allowed, rule`, `:roles()`, `:role(name)`, `:settings()`, `:close()`
-- @treturn[2] nil
-- @treturn[2] string message naming the field, e.g. `roles.analyst.allow[2]: bad permission 'x'`
-- @treturn[2] string `"EPOLICY"`
-- The definition a policy source stands for: the table itself, or a JSON file's
-- contents. Returns def (nil for nil), or nil, message, "EPOLICY".
local function definition(src)
  if type(src) ~= "string" then return src end
  local text, err = read_file(src)
  if text == nil then return nil, "cannot read policy: " .. tostring(err), "EPOLICY" end
  return M.decode_json(text, src)
end

-- The policy's sanitizer additions: `sanitize = {keys = {"word", ...}, patterns = {...}}`
-- (patterns: LPeg patterns, or strings in LPeg's `re` syntax, the only form JSON can hold).
local function sanitizer_extras(s, where)
  if s == nil then return nil end
  if type(s) ~= "table" then return nil, where .. ": expected a table" end
  local out = { keys = {}, patterns = {} }
  for k in pairs(s) do
    if k ~= "keys" and k ~= "patterns" then return nil, where .. "." .. tostring(k) .. ": unknown field" end
  end
  for i, w in ipairs(s.keys or {}) do
    if type(w) ~= "string" or w == "" then return nil, ("%s.keys[%d]: expected a word"):format(where, i) end
    out.keys[i] = w
  end
  local lpeg, re = require "lpeg", require "re"
  for i, p in ipairs(s.patterns or {}) do
    if type(p) == "string" then
      local ok, compiled = pcall(re.compile, p)
      if not ok then return nil, ("%s.patterns[%d]: bad pattern: %s"):format(where, i, tostring(compiled)) end
      p = compiled
    end
    if lpeg.type(p) ~= "pattern" then return nil, ("%s.patterns[%d]: expected a pattern"):format(where, i) end
    out.patterns[i] = p
  end
  return out
end

--- The policy of a sandbox made without one: the built-in roles, with registered
-- host functions callable by `user` and `agent` (`call:*`) unless a function was
-- registered with a stricter permission.
-- @tparam[opt] table system_limited the `system:` keys the `agent` role may read
-- @treturn userdata a `dana.Policy`
function M.sandbox_default(system_limited)
  return assert(M.new {
    roles = { user = { allow = { "call:*" } }, agent = { allow = { "call:*" } } },
    limited = { system = system_limited or {} },
  })
end

--- Loads a policy and its sanitizer additions (the `sanitize` field).
-- @param src as for `new`
-- @treturn[1] userdata the policy
-- @treturn[1] table|nil `{keys=, patterns=}` for `dana.sanitize`, and `injection`
--   ("warn" or "block") for `reason()`
-- @treturn[2] nil
-- @treturn[2] string message
-- @treturn[2] string `"EPOLICY"`
function M.load(src)
  local def, derr, dcode = definition(src)
  if def == nil and derr then return nil, derr, dcode end
  local where = type(src) == "string" and src .. ": " or ""
  local extras
  if type(def) == "table" and (def.sanitize ~= nil or def.injection ~= nil) then
    local err
    if def.sanitize ~= nil then
      extras, err = sanitizer_extras(def.sanitize, "sanitize")
      if not extras then return nil, where .. err, "EPOLICY" end
    end
    if def.injection ~= nil then
      -- what reason() does when untrusted context looks like a prompt injection
      if def.injection ~= "warn" and def.injection ~= "block" then
        return nil, where .. 'injection: expected "warn" or "block"', "EPOLICY"
      end
      extras = extras or {}
      extras.injection = def.injection
    end
    local copy = {}
    for k, v in pairs(def) do if k ~= "sanitize" and k ~= "injection" then copy[k] = v end end
    def = copy
  end
  local p, err, code = M.new(def)
  if not p then return nil, where .. err, code end
  return p, extras
end

function M.new(src)
  if src ~= nil and type(src) ~= "table" and type(src) ~= "string" then
    error("bad argument #1 to 'policy' (table, file name or nil expected, got " .. type(src) .. ")", 2)
  end
  local def, derr, dcode = definition(src)
  if def == nil and derr then return nil, derr, dcode end
  local name = type(src) == "string" and src or nil
  local p, err, code = core.policy_compile(def)
  if p == nil then
    if name then err = name .. ": " .. err end
    return nil, err, code
  end
  return p
end

--- The built-in roles only (`user`, `agent`, `admin`).
-- @treturn userdata a `dana.Policy`
function M.default()
  return assert(core.policy_compile())
end

--- Is this a `dana.Policy`?
function M.is_policy(v)
  local mt = getmetatable(v)
  return type(v) == "userdata" and type(mt) == "table" and mt.__name == "dana.Policy"
end

--- One line explaining a decision: `"allow: agent allow public:*"`.
-- @tparam userdata p policy
-- @tparam string role
-- @tparam string op
-- @tparam string resource
-- @tparam[opt] boolean own
-- @treturn string
-- @treturn boolean allowed
function M.explain(p, role, op, resource, own)
  local ok, rule = p:decide(role, op, resource, own)
  return (ok and "allow" or "deny") .. ": " .. rule, ok
end

--- Creates an approved escalation grant (see `escalate` for the full protocol).
-- @tparam userdata p policy
-- @tparam string role role granted
-- @tparam[opt] table opts `{seconds=, ops=}`; both are clamped to the policy's caps
-- @treturn[1] userdata a `dana.Grant`
-- @treturn[2] nil
-- @treturn[2] string
-- @treturn[2] string `"EPOLICY"`
function M.grant(p, role, opts)
  opts = opts or {}
  local caps = p:settings().escalation
  local seconds = opts.seconds or caps.max_seconds
  local ops = opts.ops or caps.max_ops
  if type(seconds) ~= "number" or seconds <= 0 then return nil, "escalation: seconds must be positive", "EPOLICY" end
  if math.type(ops) ~= "integer" or ops < 1 then return nil, "escalation: ops must be a positive integer", "EPOLICY" end
  return core.policy_grant(p, role, core.policy_now() + seconds, ops)
end

local function audit_step(audit, req, decision, detail)
  if audit == nil then return true end
  return audit:record {
    op = "escalate", resource = "role:" .. tostring(req.to), decision = decision,
    tenant = req.tenant, agent = req.agent, user = req.user, session = req.session,
    role = req.role, detail = detail,
  }
end

--- The escalation protocol: code asks, only the host's approval callback grants.
-- Every step (request, grant or refusal) is audited when `audit` is given; if
-- the request cannot be recorded, escalation is refused (fail closed).
-- @tparam table req `{policy=, role=, to=, reason=, approve=, audit=, agent=, tenant=, user=, session=}`;
--   `approve(request)` returns `true`, `false[, why]` or `{seconds=, ops=}`
-- @treturn[1] userdata a `dana.Grant`
-- @treturn[2] nil
-- @treturn[2] string why it was refused
-- @treturn[2] string `"EPERM"` (refused) or `"EPOLICY"` / `"EAUDIT"`
function M.escalate(req)
  local p = req.policy
  if not M.is_policy(p) then error("escalate: req.policy must be a dana.Policy", 2) end
  if type(req.to) ~= "string" then error("escalate: req.to must be a role name", 2) end
  local reason = tostring(req.reason or "")
  local ok, aerr = audit_step(req.audit, req, "request", reason)
  if not ok then return nil, aerr, "EAUDIT" end
  local function refuse(why)
    local rok, rerr = audit_step(req.audit, req, "deny", why)
    if not rok then return nil, rerr, "EAUDIT" end
    return nil, why, "EPERM"
  end
  if type(req.approve) ~= "function" then return refuse("escalation denied: no approval callback") end
  local request = { role = req.role, to = req.to, reason = reason, agent = req.agent,
                    tenant = req.tenant, user = req.user, session = req.session }
  local pok, answer, why = pcall(req.approve, request)
  if not pok then return refuse("escalation denied: approval callback failed") end
  if answer ~= true and type(answer) ~= "table" then
    return refuse("escalation denied" .. (why and (": " .. tostring(why)) or ""))
  end
  local g, gerr = M.grant(p, req.to, type(answer) == "table" and answer or nil)
  if g == nil then return refuse(gerr) end
  local info = g:info()
  local gok, gaerr = audit_step(req.audit, req, "grant",
    string.format("until %.3f, %d ops", info.until_time, info.ops_left))
  if not gok then
    g:revoke()
    return nil, gaerr, "EAUDIT"
  end
  return g
end

return setmetatable(M, { __call = function(_, src) return M.new(src) end })
