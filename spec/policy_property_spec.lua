-- Property test: the C decision core against a plain-Lua reference evaluator,
-- over thousands of random policies, roles, operations and resources.
-- Seeded (DANA_SEED=n to replay); the seed is printed in every failure.
local core = require("dana.core")

local SEED = tonumber(os.getenv("DANA_SEED") or "") or 20261204
local POLICIES = tonumber(os.getenv("DANA_POLICIES") or "") or 300
local QUERIES = 60

---------------------------------------------------------------- reference

local DATA_SCOPES = { ["local"] = true, public = true, private = true, system = true }
local ALL_SCOPES = { ["local"] = true, public = true, private = true, system = true, call = true, import = true }
local DATA_OPS = { read = true, write = true, delete = true }
local OPS = { read = true, write = true, delete = true, call = true, import = true }
local BUILTIN = {
  user = { "local:*", "public:read", "private:own", "call:log" },
  agent = { "local:*", "public:*", "private:own", "system:read:limited", "call:log" },
  admin = { "*:*" },
}
local BUILTIN_ORDER = { "user", "agent", "admin" }

-- '*' matches any run of bytes, written the slow obvious way.
local function glob(pat, s)
  local function m(pi, si)
    if pi > #pat then return si > #s end
    local c = pat:sub(pi, pi)
    if c == "*" then
      for k = si, #s + 1 do if m(pi + 1, k) then return true end end
      return false
    end
    return si <= #s and s:sub(si, si) == c and m(pi + 1, si + 1)
  end
  return m(1, 1)
end

