--- dana.codegen: Dana AST (annotated by dana.analyze) -> Lua source.
--
-- The output is line-aligned with the Dana source: every statement starts on its
-- Dana line, helpers come through `_ENV` (the Dana env) and line 1 holds the only
-- preamble, so Lua's own errors and tracebacks name the Dana line. Dana names are
-- Lua locals (renamed only when they are Lua keywords, `_ENV`, or start with `_D`,
-- the runtime's namespace: `end` -> `end_`; a trailing `_` is added injectively).
-- String literals are emitted as escaped "..." literals, never long brackets.
-- @module dana.codegen
local C = {}
local analyze = require("dana.analyze")

local concat, sfmt, srep, find = table.concat, string.format, string.rep, string.find

local LUA_KW = {}
for w in ("and break do else elseif end false for function goto if in local nil not or repeat "
  .. "return then true until while"):gmatch("%a+") do LUA_KW[w] = true end

--- A table memoising f: t[k] == f(k), bounded (it holds the keys of many programs).
local function memo_table(f)
  local n = 0
  return setmetatable({}, { __index = function(t, k)
    local v = f(k)
    n = n + 1
    if n > 20000 then
      n = 0
      for old in pairs(t) do t[old] = nil end
    end
    t[k] = v
    return v
  end })
end

local NEEDS_RENAME = memo_table(function(n)
  local base = n:gsub("_+$", "")
  return base ~= "" and (LUA_KW[base] or base == "_ENV" or base:sub(1, 2) == "_D") or false
end)
local function needs_rename(n) return NEEDS_RENAME[n] end

--- The Lua name of a Dana identifier (LUANAME[n] is the memoised form).
local function luaname(n)
  if needs_rename(n) then return n .. "_" end
  return n
end
local LUANAME = memo_table(luaname)
C.luaname = luaname

local LUA_IDENT = memo_table(function(n) return n:match("^[%a_][%w_]*$") ~= nil and not LUA_KW[n] end)
local function is_lua_ident(n) return LUA_IDENT[n] end

local ESC = {
  ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}
--- A Lua string literal for any byte string (no raw newlines, no long brackets).
local lstr_memo, lstr_n = {}, 0
local function esc(c) return ESC[c] or sfmt("\\%03d", c:byte()) end
local function lstr(s)
  local r = lstr_memo[s]
  if r then return r end
  if find(s, '[%c"\\\127]') then r = '"' .. s:gsub('[%c"\\\127]', esc) .. '"'
  else r = '"' .. s .. '"' end -- the usual case: nothing to escape (find builds nothing)
  if #s < 64 then
    if lstr_n > 20000 then lstr_memo, lstr_n = {}, 0 end
    lstr_memo[s] = r
    lstr_n = lstr_n + 1
  end
  return r
end
C.lstr = lstr

local function key(n) -- table constructor key
  if is_lua_ident(n) then return n .. " = " end
  return "[" .. lstr(n) .. "] = "
end

local function numlit(v)
  if math.type(v) == "integer" then
    if v == math.mininteger then return "math.mininteger" end
    return tostring(v)
  end
  if v ~= v then return "(0/0)" end
  if v == math.huge then return "1e999" end
  if v == -math.huge then return "(-1e999)" end
  local s = sfmt("%.17g", v)
  if not s:find("[.eEn]") then s = s .. ".0" end
  return s
end

-- Hot helpers get a line-1 local; the others are fields of `_D`.
local HOT = { "K", "mt", "truth", "add", "sub", "mul", "eq", "gi", "si", "cm", "ga", "iter", "L",
  "str", "seq", "m_append", "m_get", "gm", "ST" }
local HOTSET = {}
for _, h in ipairs(HOT) do HOTSET[h] = "_D" .. (h == "truth" and "T" or h) end
HOTSET.N = "_DN" -- the explicit-None marker: a line-1 local only in programs that use it
local function H(name) return HOTSET[name] or ("_D." .. name) end
-- HN.name == HN.name, memoised (the helper names are a small fixed set)
local HN = setmetatable({}, { __index = function(t, name)
  local v = H(name)
  t[name] = v
  return v
end })

-- ---------------------------------------------------------------------------
-- Generator state

local G = {}
G.__index = G

function G:emit(s)
  local b = self.buf
  b[#b + 1] = s
end

-- NEWLINES[n] = n newlines (the usual small gaps, without building a string each time)
local NEWLINES = setmetatable({}, { __index = function(t, n)
  local s = srep("\n", n)
  if n <= 64 then t[n] = s end
  return s
end })

--- Moves the output to Dana line `line` (never backwards).
function G:nl(line)
  local cur = self.cur
  if line and line > cur then
    local b = self.buf
    b[#b + 1] = NEWLINES[line - cur]
    self.cur = line
  end
end

--- Newlines to put before the text of expression node e (updates the line). Hot callers
-- test first: `e.line and e.line > g.cur and g_pre(g, e) or ""` (no call for the usual "").
function G:pre(e)
  local line = e and e.line
  local cur = self.cur
  if line and line > cur then
    self.cur = line
    return NEWLINES[line - cur]
  end
  return ""
end

function G:id()
  self.ids = self.ids + 1
  return self.ids
end

local SPILL = 160 -- more locals than this in one scope go to a table
local SEGMENT = 250 -- top-level statements per function segment in very long modules

-- scopes: { sc = analyze scope, locals = sc.locals, spill = name of table or nil, parent }
-- rcache: the scope's read_name results by name; self.rc is the current scope's. A spilled
-- scope's lookup cache (cache) is its rcache: both hold its locals' table fields.
function G:push_scope(sc, spill)
  local rc = {}
  self.scope = { sc = sc, locals = sc.locals, parent = self.scope, spill = spill, cache = spill and rc,
    rcache = rc }
  self.rc = rc
end
function G:pop_scope()
  local s = self.scope.parent
  self.scope = s
  self.rc = s and s.rcache
end

--- Lua expression for Dana local `name` if some scope has it (else nil).
function G:lookup(name, from)
  local s = from or self.scope
  while s do
    if s.locals[name] then
      if s.spill then
        local c = s.cache[name]
        if not c then
          c = is_lua_ident(name) and (s.spill .. "." .. name) or (s.spill .. "[" .. lstr(name) .. "]")
          s.cache[name] = c
        end
        return c
      end
      return LUANAME[name]
    end
    s = s.parent
  end
  return nil
end

-- The tags whose analysis recurses: only these are worth a memo entry (the others are
-- answered from the tag or one scope walk, cheaper than a big memo table).
local COMPOUND = { UnOp = true, BinOp = true, IfExp = true, Call = true }

--- Is expression e statically numeric in the current scope?
function G:num(e)
  if self.nonum then return false end
  local sc = self.scope
  if not COMPOUND[e.tag] then return sc ~= nil and analyze.numeric(e, sc.sc) or false end
  local memo = self.nummemo -- keyed by node (a field would make Lua resize the node)
  local r = memo[e]
  if r == nil then
    r = sc ~= nil and analyze.numeric(e, sc.sc) or false
    memo[e] = r
  end
  return r
end

--- Is e statically of kind "int", "list" or "dict" (a plain local of that kind)?
function G:kind(e, which)
  if self.nonum or not self.scope then return false end
  if not COMPOUND[e.tag] then return analyze.kind_of(e, self.scope.sc, which) or false end
  local memo = self.kindmemo[which]
  if not memo then
    memo = {}
    self.kindmemo[which] = memo
  end
  local r = memo[e]
  if r == nil then
    r = analyze.kind_of(e, self.scope.sc, which) or false
    memo[e] = r
  end
  return r
end

--- Side-effect-free int expression over names and literals (may be evaluated twice).
local function pure_int(e)
  local t = e.tag
  if t == "Name" or t == "Int" then return true end
  if t == "UnOp" then return e.op == "-" and pure_int(e.operand) end
  if t == "BinOp" then
    if e.op == "+" or e.op == "-" or e.op == "*" then return pure_int(e.left) and pure_int(e.right) end
    if e.op == "%" or e.op == "//" then
      return e.right.tag == "Int" and e.right.value ~= 0 and pure_int(e.left)
    end
  end
  return false
end

--- GLOBAL_READ[name]: the Lua expression reading global `name`.
local GLOBAL_READ = memo_table(function(name)
  if name:sub(1, 2) == "_D" then return "_D.undef(" .. lstr(name) .. ")" end
  if is_lua_ident(name) and not needs_rename(name) then return name end
  return "_ENV[" .. lstr(name) .. "]"
end)

function G:read_name(node, name)
  local rc
  if self.scope and not node._global then -- a function of (scope, name): cached per scope
    rc = self.rc
    local r = rc[name]
    if r then return r end
  end
  local l = self:lookup(name)
  if rc then
    local r = l or GLOBAL_READ[name]
    rc[name] = r
    return r
  end
  if l and not node._global then return l end
  if l and is_lua_ident(name) and not needs_rename(name) then
    return "_ENV." .. name -- a local of that name exists but cannot hold the value yet
  end
  return GLOBAL_READ[name]
end

-- ---------------------------------------------------------------------------
-- Expressions

-- the hot methods as upvalues (a method call looks them up through the metatable)
local g_emit, g_nl, g_pre, g_lookup, g_num, g_kind, g_read_name = G.emit, G.nl, G.pre, G.lookup,
  G.num, G.kind, G.read_name

-- tag -> function(G, e) -> string; hot callers index E themselves (one call less per node)
local E = setmetatable({}, { __index = function(_, tag)
  error("codegen: unknown expression tag " .. tostring(tag), 2)
end })

local function expr(g, e)
  return E[e.tag](g, e)
end

local function is_num(e)
  if e.tag == "Int" or e.tag == "Float" then return true end
  if e.tag == "UnOp" and e.op == "-" and (e.operand.tag == "Int" or e.operand.tag == "Float") then
    return true
  end
  return false
end
local function numval(e)
  if e.tag == "UnOp" then return -e.operand.value end
  return e.value
end

local KNOWN_BOOL = { Compare = true, Bool = true }
local function known_bool(e)
  if KNOWN_BOOL[e.tag] then return true end
  if e.tag == "UnOp" and e.op == "not" then return true end
  if e.tag == "BoolOp" then return known_bool(e.left) and known_bool(e.right) end
  return false
end

--- Never false or nil in Lua (so `c and X or Y` is safe).
local function never_falsy(e)
  local t = e.tag
  return t == "String" or t == "Int" or t == "Float" or t == "FString" or t == "List"
    or t == "Dict" or t == "Tuple" or t == "Set" or t == "ListComp" or t == "SetComp"
    or t == "DictComp" or t == "Lambda" or t == "BinOp" or (t == "Bool" and e.value)
end

--- Never nil (None) in Lua: keyword values and arguments that need no None marking.
local function nonnil(g, e)
  local t = e.tag
  if t == "Bool" or t == "Compare" or (t == "UnOp" and e.op == "not") then return true end
  return never_falsy(e) or g_num(g, e)
end

local sbyte, smatch = string.byte, string.match
local function simple(s)
  local b = sbyte(s, 1)
  if not b then return false end
  if b == 40 then return smatch(s, "^%(%-?[%d.]+%)$") ~= nil end -- "("
  if (b >= 48 and b <= 57) or b == 46 then return smatch(s, "^[%d.]+$") ~= nil end
  return smatch(s, "^[%a_][%w_]*$") ~= nil
end

--- Condition context: a Lua boolean.
local function cond(g, e)
  if e.tag == "BoolOp" then
    local pre = e.line and e.line > g.cur and g_pre(g, e) or ""
    local l = cond(g, e.left)
    local r = cond(g, e.right)
    return pre .. "(" .. l .. " " .. e.op .. " " .. r .. ")"
  end
  local s = expr(g, e)
  if known_bool(e) then return s end
  return HN.truth .. "(" .. s .. ")"
end
C.cond = cond

E.Name = function(g, e) -- the commonest node: read_name's cache hit inline
  local rc = g.rc
  local r = rc and not e._global and rc[e.name] or g_read_name(g, e, e.name)
  local line = e.line
  if line and line > g.cur then return g_pre(g, e) .. r end
  return r
end
E.Scoped = function(g, e)
  if e.scope == "local" then return g_pre(g, e) .. g_read_name(g, e, e.name) end
  return g_pre(g, e) .. "_D.get(" .. lstr(e.scope .. ":" .. e.name) .. ")"
end
-- INTLIT[v] == numlit(v) for the integer values of Int nodes, and FLOATLIT for the float
-- values of Float nodes (never NaN or -0.0: the sign is a UnOp): two tables, as 2.0 and
-- 2 are the same key
local INTLIT, FLOATLIT = memo_table(numlit), memo_table(numlit)
E.Int = function(g, e)
  local pre = e.line and e.line > g.cur and g_pre(g, e) or ""
  return pre .. INTLIT[e.value]
end
E.Float = function(g, e)
  local pre = e.line and e.line > g.cur and g_pre(g, e) or ""
  return pre .. FLOATLIT[e.value]
end
E.String = function(g, e)
  local pre = e.line and e.line > g.cur and g_pre(g, e) or ""
  return pre .. lstr(e.value)
end
E.Bool = function(g, e)
  local pre = e.line and e.line > g.cur and g_pre(g, e) or ""
  return pre .. (e.value and "true" or "false")
end
E.None = function(g, e)
  local pre = e.line and e.line > g.cur and g_pre(g, e) or ""
  return pre .. "nil"
end
E.Placeholder = function(g, e) return g_pre(g, e) .. (g.pipe_cur or "nil") end

E.FString = function(g, e)
  local pre = e.line and e.line > g.cur and g_pre(g, e) or ""
  local parts = {}
  local ep = e.parts
  for i = 1, #ep do
    local p = ep[i]
    if p.tag == "String" then
      if p.value ~= "" then parts[#parts + 1] = lstr(p.value) end
    else
      local x = expr(g, p.expr)
      if p.spec then
        parts[#parts + 1] = "_D.fmt(" .. x .. ", " .. lstr(p.spec) .. ")"
      else
        parts[#parts + 1] = HN.str .. "(" .. x .. ")"
      end
    end
  end
  if #parts == 0 then return pre .. '""' end
  if #parts == 1 and e.parts[1].tag == "String" then return pre .. parts[1] end
  if #parts == 1 then return pre .. parts[1] end
  return pre .. "(" .. concat(parts, " .. ") .. ")"
end

local function list_items(g, elts)
  local t = {}
  for i, x in ipairs(elts) do t[i] = expr(g, x) end
  return concat(t, ", ")
end

E.List = function(g, e)
  local pre = e.line and e.line > g.cur and g_pre(g, e) or ""
  local items = list_items(g, e.elts)
  if #e.elts == 0 then return pre .. HN.L .. "({n = 0})" end
  return pre .. HN.L .. "({n = " .. #e.elts .. ", " .. items .. "})"
end
E.Tuple = function(g, e)
  local pre = e.line and e.line > g.cur and g_pre(g, e) or ""
  local items = list_items(g, e.elts)
  if #e.elts == 0 then return pre .. "_D.T({n = 0})" end
  return pre .. "_D.T({n = " .. #e.elts .. ", " .. items .. "})"
end
E.Set = function(g, e)
  local pre = e.line and e.line > g.cur and g_pre(g, e) or ""
  local items = list_items(g, e.elts)
  return pre .. "_D.S({" .. items .. "}, " .. #e.elts .. ")"
end
E.Dict = function(g, e)
  local pre = e.line and e.line > g.cur and g_pre(g, e) or ""
  local t = {}
  for i = 1, #e.keys do
    t[#t + 1] = expr(g, e.keys[i])
    t[#t + 1] = expr(g, e.values[i])
  end
  return pre .. "_D.D({" .. concat(t, ", ") .. "}, " .. #e.keys .. ")"
end

local EMPTY = require("dana.ast").EMPTY -- shared, read-only

local ARITH_FN = { ["+"] = "add", ["-"] = "sub", ["*"] = "mul", ["/"] = "div",
  ["//"] = "floordiv", ["%"] = "mod", ["**"] = "pow" }

local function arith(op, l, r, lnode, rnode, fn, bothnum)
  fn = fn or HN[ARITH_FN[op]]
  if bothnum then
    if op == "+" or op == "-" or op == "*" then return "(" .. l .. " " .. op .. " " .. r .. ")" end
    if op == "/" or op == "//" or op == "%" then
      if is_num(rnode) and numval(rnode) ~= 0 then return "(" .. l .. " " .. op .. " " .. r .. ")" end
      if simple(r) and not r:find("\n") then
        return "(" .. r .. " ~= 0 and " .. l .. " " .. op .. " " .. r .. " or " .. fn .. "(" .. l
          .. ", " .. r .. "))"
      end
      return fn .. "(" .. l .. ", " .. r .. ")"
    end
    if op == "**" and is_num(rnode) and numval(rnode) == 2 and simple(l) and not l:find("\n") then
      return "(" .. l .. " * " .. l .. ")"
    end
    return fn .. "(" .. l .. ", " .. r .. ")"
  end
  if op == "+" or op == "-" or op == "*" then
    local ln, rn = is_num(lnode), is_num(rnode)
    if ln and rn then return "(" .. l .. " " .. op .. " " .. r .. ")" end
    if not l:find("\n") and not r:find("\n") then
      if ln and simple(r) then
        return "(" .. HN.mt .. "(" .. r .. ") and " .. l .. " " .. op .. " " .. r .. " or "
          .. fn .. "(" .. l .. ", " .. r .. "))"
      elseif rn and simple(l) then
        return "(" .. HN.mt .. "(" .. l .. ") and " .. l .. " " .. op .. " " .. r .. " or "
          .. fn .. "(" .. l .. ", " .. r .. "))"
      elseif simple(l) and simple(r) then
        return "(" .. HN.mt .. "(" .. l .. ") and " .. HN.mt .. "(" .. r .. ") and " .. l
          .. " " .. op .. " " .. r .. " or " .. fn .. "(" .. l .. ", " .. r .. "))"
      end
    end
  elseif (op == "/" or op == "//" or op == "%") and is_num(rnode) and numval(rnode) ~= 0
    and simple(l) and not l:find("\n") then
    return "(" .. HN.mt .. "(" .. l .. ") and " .. l .. " " .. op .. " " .. r .. " or "
      .. fn .. "(" .. l .. ", " .. r .. "))"
  end
  return fn .. "(" .. l .. ", " .. r .. ")"
end
C.arith = arith

E.BinOp = function(g, e)
  local pre = e.line and e.line > g.cur and g_pre(g, e) or ""
  local l = expr(g, e.left)
  local r = expr(g, e.right)
  return pre .. arith(e.op, l, r, e.left, e.right, nil, g_num(g, e.left) and g_num(g, e.right))
end

E.UnOp = function(g, e)
  local pre = e.line and e.line > g.cur and g_pre(g, e) or ""
  if e.op == "not" then
    return pre .. "(not " .. cond(g, e.operand) .. ")"
  end
  local x = expr(g, e.operand)
  if e.op == "-" then
    if is_num(e.operand) or g_num(g, e.operand) then return pre .. "(- " .. x .. ")" end
    if simple(x) then
      return pre .. "(" .. HN.mt .. "(" .. x .. ") and - " .. x .. " or _D.neg(" .. x .. "))"
    end
    return pre .. "_D.neg(" .. x .. ")"
  end
  return pre .. "_D.pos(" .. x .. ")"
end

E.BoolOp = function(g, e)
  local pre = e.line and e.line > g.cur and g_pre(g, e) or ""
  if e.op == "or" then
    if known_bool(e.left) then
      local l = expr(g, e.left)
      return pre .. "(" .. l .. " or " .. expr(g, e.right) .. ")"
    end
    local l = expr(g, e.left)
    return pre .. "(_D.tv(" .. l .. ") or " .. expr(g, e.right) .. ")"
  end
  if known_bool(e.left) then
    local l = expr(g, e.left)
    return pre .. "(" .. l .. " and " .. expr(g, e.right) .. ")"
  end
  local l = expr(g, e.left)
  return pre .. "_D.ae(_D.ap(" .. l .. ") and " .. expr(g, e.right) .. ")"
end

local function eqcode(g, l, r, ln, rn)
  if ln.tag == "None" then return "(" .. r .. " == nil)" end
  if rn.tag == "None" then return "(" .. l .. " == nil)" end
  if ln.tag == "String" or rn.tag == "String" then return "(" .. l .. " == " .. r .. ")" end
  local lit, other, onode
  if is_num(rn) or rn.tag == "Bool" then lit, other, onode = rn, l, ln
  elseif is_num(ln) or ln.tag == "Bool" then lit, other, onode = ln, r, rn end
  if lit then
    local v = lit.tag == "Bool" and lit.value or numval(lit)
    local alt
    if v == 0 then alt = "false" elseif v == 1 then alt = "true"
    elseif v == true then alt = "1" elseif v == false then alt = "0" end
    local litcode = lit == rn and r or l
    if alt == nil then return "(" .. l .. " == " .. r .. ")" end
    if (onode.tag == "BinOp" or g_num(g, onode)) and lit.tag ~= "Bool" then
      return "(" .. l .. " == " .. r .. ")"
    end
    if known_bool(onode) and (v == true or v == false) then
      return "(" .. other .. " == " .. litcode .. ")"
    end
    if simple(other) and not other:find("\n") then
      return "(" .. other .. " == " .. litcode .. " or " .. other .. " == " .. alt .. ")"
    end
  end
  return HN.eq .. "(" .. l .. ", " .. r .. ")"
end

E.Compare = function(g, e)
  local pre = e.line and e.line > g.cur and g_pre(g, e) or ""
  local op = e.op
  local l = expr(g, e.left)
  local r = expr(g, e.right)
  if op == "<" or op == ">" or op == "<=" or op == ">=" then
    if known_bool(e.left) then l = "_D.b2i(" .. l .. ")" end
    if known_bool(e.right) then r = "_D.b2i(" .. r .. ")" end
    return pre .. "(" .. l .. " " .. op .. " " .. r .. ")"
  elseif op == "==" then return pre .. eqcode(g, l, r, e.left, e.right)
  elseif op == "!=" then return pre .. "(not " .. eqcode(g, l, r, e.left, e.right) .. ")"
  elseif op == "in" then return pre .. "_D.isin(" .. l .. ", " .. r .. ")"
  elseif op == "not in" then return pre .. "(not _D.isin(" .. l .. ", " .. r .. "))"
  elseif op == "is" or op == "is not" then
    local c
    if e.right.tag == "None" then c = "(" .. l .. " == nil)"
    elseif e.left.tag == "None" then c = "(" .. r .. " == nil)"
    else c = "_D.is(" .. l .. ", " .. r .. ")" end
    if op == "is not" then c = "(not " .. c .. ")" end
    return pre .. c
  end
  error("codegen: unknown comparison " .. tostring(op))
end

E.IfExp = function(g, e)
  local pre = e.line and e.line > g.cur and g_pre(g, e) or ""
  local t = cond(g, e.test)
  local b = expr(g, e.body)
  local o = expr(g, e.orelse)
  if never_falsy(e.body) then
    return pre .. "(" .. t .. " and " .. b .. " or " .. o .. ")"
  end
  return pre .. "(function() if " .. t .. " then return " .. b .. " end return " .. o .. " end)()"
end

--- Arguments of a call: "a, b" or "_DK, {[0] = n, a, b, k = v}".
local function callargs(g, e)
  local args, nk = e.args, #e.kwargs
  local na = #args
  if nk == 0 and na <= 1 then -- the usual calls: no table, no concat
    if na == 0 then return "" end
    local a = args[1]
    return E[a.tag](g, a)
  end
  local pos = {}
  for i = 1, na do
    local a = args[i]
    pos[i] = E[a.tag](g, a)
  end
  if nk == 0 then return concat(pos, ", ") end
  local parts = {}
  if #pos > 0 then parts[1] = "[0] = " .. #pos end
  for _, p in ipairs(pos) do parts[#parts + 1] = p end
  local given = 0
  for _, k in ipairs(e.kwargs) do
    local pk = k.line and k.line > g.cur and g_pre(g, k) or ""
    parts[#parts + 1] = pk .. key(k.name) .. expr(g, k.value)
    if not nonnil(g, k.value) then
      -- a keyword whose value may be None: `{k = nil}` stores nothing, so the names of
      -- such keywords go at -1, -2, ... (what `_D.kwn` looks at)
      given = given + 1
      parts[#parts + 1] = "[" .. -given .. "] = " .. lstr(k.name)
    end
  end
  return HN.K .. ", {" .. concat(parts, ", ") .. "}"
end

-- methods with a runtime fast path `_D.m_NAME(o, args)`: {min args, max args}
local FAST_METHOD = { append = { 1, 1 }, get = { 1, 2 }, items = { 0, 0 }, keys = { 0, 0 },
  values = { 0, 0 }, upper = { 0, 0 }, lower = { 0, 0 }, strip = { 0, 0 }, startswith = { 1, 1 },
  endswith = { 1, 1 }, join = { 1, 1 }, add = { 1, 1 }, pop = { 0, 1 }, split = { 0, 1 },
  replace = { 2, 2 } }
local FAST_FN = {} -- their helpers
for m in pairs(FAST_METHOD) do FAST_FN[m] = H("m_" .. m) end

E.Call = function(g, e)
  local pre = e.line and e.line > g.cur and g_pre(g, e) or ""
  local f = e.func
  if f.tag == "Attr" then
    local o = expr(g, f.obj)
    local spec = #e.kwargs == 0 and FAST_METHOD[f.name]
    if f.name == "get" and spec and #e.args >= 1 and g_kind(g, f.obj, "dict") and simple(o)
      and (e.args[1].tag == "Name" or e.args[1].tag == "String" or e.args[1].tag == "Int") then
      local k = expr(g, e.args[1])
      local d = e.args[2] and expr(g, e.args[2]) or "nil"
      if not (o .. k):find("\n") then
        return pre .. "(" .. o .. ".i[" .. k .. "] and " .. o .. ".v[" .. o .. ".i[" .. k .. "]] or "
          .. HN.m_get .. "(" .. o .. ", " .. k .. ", " .. d .. "))"
      end
      return pre .. HN.m_get .. "(" .. o .. ", " .. k .. ", " .. d .. ")"
    end
    if spec and #e.args >= spec[1] and #e.args <= spec[2] then
      local a = callargs(g, e)
      if a == "" then return pre .. FAST_FN[f.name] .. "(" .. o .. ")" end
      return pre .. FAST_FN[f.name] .. "(" .. o .. ", " .. a .. ")"
    end
    local a = callargs(g, e)
    if a == "" then return pre .. HN.cm .. "(" .. o .. ", " .. lstr(f.name) .. ")" end
    return pre .. HN.cm .. "(" .. o .. ", " .. lstr(f.name) .. ", " .. a .. ")"
  end
  if f.tag == "Name" and f.name == "len" and f._global and #e.args == 1 and #e.kwargs == 0
    and g_kind(g, e.args[1], "list") and not g_lookup(g, "len") then
    local o = expr(g, e.args[1])
    if simple(o) then return pre .. g_pre(g, f) .. o .. ".n" end
    return pre .. "len(" .. o .. ")"
  end
  -- dict(k=v, ...) of the builtin is a dict literal: it keeps the keywords' order, which a
  -- call's keyword table has lost (Python's dict() keeps it)
  if f.tag == "Name" and f.name == "dict" and f._global and #e.args == 0 and #e.kwargs > 0
    and not g_lookup(g, "dict") then
    local fpre = g_pre(g, f)
    local t = {}
    for i, k in ipairs(e.kwargs) do
      t[2 * i - 1] = g_pre(g, k) .. lstr(k.name)
      t[2 * i] = expr(g, k.value)
    end
    return pre .. fpre .. "_D.D({" .. concat(t, ", ") .. "}, " .. #e.kwargs .. ")"
  end
  local fs = expr(g, f)
  if f.tag == "Lambda" then
    fs = "(" .. fs .. ")"
  elseif f.tag ~= "Name" or sbyte(fs, 1) == 10 then -- a Name's text is a dotted name or ends in ")"/"]"
    local last = sbyte(fs, -1)
    if not (last == 41 or last == 93 or fs:match("^[%a_][%w_%.]*$")) then fs = "(" .. fs .. ")" end
  end
  if f.tag == "Name" and not f._global then
    local mapped, bad = g:static_args(e, f.name)
    if mapped then return pre .. fs .. "(" .. mapped .. ")" end
    if bad then -- Python's TypeError, after the arguments are evaluated as the call would
      local parts = { lstr(bad) }
      for i = 1, #e.args do parts[#parts + 1] = expr(g, e.args[i]) end
      for i = 1, #e.kwargs do
        local k = e.kwargs[i]
        parts[#parts + 1] = g_pre(g, k) .. expr(g, k.value)
      end
      return pre .. "_D.kwerr(" .. concat(parts, ", ") .. ")"
    end
  end
  return pre .. fs .. "(" .. callargs(g, e) .. ")"
end

-- ---------------------------------------------------------------------------
-- Explicit None and missing arguments. Both are Lua nil, which is right for a parameter
-- without a default or with the default None. A parameter with any other default ("ND")
-- must tell them apart (Python: `f(1, None)` passes None, `f(1)` the default):
--   * "vararg" functions (the public convention, for every dynamic caller) take the
--     parameters from the first ND one on through `...`, and a nil that was passed
--     (counted with `select("#", ...)`, only when some ND parameter is nil) is None;
--   * "fixed" functions (defs that only static call sites use: see G:fixed) keep fixed
--     parameters: nil is missing and the marker `_DN` is an explicit None; static call
--     sites encode what they pass into an ND slot. At module level the def also
--     registers a vararg wrapper (`_D.generic`), which is what later runs see. When every
--     ND default is a constant ("const"), static call sites pass the default themselves
--     and None as nil, and the function has no default code on that path at all.
-- In both, a keyword table gives None for a parameter when its position is passed or
-- its name is listed at a negative index (`_D.kwn`), and the prologue turns `_DN` into
-- nil before the body runs: the marker never reaches a Dana value.

local function nd_param(p)
  return p.default ~= nil and p.default.tag ~= "None"
end

local function has_nd(params)
  for i = 1, #params do
    if nd_param(params[i]) then return true end
  end
  return false
end

--- The receiver (if any) and the parameters of a def or lambda (read only: without a
-- receiver, the node's own list).
local function all_params(node)
  if not node.receiver then return node.params end
  local params = { node.receiver }
  for _, p in ipairs(node.params) do params[#params + 1] = p end
  return params
end

--- A constant default's Lua text (no line prefix), or nil.
local function const_default(e)
  local t = e.tag
  if t == "Int" or t == "Float" or (t == "UnOp" and is_num(e)) then return numlit(numval(e)) end
  if t == "String" then return lstr(e.value) end
  if t == "Bool" then return e.value and "true" or "false" end
  return nil
end

--- Is def `node`, declared in analysis scope `sc`, a "fixed" function? Returns false,
-- "fixed", or "const" when every ND default is a constant: static call sites then pass
-- the final values (the default itself for a missing argument, nil for None) and the
-- function has no default code on that path at all.
function G:fixed(node, sc)
  local memo = self.fixedmemo
  local r = memo[node]
  if r == nil then
    local name = node.name
    r = false
    if (node.tag == "FuncDef" or node.tag == "PipeDef") and sc.static[name] == node
      and not sc.escapes[name] and not analyze.registers_method(node) then
      local params = all_params(node)
      if has_nd(params) then
        r = "const"
        for _, p in ipairs(params) do
          if nd_param(p) and not const_default(p.default) then r = "fixed" end
        end
      end
    end
    memo[node] = r
  end
  return r
end

--- An argument for ND slot of a fixed function: None becomes `_DN`.
local function nd_arg(g, a, code)
  if nonnil(g, a) then return code end
  local pre, body = code:match("^(\n*)(.*)$")
  if a.tag == "None" then return pre .. HN.N end
  if a.tag == "Name" and not a._global and simple(body) then
    return pre .. "(" .. body .. " == nil and " .. HN.N .. " or " .. body .. ")"
  end
  return pre .. "_D.nn(" .. body .. ")"
end

--- Call to a def or struct known at compile time (assigned once, undecorated): keywords
-- become positions, when that keeps Python's evaluation order, and arguments of a fixed
-- function are encoded. Returns the argument text, or nil for the generic call.
function G:static_args(e, name)
  local s = self.scope
  while s and not s.locals[name] do s = s.parent end
  if not s then return nil end
  local node = s.sc.static[name]
  if not node then return nil end
  local struct = node.tag == "StructDef"
  local fixed = not struct and self:fixed(node, s.sc)
  if #e.kwargs == 0 and not fixed then return nil end -- the usual call: nothing to map
  local pnames, params = {}, nil
  if struct then
    for i, f in ipairs(node.fields) do pnames[i] = f.name end
  else
    params = all_params(node)
    for i, p in ipairs(params) do pnames[i] = p.name end
  end
  -- a skipped position reads as a passed None in the vararg convention (structs too)
  local gaps_ok = fixed or (params ~= nil and not has_nd(params))
  local index = {}
  for i, n in ipairs(pnames) do index[n] = i end
  local last = #e.args
  if last > #pnames and #e.kwargs > 0 then return nil end
  if not struct then -- a call the def cannot take: the error Python raises (nil: no static call)
    local seen = {}
    for _, k in ipairs(e.kwargs) do
      local i = index[k.name]
      if not i then return nil, name .. "() got an unexpected keyword argument '" .. k.name .. "'" end
      if i <= #e.args or seen[i] then
        return nil, name .. "() got multiple values for argument '" .. k.name .. "'"
      end
      seen[i] = true
    end
  end
  local slots = {}
  for _, k in ipairs(e.kwargs) do
    local i = index[k.name]
    if not i or i <= last then return nil end
    slots[i] = k
    last = i
  end
  if not gaps_ok then
    for i = #e.args + 1, last do
      if not slots[i] then return nil end
    end
  end
  local encode = fixed == "fixed"
  if fixed == "const" then -- fill up to the last ND parameter with the defaults
    for i = last + 1, #params do
      if nd_param(params[i]) then last = i end
    end
  end
  local parts = {}
  for i, a in ipairs(e.args) do
    local code = expr(self, a)
    if encode and params[i] and nd_param(params[i]) then code = nd_arg(self, a, code) end
    parts[i] = code
  end
  for i = #e.args + 1, last do
    local k = slots[i]
    if k then
      local code = g_pre(self, k) .. expr(self, k.value)
      if encode and nd_param(params[i]) then code = nd_arg(self, k.value, code) end
      parts[i] = code
    elseif fixed == "const" and nd_param(params[i]) then
      parts[i] = const_default(params[i].default)
    else
      parts[i] = "nil"
    end
  end
  return concat(parts, ", ")
end

E.Attr = function(g, e)
  local pre = e.line and e.line > g.cur and g_pre(g, e) or ""
  return pre .. HN.ga .. "(" .. expr(g, e.obj) .. ", " .. lstr(e.name) .. ")"
end

local function opt(g, e)
  if e == nil then return "nil" end
  return expr(g, e)
end

E.Index = function(g, e)
  local pre = e.line and e.line > g.cur and g_pre(g, e) or ""
  local o = expr(g, e.obj)
  local ix = e.index
  if ix.tag == "Slice" then
    local lo = opt(g, ix.lower)
    local hi = opt(g, ix.upper)
    local st = opt(g, ix.step)
    return pre .. "_D.slice(" .. o .. ", " .. lo .. ", " .. hi .. ", " .. st .. ")"
  end
  local k = expr(g, ix)
  if g_kind(g, e.obj, "list") and g_kind(g, ix, "int") and simple(o) and pure_int(ix)
    and not (o .. k):find("\n") then
    return pre .. "((" .. k .. " >= 0 and " .. k .. " < " .. o .. ".n and " .. o .. "[" .. k
      .. " + 1]) or " .. HN.gi .. "(" .. o .. ", " .. k .. "))"
  end
  return pre .. HN.gi .. "(" .. o .. ", " .. k .. ")"
end
E.Slice = function(g, e)
  return g_pre(g, e) .. "_D.badslice()"
end

--- The argument stage of a vararg function: "function(a, ...) local b, c = ..." and the
-- positional None check (to put after a keyword branch, or alone after `if a ~= K`).
-- names: Lua names of the params; nd: set of ND indices; first: the first ND index.
local function vararg_head(names, nd, first)
  local fixedn = {}
  for i = 1, first - 1 do fixedn[i] = names[i] end
  fixedn[#fixedn + 1] = "..."
  local rest = {}
  for i = first, #names do rest[#rest + 1] = names[i] end
  if #names == 1 then rest[2] = "_Dkw" end
  local conds, sets = {}, {}
  for i = first, #names do
    if nd[i] then
      local n = names[i]
      conds[#conds + 1] = n .. " == nil"
      sets[#sets + 1] = " if " .. n .. " == nil and _Dn >= " .. (i - first + 1) .. " then " .. n
        .. " = " .. HN.N .. " end"
    end
  end
  return "function(" .. concat(fixedn, ", ") .. ") local " .. concat(rest, ", ") .. " = ...",
    concat(conds, " or ") .. " then local _Dn = _D.nargs(\"#\", ...)" .. concat(sets)
end

local function nd_set(params)
  local nd, first = {}, nil
  for i, p in ipairs(params) do
    if nd_param(p) then
      nd[i] = true
      first = first or i
    end
  end
  return nd, first
end

--- The start of a function's text: "function(...)" and the keyword prologue.
local function prologue(params, mode)
  local np = #params
  local names = {}
  for i = 1, np do names[i] = LUANAME[params[i].name] end
  local nd, first = {}, nil
  if mode then nd, first = nd_set(params) end
  local t, poscheck = {}, nil
  if mode == "vararg" then
    t[1], poscheck = vararg_head(names, nd, first)
  elseif np == 1 then
    t[1] = "function(" .. names[1] .. ", _Dkw)"
  else
    t[1] = "function(" .. concat(names, ", ") .. ")"
  end
  if np >= 1 then
    local kwvar = np == 1 and "_Dkw" or names[2]
    t[#t + 1] = " if " .. names[1] .. " == " .. HN.K .. " then local _Dw = " .. kwvar
    for i = 1, np do
      local p, n = params[i], names[i]
      local k = is_lua_ident(p.name) and ("_Dw." .. p.name) or ("_Dw[" .. lstr(p.name) .. "]")
      t[#t + 1] = " " .. n .. " = " .. k .. " if " .. n .. " == nil then " .. n .. " = _Dw[" .. i .. "]"
      if nd[i] and mode == "const" then
        t[#t + 1] = " if " .. n .. " == nil and not _D.kwn(_Dw, " .. i .. ", " .. lstr(p.name)
          .. ") then " .. n .. " = " .. const_default(p.default) .. " end"
      elseif nd[i] then
        t[#t + 1] = " if " .. n .. " == nil and _D.kwn(_Dw, " .. i .. ", " .. lstr(p.name)
          .. ") then " .. n .. " = " .. HN.N .. " end"
      end
      t[#t + 1] = " end"
    end
    if poscheck then t[#t + 1] = " elseif " .. poscheck end
    t[#t + 1] = " end"
  end
  return concat(t)
end

-- The prologue depends only on the parameter names, the mode, which parameters are ND
-- and (mode "const") their defaults: memoised by that signature, as defs repeat their
-- parameter lists. Key parts are joined with "\0", which no name or literal text has.
local PROLOGUE, prologue_n = {}, 0
local function prologue_memo(params, mode)
  local k = { mode or "" }
  for i = 1, #params do
    local p = params[i]
    k[#k + 1] = p.name
    if mode and nd_param(p) then k[#k + 1] = mode == "const" and "=" .. const_default(p.default) or "=" end
  end
  local sig = concat(k, "\0")
  local r = PROLOGUE[sig]
  if not r then
    r = prologue(params, mode)
    if prologue_n >= 5000 then PROLOGUE, prologue_n = {}, 0 end -- bounded
    PROLOGUE[sig] = r
    prologue_n = prologue_n + 1
  end
  return r
end

--- Appends the function header text to t: params, keyword prologue, defaults, locals.
-- defaults: list of {lua param name, default code}; mode: nil (no ND parameter),
-- "fixed" or "vararg" (see the note on explicit None above).
local function func_header(g, params, sc, defcodes, mode, t)
  local np = #params
  t[#t + 1] = prologue_memo(params, mode)
  for i = 1, np do
    local d = defcodes[i]
    if d then
      local nd = mode and nd_param(params[i])
      if nd and mode == "const" then
        if sbyte(d, 1) == 10 then t[#t + 1] = d:match("^\n*") end -- the lines the default's text took
      else
        local n = LUANAME[params[i].name]
        if nd then
          t[#t + 1] = " if " .. n .. " == nil then " .. n .. " = " .. d .. " elseif " .. n .. " == "
            .. HN.N .. " then " .. n .. " = nil end"
        else
          t[#t + 1] = " if " .. n .. " == nil then " .. n .. " = " .. d .. " end"
        end
      end
    end
  end
  -- locals: the initialised ones (read from outside), then one `local` for the others
  local order, init = sc.order, sc.init
  local pset = {}
  for i = 1, np do pset[params[i].name] = true end
  local plain
  for i = 1, #order do
    local n = order[i]
    if not pset[n] and init[n] then
      local outer = (g.scope.parent and g_lookup(g, n, g.scope.parent)) or GLOBAL_READ[n]
      t[#t + 1] = " local " .. LUANAME[n] .. " = " .. outer
    end
  end
  for i = 1, #order do
    local n = order[i]
    if not pset[n] and not init[n] then
      if plain then
        t[#t + 1] = ", "
        t[#t + 1] = LUANAME[n]
      else
        plain = true
        t[#t + 1] = " local "
        t[#t + 1] = LUANAME[n]
      end
    end
  end
end

--- The vararg entry of fixed function `fname` (what dynamic callers and later runs get).
-- (mode "const": it applies the constant defaults itself)
local function fixed_wrapper(params, fname, mode)
  local names = {}
  for i, p in ipairs(params) do names[i] = luaname(p.name) end
  local nd, first = nd_set(params)
  local head, poscheck = vararg_head(names, nd, first)
  if mode == "const" then
    local conds, sets = {}, {}
    for i = first, #names do
      if nd[i] then
        conds[#conds + 1] = names[i] .. " == nil"
        sets[#sets + 1] = " if " .. names[i] .. " == nil and _Dn < " .. (i - first + 1) .. " then "
          .. names[i] .. " = " .. const_default(params[i].default) .. " end"
      end
    end
    poscheck = concat(conds, " or ") .. " then local _Dn = _D.nargs(\"#\", ...)" .. concat(sets)
  end
  if #names == 1 then names[2] = "_Dkw" end
  return head .. " if " .. names[1] .. " ~= " .. HN.K .. " and (" .. poscheck:gsub(" then ", ") then ", 1)
    .. " end return " .. fname .. "(" .. concat(names, ", ") .. ") end"
end

local CONST = { Int = true, Float = true, String = true, Bool = true, None = true }

--- Default values: constants inline, others in `_DdN` locals of an enclosing do-block.
-- Returns defcodes (by param index) and the prefix "local _Dd1, _Dd2 = a, b" or nil.
local function defaults(g, params)
  local defcodes, dnames, dvals = EMPTY, nil, nil -- a table only for defs with defaults
  for i = 1, #params do
    local d = params[i].default
    if d then
      if defcodes == EMPTY then defcodes = {} end
      local code = E[d.tag](g, d)
      if CONST[d.tag] or is_num(d) then
        defcodes[i] = code
      else
        local dn = "_Dd" .. g:id()
        if not dnames then dnames, dvals = {}, {} end
        dnames[#dnames + 1] = dn
        dvals[#dvals + 1] = code
        defcodes[i] = dn
      end
    end
  end
  if not dnames then return defcodes, nil end
  return defcodes, "local " .. concat(dnames, ", ") .. " = " .. concat(dvals, ", ")
end

E.Lambda = function(g, e)
  local pre = e.line and e.line > g.cur and g_pre(g, e) or ""
  local params = all_params(e)
  local defcodes, dprefix = defaults(g, params)
  g:push_scope(e._scope)
  local saved = g.fn
  g.fn = { closure = 0 } -- tries: made by the first Try
  local head = {}
  func_header(g, params, e._scope, defcodes, has_nd(params) and "vararg" or nil, head)
  head = concat(head)
  local body = expr(g, e.body)
  g.fn = saved
  g:pop_scope()
  local f = head .. " return " .. body .. " end"
  if dprefix then
    return pre .. "(function() " .. dprefix .. " return " .. f .. " end)()"
  end
  return pre .. "(" .. f .. ")"
end

--- Comprehension loop header and target binding; returns "for ... do <bind>" and closer.
local function comp_loop(_, e, itercode)
  local sc = e._scope
  local names = {}
  for i, t in ipairs(e.targets) do names[i] = luaname(t.name) end
  local it = e.iter
  if not e.unpack and #e.targets == 1 and it.tag == "Call" and it.func.tag == "Name"
    and it.func.name == "range" and it.func._global and #it.kwargs == 0 and #it.args >= 1
    and #it.args <= 2 then
    return nil
  end
  local _ = sc
  if e.unpack then
    return "local _Ds = " .. HN.seq .. "(" .. itercode .. ") for _Di = 1, _Ds.n do local "
      .. concat(names, ", ")
      .. " = _D.unpack(_Ds[_Di], " .. #names .. ")"
  end
  return "local _Ds = " .. HN.seq .. "(" .. itercode .. ") for _Di = 1, _Ds.n do local " .. names[1]
    .. " = _Ds[_Di]"
end

local function comprehension(g, e, init, addcode)
  local pre = e.line and e.line > g.cur and g_pre(g, e) or ""
  local it = e.iter
  local head
  -- range fast path
  if not e.unpack and #e.targets == 1 and it.tag == "Call" and it.func.tag == "Name"
    and it.func.name == "range" and it.func._global and #it.kwargs == 0 and #it.args >= 1
    and #it.args <= 2 then
    local a1 = expr(g, it.args[1])
    local a2 = it.args[2] and expr(g, it.args[2])
    local lo, hi
    if a2 then lo, hi = "_D.rint(" .. a1 .. ")", "_D.rint(" .. a2 .. ") - 1"
    else lo, hi = "0", "_D.rint(" .. a1 .. ") - 1" end
    g:push_scope(e._scope)
    head = "for " .. luaname(e.targets[1].name) .. " = " .. lo .. ", " .. hi .. " do"
  else
    local itercode = expr(g, it)
    g:push_scope(e._scope)
    head = comp_loop(g, e, itercode)
  end
  local c = e.cond and cond(g, e.cond)
  local body = addcode(g)
  g:pop_scope()
  local inner = c and (" if " .. c .. " then " .. body .. " end") or (" " .. body)
  return pre .. "(function() local _Dr = " .. init .. " " .. head .. inner .. " end return _Dr end)()"
end

E.ListComp = function(g, e)
  return comprehension(g, e, HN.L .. "({n = 0})", function(gg)
    return "local _Dn = _Dr.n + 1 _Dr[_Dn] = " .. expr(gg, e.elt) .. " _Dr.n = _Dn"
  end)
end
E.SetComp = function(g, e)
  return comprehension(g, e, "_D.S({}, 0)", function(gg)
    return "_D.sadd(_Dr, " .. expr(gg, e.elt) .. ")"
  end)
end
E.DictComp = function(g, e)
  return comprehension(g, e, "_D.D({}, 0)", function(gg)
    local k = expr(gg, e.key)
    return "_D.dset(_Dr, " .. k .. ", " .. expr(gg, e.value) .. ")"
  end)
end

-- ---------------------------------------------------------------------------
-- Statements

local S = setmetatable({}, { __index = function(_, tag)
  error("codegen: unknown statement tag " .. tostring(tag), 2)
end })
local block

local function stmt(g, s, last)
  local line, cur = s.line, g.cur
  if line and line > cur then -- g_nl inline
    local b = g.buf
    b[#b + 1] = NEWLINES[line - cur]
    g.cur = line
  end
  S[s.tag](g, s, last)
end

block = function(g, body)
  local n = #body
  for i = 1, n do stmt(g, body[i], i == n) end
end

--- Emits a statement string, guarding a leading "(" against call ambiguity.
local function out(g, code)
  if code:match("^%s*%(") then g_emit(g, " ;" .. code) else g_emit(g, " " .. code) end
end

--- Assignment of Lua expression `v` to Dana target node t.
local function assign_code(g, t, v)
  local tag = t.tag
  if tag == "Name" or (tag == "Scoped" and t.scope == "local") then
    local l = g_lookup(g, t.name)
    if not l then error("codegen: unbound assignment target " .. t.name) end
    return g_pre(g, t) .. l .. " = " .. v
  elseif tag == "Scoped" then
    return g_pre(g, t) .. "_D.set(" .. lstr(t.scope .. ":" .. t.name) .. ", " .. v .. ")"
  elseif tag == "Attr" then
    local pre = g_pre(g, t)
    return pre .. "_D.sa(" .. expr(g, t.obj) .. ", " .. lstr(t.name) .. ", " .. v .. ")"
  elseif tag == "Index" then
    local pre = g_pre(g, t)
    local o = expr(g, t.obj)
    local ix = t.index
    if ix.tag == "Slice" then
      local lo = opt(g, ix.lower)
      local hi = opt(g, ix.upper)
      local st = opt(g, ix.step)
      return pre .. "_D.setslice(" .. o .. ", " .. lo .. ", " .. hi .. ", " .. st .. ", " .. v .. ")"
    end
    return pre .. HN.si .. "(" .. o .. ", " .. expr(g, ix) .. ", " .. v .. ")"
  end
  error("codegen: bad assignment target " .. tostring(tag))
end

--- Assigning a plain Lua name-valued expression to a Dana local name.
local function assign_name(g, name, v)
  local l = g_lookup(g, name)
  return l .. " = " .. v
end

local FAKE_NAME = { tag = "Name" } -- an operand node that arith treats as not a literal

--- For `x = A op B` / `return A op B` with complex operands: Lua code that binds the
-- operands to temporaries (in evaluation order) and the inline-checked operation on them,
-- or nil when there is nothing to gain.
local function hoisted_binop(g, e)
  if e.tag ~= "BinOp" or not (e.op == "+" or e.op == "-" or e.op == "*") then return nil end
  if g_num(g, e.left) and g_num(g, e.right) then return nil end
  local lt, rt = e.left.tag, e.right.tag
  if lt == "String" or lt == "FString" or rt == "String" or rt == "FString" or lt == "List"
    or rt == "List" then
    return nil
  end
  local pre = e.line and e.line > g.cur and g_pre(g, e) or ""
  local l = expr(g, e.left)
  local r = expr(g, e.right)
  local binds, names = {}, {}
  local ln, rn = l, r
  if not simple(l) or l:find("\n") then
    binds[#binds + 1] = l; names[#names + 1] = "_Dt1"; ln = "_Dt1"
  end
  if not simple(r) or r:find("\n") then
    binds[#binds + 1] = r; names[#names + 1] = "_Dt2"; rn = "_Dt2"
  end
  local code = arith(e.op, ln, rn, is_num(e.left) and e.left or FAKE_NAME,
    is_num(e.right) and e.right or FAKE_NAME)
  if #binds == 0 then return nil, pre .. code end
  return pre .. "local " .. concat(names, ", ") .. " = " .. concat(binds, ", "), code
end

S.Assign = function(g, s)
  -- value first in generation order would break alignment for targets on the same line;
  -- targets are simple, so generate the target's parts first (output order).
  if s.target.tag == "Name" or s.target.tag == "Scoped" then
    local l = g_lookup(g, s.target.name)
    if s.target.tag == "Scoped" and s.target.scope ~= "local" then
      g_emit(g, " _D.set(" .. lstr(s.target.scope .. ":" .. s.target.name) .. ", " .. expr(g, s.value)
        .. ")")
      return
    end
    local hb, hc = hoisted_binop(g, s.value)
    if hb then
      g_emit(g, " do " .. hb .. " " .. l .. " = " .. hc .. " end")
    elseif hc then
      g_emit(g, " " .. l .. " = " .. hc)
    else
      g_emit(g, " " .. l .. " = " .. expr(g, s.value))
    end
    return
  end
  -- attribute / item targets: object and key are generated before the value
  local t = s.target
  if t.tag == "Index" and t.index.tag ~= "Slice"
    and ((g_kind(g, t.obj, "dict") and (t.index.tag == "Name" or t.index.tag == "String"))
      or (g_kind(g, t.obj, "list") and g_kind(g, t.index, "int") and t.index.tag == "Name")) then
    local hb, hc = hoisted_binop(g, s.value)
    local v = hc or expr(g, s.value)
    local o = expr(g, t.obj)
    local k = expr(g, t.index)
    if simple(o) and not (o .. k):find("\n") then
      local fast
      if g_kind(g, t.obj, "dict") then
        fast = "local _Dj = " .. o .. ".i[" .. k .. "] if _Dj and not " .. HN.ST .. ".owned then "
          .. o .. ".v[_Dj] = _Dv"
      else
        fast = "if " .. k .. " >= 0 and " .. k .. " < " .. o .. ".n and not " .. HN.ST
          .. ".owned then " .. o .. "[" .. k .. " + 1] = _Dv"
      end
      g_emit(g, " do " .. (hb and (hb .. " ") or "") .. "local _Dv = " .. v .. " " .. fast .. " else "
        .. HN.si .. "(" .. o .. ", " .. k .. ", _Dv) end end")
      return
    end
    g_emit(g, " do " .. (hb and (hb .. " ") or "") .. HN.si .. "(" .. o .. ", " .. k .. ", " .. v
      .. ") end")
    return
  end
  if t.tag == "Index" and t.index.tag ~= "Slice" and s.value.tag == "BinOp" then
    local hb, hc = hoisted_binop(g, s.value)
    if hb then
      local o = expr(g, t.obj)
      local k = expr(g, t.index)
      g_emit(g, " do " .. hb .. " " .. HN.si .. "(" .. o .. ", " .. k .. ", " .. hc .. ") end")
      return
    elseif hc then
      local o = expr(g, t.obj)
      local k = expr(g, t.index)
      g_emit(g, " " .. HN.si .. "(" .. o .. ", " .. k .. ", " .. hc .. ")")
      return
    end
  end
  if t.tag == "Attr" then
    local o = expr(g, t.obj)
    g_emit(g, " _D.sa(" .. o .. ", " .. lstr(t.name) .. ", " .. expr(g, s.value) .. ")")
  elseif t.tag == "Index" then
    local o = expr(g, t.obj)
    local ix = t.index
    if ix.tag == "Slice" then
      local lo = opt(g, ix.lower)
      local hi = opt(g, ix.upper)
      local st = opt(g, ix.step)
      g_emit(g, " _D.setslice(" .. o .. ", " .. lo .. ", " .. hi .. ", " .. st .. ", "
        .. expr(g, s.value) .. ")")
    else
      local k = expr(g, ix)
      g_emit(g, " " .. HN.si .. "(" .. o .. ", " .. k .. ", " .. expr(g, s.value) .. ")")
    end
  else
    g_emit(g, " " .. assign_code(g, t, expr(g, s.value)))
  end
end

local function typestr(t)
  if t == nil then return "any" end
  if t.tag == "Union" then
    local p = {}
    for i, x in ipairs(t.types) do p[i] = typestr(x) end
    return concat(p, "|")
  end
  return t.name
end
C.typestr = typestr

local function target_label(t)
  if t.tag == "Scoped" then return t.scope .. ":" .. t.name end
  if t.tag == "Name" then return t.name end
  if t.tag == "Attr" then return t.name end
  return "item"
end

S.TypedAssign = function(g, s)
  local ty = typestr(s.type)
  local label = target_label(s.target)
  local t = s.target
  if t.tag == "Name" or t.tag == "Scoped" then
    local v = "_D.coerce(" .. expr(g, s.value) .. ", " .. lstr(ty) .. ", " .. lstr(label) .. ")"
    g_emit(g, " " .. assign_code(g, t, v))
    return
  end
  local tmpv
  -- attribute/index: generate object parts first via assign_code ordering
  tmpv = "_D.coerce(" .. expr(g, s.value) .. ", " .. lstr(ty) .. ", " .. lstr(label) .. ")"
  g_emit(g, " " .. assign_code(g, t, tmpv))
end

local AUG_FN = { ["+"] = "iadd", ["-"] = "sub", ["*"] = "mul", ["/"] = "div" }

S.AugAssign = function(g, s)
  local t = s.target
  local op = s.op
  local fn = op == "+" and "_D.iadd" or HN[AUG_FN[op] or ARITH_FN[op]]
  if op == "/" then fn = "_D.div" end
  if t.tag == "Name" or (t.tag == "Scoped" and t.scope == "local") then
    local cur = g_read_name(g, t, t.name)
    local l = g_lookup(g, t.name)
    local v = expr(g, s.value)
    local fake = FAKE_NAME
    local bothnum = g_num(g, t) and g_num(g, s.value) and not t._global
    if bothnum then fn = HN[ARITH_FN[op]] end
    if not bothnum and (op == "+" or op == "-" or op == "*") and not is_num(s.value)
      and (not simple(v) or v:find("\n")) and simple(cur) then
      g_emit(g, " do local _Dt2 = " .. v .. " " .. l .. " = " .. arith(op, cur, "_Dt2", fake, fake, fn)
        .. " end")
      return
    end
    g_emit(g, " " .. l .. " = " .. arith(op, cur, v, fake, s.value, fn, bothnum))
  elseif t.tag == "Scoped" then
    local k = lstr(t.scope .. ":" .. t.name)
    g_emit(g, " _D.set(" .. k .. ", " .. fn .. "(_D.get(" .. k .. "), " .. expr(g, s.value) .. "))")
  elseif t.tag == "Attr" then
    local o = expr(g, t.obj)
    local k = lstr(t.name)
    g_emit(g, " do local _Do = " .. o .. " _D.sa(_Do, " .. k .. ", " .. fn .. "(" .. HN.ga
      .. "(_Do, " .. k .. "), " .. expr(g, s.value) .. ")) end")
  elseif t.tag == "Index" then
    local o = expr(g, t.obj)
    if t.index.tag == "Slice" then error("codegen: augmented slice assignment") end
    local k = expr(g, t.index)
    g_emit(g, " do local _Do, _Dk = " .. o .. ", " .. k .. " " .. HN.si .. "(_Do, _Dk, " .. fn
      .. "(" .. HN.gi .. "(_Do, _Dk), " .. expr(g, s.value) .. ")) end")
  end
end

local function is_call(e) return e.tag == "Call" end

--- `xs.append(v)` as a statement, inline for lists (no call). Returns the code and
-- whether it is the inline `if` form.
local function append_stmt(g, e)
  local f = e.func
  if not (f and f.tag == "Attr" and f.name == "append" and #e.args == 1 and #e.kwargs == 0) then
    return nil
  end
  local pre = e.line and e.line > g.cur and g_pre(g, e) or ""
  local o = expr(g, f.obj)
  local v = expr(g, e.args[1])
  if not simple(o) or o:find("\n") or v:find("\n") then
    return pre .. HN.m_append .. "(" .. o .. ", " .. v .. ")"
  end
  local check = g_kind(g, f.obj, "list") and "" or (HN.gm .. "(" .. o .. ") == \"list\" and ")
  return pre .. "if " .. check .. "not " .. HN.ST .. ".owned then local _Dn = "
    .. o .. ".n + 1 " .. o .. "[_Dn] = " .. v .. " " .. o .. ".n = _Dn else " .. HN.m_append .. "(" .. o
    .. ", " .. v .. ") end", true
end

S.ExprStmt = function(g, s)
  local e = s.expr
  if e.tag == "Call" then
    local code, is_if = append_stmt(g, e)
    if code then
      if is_if then
        g_emit(g, " " .. code .. (g.fn.module and " _Dr = nil" or ""))
      elseif g.fn.module then
        g_emit(g, " _Dr = " .. code)
      else
        out(g, code)
      end
      return
    end
  end
  if g.fn.module then
    g_emit(g, " _Dr = " .. expr(g, e))
    return
  end
  if e.tag == "String" then return end
  if is_call(e) then
    out(g, expr(g, e))
  else
    g_emit(g, " do local _ = " .. expr(g, e) .. " end")
  end
end

S.Pass = function() end

--- `return code` honouring try closures.
local function ret_code(g, code)
  if g.fn.closure > 0 then
    g.fn.tries[g.fn.closure].ret = true
    return "return 1, " .. code
  end
  if sbyte(code, -1) == 41 then return "return (" .. code .. ")" end -- ")": no tail call, keeps the line
  return "return " .. code
end

S.Return = function(g, s, last)
  if s.value then
    local hb, hc = hoisted_binop(g, s.value)
    if hb then
      g_emit(g, " do " .. hb .. " " .. ret_code(g, hc) .. " end")
      return
    elseif hc then
      local r = ret_code(g, hc)
      if last then g_emit(g, " " .. r) else g_emit(g, " do " .. r .. " end") end
      return
    end
  end
  local v = s.value and expr(g, s.value) or "nil"
  local r = ret_code(g, v)
  if last then g_emit(g, " " .. r) else g_emit(g, " do " .. r .. " end") end
end

local function loop_jump(g, kind)
  local lp = g.loops[#g.loops]
  if not lp then error("codegen: '" .. kind .. "' outside loop") end
  if lp.closure == g.fn.closure then
    if kind == "break" then return "break" end
    lp.cont = true
    return "goto " .. lp.label
  end
  local t = g.fn.tries[g.fn.closure]
  if kind == "break" then t.brk = true; return "return 2" end
  t.cont = true
  lp.cont = true
  return "return 3"
end

S.Break = function(g, _, last)
  local c = loop_jump(g, "break")
  if c:match("^return") and not last then c = "do " .. c .. " end" end
  g_emit(g, " " .. c)
end
S.Continue = function(g, _, last)
  local c = loop_jump(g, "continue")
  if c:match("^return") and not last then c = "do " .. c .. " end" end
  g_emit(g, " " .. c)
end

S.Assert = function(g, s)
  local c = cond(g, s.test)
  if s.msg then
    g_emit(g, " if not " .. c .. " then _D.afail(" .. expr(g, s.msg) .. ", true) end")
  else
    g_emit(g, " if not " .. c .. " then _D.afail() end")
  end
end

S.Raise = function(g, s)
  if not s.exc then
    local h = g.handlers[#g.handlers]
    if h then g_emit(g, " _D.reraise(" .. h .. ")")
    else g_emit(g, ' _D.raise(_D.RuntimeError("No active exception to reraise"))') end
    return
  end
  local x = expr(g, s.exc)
  if s.cause then
    g_emit(g, " _D.raise(" .. x .. ", " .. expr(g, s.cause) .. ")")
  else
    g_emit(g, " _D.raise(" .. x .. ")")
  end
end

S.If = function(g, s)
  g_emit(g, " if " .. cond(g, s.test) .. " then")
  block(g, s.body)
  for _, e in ipairs(s.elifs) do
    g_nl(g, e.line)
    g_emit(g, " elseif " .. cond(g, e.test) .. " then")
    block(g, e.body)
  end
  if s.orelse then
    g_nl(g, s.orelse.line)
    g_emit(g, " else")
    block(g, s.orelse.body)
  end
  g_emit(g, " end")
end

--- Does body contain a `continue` for the loop owning it (not nested loops/defs)?
local function has_continue(body)
  for _, s in ipairs(body) do
    local t = s.tag
    if t == "Continue" then return true end
    if t == "If" then
      if has_continue(s.body) then return true end
      for _, e in ipairs(s.elifs) do if has_continue(e.body) then return true end end
      if s.orelse and has_continue(s.orelse.body) then return true end
    elseif t == "Try" then
      if has_continue(s.body) then return true end
      for _, h in ipairs(s.handlers) do if has_continue(h.body) then return true end end
      if s.finalbody and has_continue(s.finalbody.body) then return true end
    elseif t == "With" then
      if has_continue(s.body) then return true end
    end
  end
  return false
end

local function loop_body(g, body)
  local label = "_Dc" .. g:id()
  local lp = { label = label, closure = g.fn.closure }
  if g.loops == EMPTY then g.loops = {} end
  g.loops[#g.loops + 1] = lp
  local wrap = has_continue(body)
  if wrap then g_emit(g, " do") end
  block(g, body)
  if wrap then g_emit(g, " end ::" .. label .. "::") end
  g.loops[#g.loops] = nil
end

S.While = function(g, s)
  g_emit(g, " while " .. cond(g, s.test) .. " do")
  loop_body(g, s.body)
  g_emit(g, " end")
end

local function is_builtin_range(e)
  return e.tag == "Call" and e.func.tag == "Name" and e.func.name == "range" and e.func._global
    and #e.kwargs == 0 and #e.args >= 1 and #e.args <= 3
end

S.For = function(g, s)
  local it = s.iter
  local id = g:id()
  local bind
  if not s.unpack and #s.targets == 1 and is_builtin_range(it) then
    local a = {}
    for i, x in ipairs(it.args) do a[i] = expr(g, x) end
    local iv = "_Di" .. id
    local lo, hi, step
    local function ri(code, node)
      if node.tag == "Int" then return code end
      return "_D.rint(" .. code .. ")"
    end
    if #a == 1 then
      lo = "0"
      hi = it.args[1].tag == "Int" and numlit(it.args[1].value - 1) or (ri(a[1], it.args[1]) .. " - 1")
    elseif #a == 2 then
      lo = ri(a[1], it.args[1])
      hi = it.args[2].tag == "Int" and numlit(it.args[2].value - 1) or (ri(a[2], it.args[2]) .. " - 1")
    else
      lo = ri(a[1], it.args[1])
      local sn = it.args[3]
      if is_num(sn) and math.type(numval(sn)) == "integer" and numval(sn) ~= 0 then
        step = a[3]
        hi = ri(a[2], it.args[2]) .. (numval(sn) > 0 and " - 1" or " + 1")
      else
        step = "_D.rint(" .. a[3] .. ")"
        hi = "_D.rlast(" .. ri(a[2], it.args[2]) .. ", " .. a[3] .. ")"
      end
    end
    g_emit(g, " for " .. iv .. " = " .. lo .. ", " .. hi .. (step and (", " .. step) or "") .. " do "
      .. assign_name(g, s.targets[1].name, iv))
    loop_body(g, s.body)
    g_emit(g, " end")
    return
  end
  if s.unpack and #s.targets == 2 and it.tag == "Call" and it.func.tag == "Attr"
    and it.func.name == "items" and #it.args == 0 and #it.kwargs == 0 then
    local o = expr(g, it.func.obj)
    local k, v = "_Dk" .. id, "_Dv" .. id
    g_emit(g, " for _, " .. k .. ", " .. v .. " in _D.items2(" .. o .. ") do "
      .. g_lookup(g, s.targets[1].name) .. ", " .. g_lookup(g, s.targets[2].name) .. " = " .. k .. ", " .. v)
    loop_body(g, s.body)
    g_emit(g, " end")
    return
  end
  local itc = expr(g, it)
  local v = "_Dv" .. id
  if s.unpack then
    local ls = {}
    for i, t in ipairs(s.targets) do ls[i] = g_lookup(g, t.name) end
    bind = concat(ls, ", ") .. " = _D.unpack(" .. v .. ", " .. #s.targets .. ")"
  else
    bind = assign_name(g, s.targets[1].name, v)
  end
  local sq, ix = "_Ds" .. id, "_Di" .. id
  g_emit(g, " do local " .. sq .. " = " .. HN.seq .. "(" .. itc .. ") local " .. ix .. " = 0 while true do "
    .. ix .. " = " .. ix .. " + 1 if " .. ix .. " > " .. sq .. ".n then break end local " .. v
    .. " = " .. sq .. "[" .. ix .. "] " .. bind)
  loop_body(g, s.body)
  g_emit(g, " end end")
end

local function exc_names(h)
  local t = {}
  for i, x in ipairs(h.types) do
    local n
    if x.tag == "Name" then n = x.name
    elseif x.tag == "Attr" then n = x.name
    elseif x.tag == "Tuple" then
      for _, y in ipairs(x.elts) do t[#t + 1] = lstr(y.name or "?") end
    end
    if n then t[#t + 1] = lstr(n) end
    local _ = i
  end
  return t
end

local function flow_checks(g, ctx, ok, c, v)
  local parts = {}
  if ctx.ret then parts[#parts + 1] = c .. " == 1 then " .. ret_code(g, v) end
  if ctx.brk then parts[#parts + 1] = c .. " == 2 then " .. loop_jump(g, "break") end
  if ctx.cont then parts[#parts + 1] = c .. " == 3 then " .. loop_jump(g, "continue") end
  if #parts == 0 then return "" end
  return " if " .. ok .. " then if " .. concat(parts, " elseif ") .. " end end"
end

S.Try = function(g, s)
  local id = g:id()
  local ok, c, v = "_Dok" .. id, "_Dc" .. id, "_Dv" .. id
  local de, dr = "_De" .. id, "_Dx" .. id
  local ctx = {}
  local fn = g.fn
  if not fn.tries then fn.tries = {} end
  g_emit(g, " do local " .. ok .. ", " .. c .. ", " .. v .. " = _D.pcall(function()")
  fn.closure = fn.closure + 1
  fn.tries[fn.closure] = ctx
  block(g, s.body)
  fn.tries[fn.closure] = nil
  fn.closure = fn.closure - 1
  g_emit(g, " end)")
  local fin = s.finalbody
  if #s.handlers > 0 then
    g_emit(g, " if not " .. ok .. " then local " .. de .. ", " .. dr .. " = _D.exc(" .. c .. ")")
    if fin then
      g_emit(g, " " .. ok .. ", " .. c .. ", " .. v .. " = _D.pcall(function()")
      fn.closure = fn.closure + 1
      fn.tries[fn.closure] = ctx
    end
    if g.handlers == EMPTY then g.handlers = {} end
    g.handlers[#g.handlers + 1] = dr
    for i, h in ipairs(s.handlers) do
      g_nl(g, h.line)
      local names = exc_names(h)
      local m = "_D.match(" .. de .. (#names > 0 and (", " .. concat(names, ", ")) or "") .. ")"
      g_emit(g, (i == 1 and " if " or " elseif ") .. m .. " then")
      if h.name then g_emit(g, " " .. assign_name(g, h.name, de)) end
      block(g, h.body)
    end
    g.handlers[#g.handlers] = nil
    g_emit(g, " else _D.reraise(" .. dr .. ") end")
    if fin then
      fn.tries[fn.closure] = nil
      fn.closure = fn.closure - 1
      g_emit(g, " end)")
    end
    g_emit(g, " end")
  end
  if fin then
    g_nl(g, fin.line)
    block(g, fin.body)
    g_emit(g, " if not " .. ok .. " then _D.reraise(" .. c .. ") end")
  elseif #s.handlers == 0 then
    g_emit(g, " if not " .. ok .. " then _D.reraise(" .. c .. ") end")
  end
  g_emit(g, flow_checks(g, ctx, ok, c, v))
  g_emit(g, " end")
end

S.With = function(g, s)
  local x = expr(g, s.expr)
  if s.name then g_emit(g, " " .. assign_name(g, s.name, x))
  else g_emit(g, " do local _ = " .. x .. " end") end
  block(g, s.body)
end

S.Import = function(g, s)
  for _, a in ipairs(s.names) do
    local bind = a.asname or a.name:match("^[^.]+")
    g_emit(g, " " .. assign_name(g, bind, "_D.import(" .. lstr(a.name) .. ")"))
  end
end

S.ImportFrom = function(g, s)
  local path = srep(".", s.level or 0) .. (s.module or "")
  if s.star then
    g_emit(g, " _D.import(" .. lstr(path) .. ")")
    return
  end
  g_emit(g, " do local _Dm = _D.import(" .. lstr(path) .. ")")
  for _, a in ipairs(s.names) do
    g_emit(g, " " .. assign_name(g, a.asname or a.name, HN.ga .. "(_Dm, " .. lstr(a.name) .. ")"))
  end
  g_emit(g, " end")
end

--- Emits `function(...) body end` for a FuncDef or PipeDef (node has _scope).
local function func_text(g, f, defcodes, params, mode)
  g:push_scope(f._scope)
  local saved_fn, saved_loops, saved_handlers = g.fn, g.loops, g.handlers
  g.fn = { closure = 0 } -- tries: made by the first Try
  g.loops, g.handlers = EMPTY, EMPTY -- read only: made by the first loop or handler
  g_emit(g, " ")
  func_header(g, params, f._scope, defcodes, mode, g.buf)
  if f.tag == "PipeDef" then
    local first = params[1] and luaname(params[1].name) or "_Dkw"
    g_emit(g, " local _Dp = " .. first)
    if not params[1] then g_emit(g, " if _Dp == " .. HN.K .. " then _Dp = nil end") end
    local saved_pipe = g.pipe_cur
    g.pipe_cur = "_Dp"
    local aliases = {}
    for _, st in ipairs(f.stages) do
      g_nl(g, st.line)
      local e = st.expr
      local code
      if e.tag == "Call" then
        local uses = false
        for _, a in ipairs(e.args) do
          if a.tag == "Placeholder" then uses = true end
          if a.tag == "Name" and aliases[a.name] then uses = true end
        end
        for _, k in ipairs(e.kwargs) do
          if k.value.tag == "Placeholder" or (k.value.tag == "Name" and aliases[k.value.name]) then
            uses = true
          end
        end
        if uses then code = expr(g, e)
        else
          local args = { tag = "Placeholder", line = e.line }
          local ne = { tag = "Call", func = e.func, args = { args }, kwargs = e.kwargs, line = e.line,
            col = e.col }
          for _, a in ipairs(e.args) do ne.args[#ne.args + 1] = a end
          code = expr(g, ne)
        end
      elseif e.tag == "List" then
        local items = {}
        for i, x in ipairs(e.elts) do
          local fx = expr(g, x)
          if not fx:match("^[%a_][%w_%.]*$") then fx = "(" .. fx .. ")" end
          items[i] = fx .. "(_Dp)"
        end
        code = HN.L .. "({n = " .. #items .. ", " .. concat(items, ", ") .. "})"
      else
        local fx = expr(g, e)
        if not fx:match("^[%a_][%w_%.]*$") then fx = "(" .. fx .. ")" end
        code = fx .. "(_Dp)"
      end
      g_emit(g, " _Dp = " .. code)
      if st.alias then
        g_emit(g, " " .. g_lookup(g, st.alias) .. " = _Dp")
        aliases[st.alias] = true
      end
    end
    g.pipe_cur = saved_pipe
    g_emit(g, " return _Dp")
  else
    block(g, f.body)
  end
  g_emit(g, " end")
  g.fn, g.loops, g.handlers = saved_fn, saved_loops, saved_handlers
  g:pop_scope()
end

local BUILTIN_TYPES = { int = true, float = true, str = true, bool = true, list = true,
  dict = true, tuple = true, set = true, None = true, any = true }

local function type_names(t)
  if not t then return {} end
  if t.tag == "Union" then
    local r = {}
    for _, x in ipairs(t.types) do r[#r + 1] = x.name end
    return r
  end
  return { t.name }
end

local function funcdef(g, s, method_of)
  local params = all_params(s)
  local decos = EMPTY
  local sd = s.decorators
  if sd and #sd > 0 then
    decos = {}
    for i, d in ipairs(sd) do decos[i] = expr(g, d) end
  end
  local defcodes, dprefix = defaults(g, params)
  if dprefix then g_emit(g, " do " .. dprefix) end
  local lhs
  local mode = has_nd(params) and "vararg" or nil
  local wrapper = false
  if mode and not method_of and g.scope and g:fixed(s, g.scope.sc) then
    mode = g:fixed(s, g.scope.sc)
    wrapper = g.scope.sc.kind == "module"
  end
  if method_of then
    g_emit(g, " _D.method(" .. lstr(method_of) .. ", " .. lstr(s.name) .. ", ")
  else
    lhs = g_lookup(g, s.name)
    -- A top-level def specialised for numeric parameters also gets a generic version
    -- (on the def line): that is what later runs of the agent see.
    local fs = s._scope
    local special = false
    if not g.nonum and g.scope and g.scope.sc.kind == "module" and fs and #decos == 0 then
      local num = fs.num
      for i = 1, #params do if num[params[i].name] then special = true end end
    end
    if special then
      local buf, cur = g.buf, g.cur
      g.buf = {}
      g.nonum = true
      g_emit(g, " _D.generic(" .. lstr(s.name) .. ",")
      func_text(g, s, defcodes, params, mode and "vararg")
      wrapper = false
      g_emit(g, ")")
      g.nonum = false
      -- on the def line: its newlines become spaces (in the few pieces that have any)
      local gen, n = g.buf, #buf
      for i = 1, #gen do
        local p = gen[i]
        if find(p, "\n", 1, true) then p = p:gsub("\n", " ") end
        buf[n + i] = p
      end
      g.buf, g.cur = buf, cur
    end
    g_emit(g, " " .. lhs .. " = ")
  end
  for _, d in ipairs(decos) do g_emit(g, d .. "(") end
  func_text(g, s, defcodes, params, mode)
  for _ = 1, #decos do g_emit(g, ")") end
  if method_of then g_emit(g, ")") end
  if wrapper then
    g_emit(g, " _D.generic(" .. lstr(s.name) .. ", " .. fixed_wrapper(params, lhs, mode) .. ")")
  end
  -- method registrations (methods of a struct are registered above): receivers and first
  -- parameters typed with a non-builtin type
  if not method_of then
    local types = s.receiver and type_names(s.receiver.type)
      or params[1] and params[1].type and type_names(params[1].type) or EMPTY
    for _, n in ipairs(types) do
      if s.receiver or not BUILTIN_TYPES[n] then
        g_emit(g, " _D.method(" .. lstr(n) .. ", " .. lstr(s.name) .. ", " .. lhs .. ")")
      end
    end
  end
  if dprefix then g_emit(g, " end") end
end

S.FuncDef = function(g, s) funcdef(g, s) end
S.PipeDef = S.FuncDef

S.StructDef = function(g, s)
  local names, types, defs = {}, {}, {}
  for i, f in ipairs(s.fields) do
    names[i] = lstr(f.name)
    types[#types + 1] = key(f.name) .. lstr(typestr(f.type))
    if f.default then
      g:push_scope(f._scope)
      local saved = g.fn
      g.fn = { closure = 0 } -- tries: made by the first Try
      local d = expr(g, f.default)
      g.fn = saved
      g:pop_scope()
      defs[#defs + 1] = key(f.name) .. "function() return " .. d .. " end"
    end
  end
  local lhs = g_lookup(g, s.name)
  g_emit(g, " " .. lhs .. " = _D.struct(" .. lstr(s.name) .. ", {" .. concat(names, ", ") .. "}, {"
    .. concat(types, ", ") .. "}, {" .. concat(defs, ", ") .. "})")
  for _, d in ipairs(s.defs) do
    g_nl(g, d.line)
    funcdef(g, d, s.name)
  end
end

S.InterfaceDef = function(g, s)
  g_emit(g, " " .. g_lookup(g, s.name) .. " = _D.interface(" .. lstr(s.name) .. ")")
end

S.AgentDef = function(g, s)
  local fields = {}
  for _, b in ipairs(s.body or {}) do
    if b.tag == "Assign" and b.target.tag == "Name" then
      fields[#fields + 1] = key(b.target.name) .. expr(g, b.value)
    end
  end
  g_emit(g, " " .. g_lookup(g, s.name) .. " = _D.agentdef(" .. lstr(s.name) .. ", "
    .. (s.base and lstr(s.base) or "nil") .. ", {" .. concat(fields, ", ") .. "})")
end

-- ---------------------------------------------------------------------------
-- Module

-- ---------------------------------------------------------------------------
-- NameError suggestions from the program's own names. For every name that analysis
-- could not resolve (nothing is emitted when every name resolves), line 1 gets
-- `_D.cands({name = {"close", ...}})`: the names visible where it is read (locals of that
-- scope and of the enclosing ones, the module's included) that are close to it, by the
-- rule dana.runtime_builtins' `closest` applies to the builtins.

local function distance(a, b, lim)
  local la, lb = #a, #b
  if math.abs(la - lb) > lim then return lim + 1 end
  local prev, cur = {}, {} -- two rows, swapped
  for j = 0, lb do prev[j] = j end
  for i = 1, la do
    cur[0] = i
    local ca = sbyte(a, i)
    for j = 1, lb do
      local x = prev[j] + 1
      if cur[j - 1] + 1 < x then x = cur[j - 1] + 1 end
      local y = prev[j - 1] + ((ca == sbyte(b, j)) and 0 or 1)
      if y < x then x = y end
      cur[j] = x
    end
    prev, cur = cur, prev
  end
  return prev[lb]
end

-- Comparisons allowed per translation: suggestions are a nicety, and a crafted source
-- with many unknown reads and many names must not make translation quadratic.
local CANDIDATE_BUDGET = 20000

local function candidates(unknown)
  local byname, order = {}, {}
  local budget = CANDIDATE_BUDGET
  for _, u in ipairs(unknown) do
    if budget <= 0 then break end
    local name = u.name
    local t = byname[name]
    if not t then
      t = { seen = {}, walked = {}, list = {} }
      byname[name] = t
      order[#order + 1] = name
    end
    local len = #name
    local lim = len <= 3 and 1 or 2
    local s = u.scope
    while s do
      local sorder = s.order
      budget = budget - #sorder
      if budget <= 0 then break end
      if not t.walked[s] then -- a scope walked for this name has nothing unseen left
        t.walked[s] = true
        local seen = t.seen
        for i = 1, #sorder do
          local n = sorder[i]
          if not seen[n] then
            seen[n] = true
            local dl = #n - len -- distance's own first test, without the call
            if dl <= lim and dl >= -lim and n ~= name and distance(name, n, lim) <= lim then
              t.list[#t.list + 1] = n
            end
          end
        end
      end
      s = s.parent
    end
  end
  local parts = {}
  for _, name in ipairs(order) do
    local list = byname[name].list
    if #list > 0 then
      table.sort(list)
      for i, n in ipairs(list) do list[i] = lstr(n) end
      parts[#parts + 1] = key(name) .. "{" .. concat(list, ", ") .. "}"
    end
  end
  if #parts == 0 then return nil end
  return " _D.cands({" .. concat(parts, ", ") .. "})"
end

-- the hot helpers' line-1 locals
local PREAMBLE
do
  local hot_l, hot_r = {}, {}
  for i, h in ipairs(HOT) do
    hot_l[i] = HOTSET[h]
    hot_r[i] = "_D." .. h
  end
  PREAMBLE = "local _D = _D local " .. concat(hot_l, ", ") .. " = " .. concat(hot_r, ", ")
end

--- Generates Lua for an analysed Module. Returns the Lua source.
function C.generate(module)
  local g = setmetatable({ buf = {}, cur = 1, ids = 0, scope = nil, loops = {}, handlers = {},
    nummemo = {}, kindmemo = {}, fixedmemo = {} }, G)
  local ms = module._scope
  local spill = #ms.order > SPILL and "_Dg" or nil
  g.fn = { closure = 0, module = true }
  -- line 1: PREAMBLE, then _D.begin() (buf[2] gets the suggestions)
  local order = ms.order
  local ln -- the Lua names of the top-level locals (declared here, kept at the end)
  g_emit(g, PREAMBLE)
  g_emit(g, " _D.begin()")
  g_emit(g, " local _Dr")
  if spill then
    g_emit(g, " local _Dg = {}")
  elseif #order > 0 then
    ln = {}
    for i = 1, #order do ln[i] = LUANAME[order[i]] end
    g_emit(g, " local " .. concat(ln, ", "))
  end
  g:push_scope(ms, spill)
  local body = module.body
  if #body <= SEGMENT * 4 then
    block(g, body)
  else
    -- Very long modules: top-level statements in function segments, so that no Lua
    -- function exceeds its limits (32767 local-variable records, jump lengths).
    for i = 1, #body, SEGMENT do
      local j = math.min(i + SEGMENT - 1, #body)
      g_nl(g, body[i].line)
      g_emit(g, " ;(function()")
      for k = i, j do stmt(g, body[k], false) end
      g_emit(g, " end)()")
    end
  end
  g:pop_scope()
  -- top-level names persist in the agent for its next runs (read back through the env)
  if spill then
    g_emit(g, " _D.keepall(_Dg)")
  elseif ln then
    local qn = {}
    for i = 1, #order do qn[i] = lstr(order[i]) end
    g_emit(g, " _D.keep({" .. concat(qn, ", ") .. "}, {" .. concat(ln, ", ") .. "})")
  end
  g_emit(g, " return _Dr\n")
  -- Line-1 inserts made in the buffer, so the text is joined only once: the suggestions
  -- after _D.begin(), which clears the previous run's, and before it the local `_DN` when
  -- the text after PREAMBLE has that name anywhere (PREAMBLE has not, nor its junction
  -- with the text); that rare case joins again.
  local buf = g.buf
  local cands = module._unknown and #module._unknown > 0 and candidates(module._unknown)
  if cands then buf[2] = buf[2] .. cands end
  local text = concat(buf)
  if find(text, "_DN", #PREAMBLE + 1, true) then
    return PREAMBLE .. " local _DN = _D.N" .. text:sub(#PREAMBLE + 1)
  end
  return text
end

return C
