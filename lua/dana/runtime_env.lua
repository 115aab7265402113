--- dana.runtime_env: the entry module of the Dana runtime. Returns the Dana env,
-- the `_ENV` of every translated chunk: the builtins under their Dana names, the
-- translator's helpers in `_D` (a name no Dana identifier can produce: codegen
-- renames user names starting with `_D`), a NameError / scope fallback for
-- unknown names, and no way to write.
local R = require("dana.runtime")
local M = require("dana.runtime_methods")
local B = require("dana.runtime_builtins")

local setmetatable, type = setmetatable, type

local D = {
  K = R.K, N = R.N, kwn = R.kwn, nargs = select, mt = math.type, truth = R.truth, tv = R.tv, ap = R.ap, ae = R.ae,
  eq = R.eq, lt = R.lt, b2i = R.b2i, is = R.is, contains = R.contains,
  add = R.add, iadd = R.iadd, sub = R.sub, mul = R.mul, div = R.div, floordiv = R.floordiv,
  mod = R.mod, pow = R.pow, neg = R.neg, pos = R.pos,
  str = R.str, repr = R.repr, fmt = R.format_spec,
  L = R.newlist, T = R.newtuple, D = R.D, S = R.S, dset = R.dset, sadd = R.sadd,
  gi = R.getitem, si = R.setitem, slice = R.slice, setslice = R.setslice,
  iter = R.iter, seq = R.seq, gm = getmetatable, ST = R.ST,
  unpack = R.unpack, items2 = R.items2, rint = R.rint, rlast = R.rlast,
  cm = M.callmethod, ga = M.getattr, sa = M.setattr, method = M.method, struct = M.struct,
  get = B.scope_get, set = B.scope_set, begin = B.begin, coerce = B.coerce,
  exc = B.exc, match = B.match, raise = B.raise, reraise = B.reraise, afail = B.assert_fail,
  import = B.import, agentdef = B.agentdef, interface = B.interface,
  BUILTIN_TYPES = B.BUILTIN_TYPES,
  isin = function(x, c) return R.contains(c, x) end,
  badslice = function() R.raise("TypeError", "multi-dimensional slicing is not supported") end,
  RuntimeError = B.EXC_CTORS.RuntimeError,
  pcall = pcall,
}

for k, f in pairs(M.FAST) do D[k] = f end

local N = R.N
--- A static call the def cannot take (codegen knows it): Python's TypeError.
function D.kwerr(msg) R.raise("TypeError", msg) end
--- An argument that may be None, passed into a "fixed" function's ND slot.
function D.nn(v)
  if v == nil then return N end
  return v
end

local tunpack = table.unpack
--- Keyword-call binding: `a, b = _D.kw(kwtable, "a", "b")` (keyword beats position).
function D.kw(w, ...)
  local n = select("#", ...)
  if n == 1 then
    local v = w[...]
    if v == nil then v = w[1] end
    return v
  end
  local r = {}
  for i = 1, n do
    local v = w[(select(i, ...))]
    if v == nil then v = w[i] end
    r[i] = v
  end
  return tunpack(r, 1, n)
end

local env = {}

-- Top-level names of earlier runs of this agent (Dana's persistent context): name -> {value}
local LOCALS = {}
local GENERIC = {} -- generic versions of defs specialised for this run's callers
function D.generic(name, f) GENERIC[name] = f end
local CANDS -- this run's NameError suggestions: unknown name -> close program names
function D.begin()
  GENERIC = {}
  CANDS = nil
  B.begin()
end
function D.cands(t) CANDS = t end
function D.keep(names, vals)
  for i = 1, #names do
    local n = names[i]
    LOCALS[n] = { GENERIC[n] or vals[i] }
  end
  GENERIC = {}
end
function D.keepall(t)
  for k, v in pairs(t) do LOCALS[k] = { GENERIC[k] or v } end
  GENERIC = {}
end

local builtins = {
  print = B.print, log = B.log, log_level = B.log_level,
  len = B.len, sum = B.sum, max = B.max, min = B.min, abs = B.abs, round = B.round,
  int = B.int, float = B.float, bool = B.bool, str = B.str, type = B.type,
  sorted = B.sorted, reversed = B.reversed, enumerate = B.enumerate, all = B.all, any = B.any,
  range = B.range, list = B.list, set = B.set, isinstance = B.isinstance,
  dict = B.dict, tuple = B.tuple, zip = B.zip,
  basic_sum = B.sum, basic_max = B.max, basic_min = B.min,
}
for k, v in pairs(B.EXC_CTORS) do builtins[k] = v end
for name in pairs(B.BLOCKED) do builtins[name] = B.blocked(name) end
builtins.reason = B.reason
builtins.escalate = B.escalate
builtins.use = B.use
for _, n in ipairs({ "llm", "context_aware_reason" }) do
  builtins[n] = B.llm_unavailable(n)
end
for k, v in pairs(builtins) do env[k] = v end

local names = {}
for k in pairs(builtins) do
  if not B.BLOCKED[k] then names[#names + 1] = k end
end
table.sort(names)

--- NameError for `name`, suggesting the closest of: the builtins, the program's own names
-- that codegen found close to it (D.cands), and the top-level names of earlier runs
-- (the REPL's earlier entries). Only Dana names: built on the error path only.
local function nameerror(name)
  local extra = CANDS and CANDS[name]
  if not extra and next(LOCALS) == nil then return B.nameerror(name, names) end
  local c, seen = {}, {}
  local function put(n)
    if not seen[n] and n ~= name then
      seen[n] = true
      c[#c + 1] = n
    end
  end
  for i = 1, #names do put(names[i]) end
  if extra then for i = 1, #extra do put(extra[i]) end end
  for n in pairs(LOCALS) do put(n) end
  return B.nameerror(name, c)
end

--- Undefined variable read to raise NameError with close names (codegen emits
-- `_D.undef("x")` for names it knows cannot be read, e.g. `_D`-prefixed ones).
D.undef = nameerror

env._D = D

setmetatable(env, {
  __metatable = "dana.env",
  __index = function(_, name)
    if type(name) ~= "string" then return nil end
    local box = LOCALS[name]
    if box then return box[1] end
    if B.UNAVAILABLE[name] then
      R.raise("NameError", "Built-in function '" .. name .. "' is not available in Dana. "
        .. "Supported built-ins: " .. table.concat(names, ", "))
    end
    local ok, v = B.scope_fallback(name)
    if ok then return v end
    return nameerror(name)
  end,
  __newindex = function(_, name)
    R.raise("NameError", "cannot assign global '" .. tostring(name) .. "'")
  end,
})

return env