local function split(s)
  local parts = {}
  for p in (s .. ":"):gmatch("([^:]*):") do parts[#parts + 1] = p end
  return parts
end

-- Does permission string perm grant (scope, op, key, own)?
local function perm_matches(perm, limited, scope, op, key, own)
  local a, b, c = table.unpack(split(perm))
  if a == "call" or a == "import" then
    return scope == a and op == a and (b == "*" or glob(b, key))
  end
  if a ~= "*" and a ~= scope then return false end
  if b == "own" then return own end
  if b == "*" then
    if a ~= "*" and not DATA_OPS[op] then return false end
  elseif b ~= op then
    return false
  end
  if c == nil or c == "*" then return true end
  if c == "own" then return own end
  if c == "limited" then
    for _, k in ipairs(limited[scope] or {}) do if k == key then return true end end
    return false
  end
  return glob(c, key)
end

-- Splits a resource like the documented forms; nil when malformed.
local function parse_resource(op, res)
  if res:find("%c") then return nil end              -- NUL, newlines, escapes, DEL
  local i = res:find("[:.]")
  local pre = i and res:sub(1, i - 1)
  local sep = i and res:sub(i, i)
  local scope = pre and ALL_SCOPES[pre] and pre or nil
  local key
  if op == "call" or op == "import" then
    if scope == op and sep == ":" then key = res:sub(i + 1)
    elseif scope == nil or sep == "." then
      if scope ~= nil and scope ~= op then return nil end
      key = res
    else
      return nil
    end
    if key == "" then return nil end
    return op, key
  end
  if scope == nil then
    if sep == ":" then return nil end
    scope, key = "local", res
  else
    if not DATA_SCOPES[scope] then return nil end
    key = res:sub(i + 1)
  end
  if key == "" then return nil end
  return scope, key
end

-- Builds the reference model of a definition.
local function reference(def)
  local roles = {}
  local limited = def.limited or { system = { "execution_status" } }
  for _, name in ipairs(BUILTIN_ORDER) do
    roles[name] = { decls = {}, inherits = {} }
    for _, perm in ipairs(BUILTIN[name]) do
      table.insert(roles[name].decls, { perm = perm, deny = false, role = name })
    end
  end
  for name, r in pairs(def.roles or {}) do
    local R = roles[name] or { decls = {}, inherits = {} }
    roles[name] = R
    if r.replace then R.decls = {} end
    for _, perm in ipairs(r.deny or {}) do table.insert(R.decls, { perm = perm, deny = true, role = name }) end
    for _, perm in ipairs(r.allow or {}) do table.insert(R.decls, { perm = perm, deny = false, role = name }) end
    R.inherits = r.inherits or {}
  end
  local model = {}
  function model.decide(role, op, res, own)
    if role:find("\0", 1, true) or roles[role] == nil then
      if not OPS[op] then return false, "unknown op" end
      if not parse_resource(op, res) then return false, "invalid resource" end
      return false, "unknown role"
    end
    if not OPS[op] then return false, "unknown op" end
    local scope, key = parse_resource(op, res)
    if not scope then return false, "invalid resource" end
    own = own and scope == "private"
    -- the role's rules after inheritance: own first, then inherited, depth-first, once each
    local flat, seen = {}, {}
    local function visit(name)
      if seen[name] then return end
      seen[name] = true
      for _, d in ipairs(roles[name].decls) do flat[#flat + 1] = d end
      for _, inh in ipairs(roles[name].inherits) do visit(inh) end
    end
    visit(role)
    local function text(d)
      local who = d.role == role and role or (role .. " via " .. d.role)
      return who .. (d.deny and " deny " or " allow ") .. d.perm
    end
    for _, d in ipairs(flat) do
      if d.deny and perm_matches(d.perm, limited, scope, op, key, own) then return false, text(d) end
    end
    for _, d in ipairs(flat) do
      if not d.deny and perm_matches(d.perm, limited, scope, op, key, own) then return true, text(d) end
    end
    return false, "default deny"
  end
  return model
end

---------------------------------------------------------------- generators

local KEYS = { "a", "b", "key1", "key2", "ka", "execution_status", "api_key", "x.y", "ab", "ba" }
local NAMES = { "reason", "search", "search_web", "log", "pkg.util", "pkg", "stats" }

local function pick(t) return t[math.random(#t)] end

local function random_perm()
  local r = math.random(10)
  if r == 1 then return "call:" .. pick { "*", "reason", "search*", "*web", "s*a*", "pkg.*" } end
  if r == 2 then return "import:" .. pick { "*", "pkg", "pkg.*", "stats", "*.util" } end
  local scope = pick { "local", "public", "private", "system", "*" }
  local ops = { "read", "write", "delete", "*" }
  if scope == "private" or scope == "*" then ops[#ops + 1] = "own" end
  local op = pick(ops)
  if op == "own" or math.random(2) == 1 then return scope .. ":" .. op end
  local quals = { "limited", "*", "k*", "*a", "key1", "a*b", "*_*" }
  if scope == "private" or scope == "*" then quals[#quals + 1] = "own" end
  return scope .. ":" .. op .. ":" .. pick(quals)
end

local function random_list(n)
  local t = {}
  for i = 1, math.random(0, n) do t[i] = random_perm() end
  return t
end

local function random_def()
  local def = { roles = {} }
  local names = {}
  local nroles = math.random(1, 7)
  for i = 1, nroles do
    local name = "r" .. i
    local inh = {}
    local pool = { "user", "agent", "admin" }
    for j = 1, i - 1 do pool[#pool + 1] = "r" .. j end
    for _ = 1, math.random(0, 3) do
      local c = pick(pool)
      if math.random(4) > 1 or c ~= "admin" then inh[#inh + 1] = c end
    end
    def.roles[name] = { inherits = inh, allow = random_list(4), deny = random_list(2) }
    names[#names + 1] = name
  end
  for _, b in ipairs(BUILTIN_ORDER) do
    if math.random(4) == 1 then
      def.roles[b] = { allow = random_list(2), deny = random_list(2), replace = math.random(3) == 1 }
    end
  end
  if math.random(3) > 1 then
    def.limited = {}
    for _, s in ipairs { "system", "public", "private", "local" } do
      if math.random(2) == 1 then
        local l = {}
        for i = 1, math.random(0, 3) do l[i] = pick(KEYS) end
        def.limited[s] = l
      end
    end
  end
  return def, names
end

local function random_query(names)
  local role = math.random(8) == 1 and pick { "nobody", "user\0", "" } or
    (math.random(2) == 1 and pick(names) or pick(BUILTIN_ORDER))
  local op = math.random(12) == 1 and pick { "frob", "", "READ" }
    or pick { "read", "write", "delete", "call", "import" }
  local res
  local r = math.random(10)
  if r <= 6 then
    res = pick { "local", "public", "private", "system" } .. pick { ":", ":", ".", "" } .. pick(KEYS)
  elseif r <= 8 then
    res = pick { "call:", "import:", "" } .. pick(NAMES)
  else
    res = pick { "bogus:x", "public:", "call:", "", "public:a\0b", "import.pkg", "call.reason", "private:x:y",
                 "public:a\nb", "call:reason\r", "search_web\27[2J", "public:k\127", "public:\xc3\xa9" }
  end
  return role, op, res, math.random(2) == 1
end

local function show(def)
  local ok, cjson = pcall(require, "cjson")
  if ok then return cjson.encode(def) end
  return tostring(def)
end

---------------------------------------------------------------- the property

describe("the C decision core agrees with the reference evaluator", function()
  it(string.format("on %d random policies x %d queries (seed %d)", POLICIES, QUERIES, SEED), function()
    math.randomseed(SEED)
    local decisions, allowed = 0, 0
    for n = 1, POLICIES do
      local def, names = random_def()
      local p, err = core.policy_compile(def)
      assert(p, string.format("seed %d policy %d: %s\n%s", SEED, n, tostring(err), show(def)))
      local ref = reference(def)
      for _ = 1, QUERIES do
        local role, op, res, own = random_query(names)
        local ok, rule = p:decide(role, op, res, own)
        local rok, rrule = ref.decide(role, op, res, own)
        if ok ~= rok or rule ~= rrule then
          error(string.format("seed %d policy %d: decide(%q, %q, %q, %s): C says %s (%s), reference %s (%s)\n%s",
            SEED, n, role, op, res, tostring(own), tostring(ok), rule, tostring(rok), rrule, show(def)))
        end
        decisions = decisions + 1
        if ok then allowed = allowed + 1 end
      end
      p:close()
    end
    -- the generator must exercise both outcomes
    assert(allowed > decisions / 10 and allowed < decisions * 9 / 10,
      string.format("allowed %d of %d", allowed, decisions))
  end)

  it("escalated decisions equal the grant role's decisions", function()
    math.randomseed(SEED + 1)
    for n = 1, 50 do
      local def, names = random_def()
      local p = assert(core.policy_compile(def))
      local ref = reference(def)
      local to = pick(names)
      local g = assert(core.policy_grant(p, to, nil, 1000))
      for _ = 1, 40 do
        local role, op, res, own = random_query(names)
        local ok = p:decide(role, op, res, own, g)
        local base = ref.decide(role, op, res, own)
        local esc = ref.decide(to, op, res, own)
        assert(ok == (base or esc),
          string.format("seed %d policy %d escalated to %s: %q %q %q", SEED, n, to, role, op, res))
      end
    end
  end)
end)
