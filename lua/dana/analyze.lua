--- dana.analyze: scope analysis of a Dana AST, between dana.grammar and dana.codegen.
--
-- Annotates the tree in place:
--   * every scope node (`Module`, `FuncDef`, `PipeDef`, `Lambda`, comprehensions,
--     struct field defaults) gets `_scope = { kind, order = {names}, locals = {set},
--     init = {set} }`: the Dana names that are locals of that Lua function, in
--     first-assignment order; `init` names are locals read before their first
--     assignment while an enclosing scope has them (the function starts with the
--     enclosing value, Dana's "locals copied in"). `order` and `locals` are one table
--     (names are strings: the set's array part is the order).
--   * a `Name` (or `local:` `Scoped`) read that no local can satisfy gets `_global = true`:
--     codegen reads it from the Dana env (builtins, the private/public/system
--     fallback, else NameError), e.g. `print(later)` before `later = 1`.
--   * the Module gets `_unknown = { {name=, scope=}, ... }`: the reads behind the warnings
--     below with their scope, from which codegen takes NameError suggestions.
-- Returns a list of warnings `{ {name=, line=, col=}, ... }` for names that are
-- neither locals nor known builtins (they raise NameError when reached).
-- @module dana.analyze
local A = {}

local function is_local_target(t)
  return t.tag == "Name" or (t.tag == "Scoped" and t.scope == "local")
end

-- An assignment site is the node that assigns (no table of its own): an Assign or
-- AugAssign statement, a For or comprehension with one plain target, a def; anything
-- else is OTHER. SITE_KIND names what each tag means to the inference below.
-- sc.sites[name] is the name's one site, or the list { site, site, ..., other = }.
local OTHER = { tag = "Other" }
local SITE_KIND = { Assign = "assign", AugAssign = "aug", For = "for", ListComp = "for",
  SetComp = "for", DictComp = "for", FuncDef = "def", PipeDef = "def", StructDef = "def" }
local PLAIN = {} -- the site tags the inference reads
for tag, k in pairs(SITE_KIND) do PLAIN[tag] = k ~= "def" end

-- The names a loop body assigns count as assigned from the loop's start (a later
-- iteration may read them). Instead of collecting the body again, the walk marks the
-- names collect logged while in it: LOG[from + 1 .. LOG_END[loop]] with from = LOG[loop].
local LOG, LOG_END, NLOG, INLOOP = nil, nil, 0, 0 -- per analysis; LOG is made with the first loop

-- sc.locals[name] is true for a local, ASSIGNED once the walk has passed an assignment
-- to it (one table per scope instead of two).
local ASSIGNED = "assigned"

local NOSITES -- (below)
local function add(sc, name, site)
  local locals = sc.locals
  if not locals[name] then
    locals[name] = true
    locals[#locals + 1] = name -- (sc.order)
  end
  if INLOOP > 0 then
    NLOG = NLOG + 1
    LOG[NLOG] = name
  end
  if site then
    local sites = sc.sites
    if sites == NOSITES then
      sites = {}
      sc.sites = sites
    end
    local l = sites[name]
    if not l then
      sites[name] = site -- (most names have one: no list)
    else
      if l.tag then -- a second site
        l = { l, other = not PLAIN[l.tag] or nil }
        sites[name] = l
      end
      l[#l + 1] = site
      -- a site the inference cannot read (a def, OTHER): the name is no candidate
      if not PLAIN[site.tag] then l.other = true end
    end
  end
end
A.add = add

local collect_body -- (body, sc): the names body binds, into scope sc

local function collect_loop(s, sc)
  if not LOG then LOG, LOG_END = {}, {} end
  LOG[s] = NLOG
  INLOOP = INLOOP + 1
  collect_body(s.body, sc)
  INLOOP = INLOOP - 1
  LOG_END[s] = NLOG
end

collect_body = function(body, sc)
  for i = 1, #body do
    local s = body[i]
    local tag = s.tag
    if tag == "ExprStmt" or tag == "Return" then -- luacheck: ignore 542
      -- (common, and bind nothing)
    elseif tag == "Assign" or tag == "TypedAssign" or tag == "AugAssign" then
      local t = s.target
      local ttag = t.tag
      if ttag == "Name" or (ttag == "Scoped" and t.scope == "local") then -- is_local_target
        add(sc, t.name, tag == "TypedAssign" and OTHER or s)
      end
    elseif tag == "For" then
      local targets = s.targets
      for k = 1, #targets do
        add(sc, targets[k].name, (#targets == 1 and not s.unpack) and s or OTHER)
      end
      collect_loop(s, sc)
    elseif tag == "While" then
      collect_loop(s, sc)
    elseif tag == "If" then
      collect_body(s.body, sc)
      local elifs = s.elifs
      for k = 1, #elifs do collect_body(elifs[k].body, sc) end
      if s.orelse then collect_body(s.orelse.body, sc) end
    elseif tag == "Try" then
      collect_body(s.body, sc)
      for _, h in ipairs(s.handlers) do
        if h.name then add(sc, h.name, OTHER) end
        collect_body(h.body, sc)
      end
      if s.finalbody then collect_body(s.finalbody.body, sc) end
    elseif tag == "With" then
      if s.name then add(sc, s.name, OTHER) end
      collect_body(s.body, sc)
    elseif tag == "FuncDef" or tag == "PipeDef" or tag == "StructDef" then
      add(sc, s.name, s)
    elseif tag == "InterfaceDef" or tag == "AgentDef" then
      add(sc, s.name, OTHER)
    elseif tag == "Import" then
      for _, a in ipairs(s.names) do add(sc, a.asname or a.name:match("^[^.]+"), OTHER) end
    elseif tag == "ImportFrom" then
      for _, a in ipairs(s.names) do add(sc, a.asname or a.name, OTHER) end
    end
  end
end

local ALL, NALL = {}, 0 -- every scope of the current analysis, parents first (reused)

-- Shared read-only empties: most scopes (lambdas, comprehensions, small functions) never
-- get some of these, and a dozen tables per scope add up; writers replace them first.
local function empty(what) return setmetatable({}, { __newindex = function() error(what) end }) end
local NOCALLS, NOSTATIC, NOINIT, NOPARAMS, NONUM = empty("NOCALLS"), empty("NOSTATIC"),
  empty("NOINIT"), empty("NOPARAMS"), empty("NONUM")
NOSITES = empty("NOSITES")
local NOKIND = empty("NOKIND")

--- sc[key], replacing the shared empty first.
local function own(sc, key, none)
  local t = sc[key]
  if t == none then
    t = {}
    sc[key] = t
  end
  return t
end

-- A scope reads the empties through its metatable until it owns the table: a smaller
-- scope table (most scopes own none of them).
local SCOPE = { __index = { init = NOINIT, sites = NOSITES, params = NOPARAMS, num = NONUM,
  static = NOSTATIC, calls = NOCALLS, int = NOKIND, list = NOKIND, dict = NOKIND } }

local function newscope(kind, parent)
  local locals = {}
  local sc = setmetatable({ kind = kind, parent = parent, locals = locals, order = locals,
    escapes = {} }, SCOPE)
  NALL = NALL + 1
  ALL[NALL] = sc
  return sc
end

local function has_outer(sc, name)
  local s = sc.parent
  while s do
    if s.locals[name] then return true end
    s = s.parent
  end
  return false
end

local KNOWN -- builtin names (warnings only)
local WARNINGS, UNKNOWN -- of the current analysis: A.analyze's result, the Module's _unknown
local LOOPS = 0 -- loops around the statement walked, in its function (break/continue)

function A.declaring(sc, name)
  local s = sc
  while s do
    if s.locals[name] then return s end
    s = s.parent
  end
end

--- Resolves a read; returns the declaring scope (nil for a global read).
local function read_name(sc, node, name)
  local deferred = false
  local s = sc
  while s do
    local v = s.locals[name]
    if v then
      if v == ASSIGNED or deferred then return s end
      if s.kind == "func" and has_outer(s, name) then
        own(s, "init", NOINIT)[name] = true
        -- the copy-in reads the outer local as a value
        A.declaring(s.parent, name).escapes[name] = true
        return s
      end
      node._global = true
      return nil
    end
    if s.kind ~= "comp" then deferred = true end
    s = s.parent
  end
  node._global = true
  if not KNOWN[name] then
    WARNINGS[#WARNINGS + 1] = { name = name, line = node.line, col = node.col }
    UNKNOWN[#UNKNOWN + 1] = { name = name, scope = sc }
  end
end

local walk_expr, walk_body

-- WALK[tag](sc, e) walks expression e; literals have no handler (nothing to walk).
-- The hot handlers dispatch on their children directly (one call per node, none for
-- a literal).
local WALK = {}

local function walk_list(sc, list)
  for i = 1, #list do
    local e = list[i]
    local f = WALK[e.tag]
    if f then f(sc, e) end
  end
end

local function walk_params_defaults(sc, params)
  for i = 1, #params do
    local d = params[i].default
    if d then walk_expr(sc, d) end
  end
end

local function add_param(fs, name)
  add(fs, name)
  fs.locals[name] = ASSIGNED
  fs.params[name] = true
end

local function func_scope(sc, node, params, receiver)
  local fs = newscope("func", sc)
  if receiver or #params > 0 then fs.params = {} end
  if receiver then add_param(fs, receiver.name) end
  for i = 1, #params do add_param(fs, params[i].name) end
  node._scope = fs
  return fs
end

local function comp(sc, node)
  walk_expr(sc, node.iter)
  local cs = newscope("comp", sc)
  local targets = node.targets
  for i = 1, #targets do
    local name = targets[i].name
    add(cs, name, (#targets == 1 and not node.unpack) and node or OTHER)
    cs.locals[name] = ASSIGNED
  end
  node._scope = cs
  if node.cond then walk_expr(cs, node.cond) end
  if node.tag == "DictComp" then
    walk_expr(cs, node.key)
    walk_expr(cs, node.value)
  else
    walk_expr(cs, node.elt)
  end
end

WALK.Name = function(sc, e) -- the most common node
  local name = e.name
  if sc.locals[name] == ASSIGNED then -- read_name's usual answer: sc itself
    sc.escapes[name] = true
  else
    local d = read_name(sc, e, name)
    if d then d.escapes[name] = true end
  end
end
WALK.Scoped = function(sc, e)
  if e.scope == "local" then read_name(sc, e, e.name) end
end
WALK.FString = function(sc, e)
  local parts = e.parts
  for i = 1, #parts do
    local p = parts[i]
    if p.tag == "FExpr" then walk_expr(sc, p.expr) end
  end
end
WALK.List = function(sc, e) walk_list(sc, e.elts) end
WALK.Tuple, WALK.Set = WALK.List, WALK.List
WALK.Dict = function(sc, e)
  local ks, vs = e.keys, e.values
  for i = 1, #ks do
    walk_expr(sc, ks[i])
    walk_expr(sc, vs[i])
  end
end
WALK.ListComp = function(sc, e) comp(sc, e) end
WALK.SetComp, WALK.DictComp = WALK.ListComp, WALK.ListComp
WALK.Lambda = function(sc, e)
  walk_params_defaults(sc, e.params)
  local fs = func_scope(sc, e, e.params, e.receiver)
  walk_expr(fs, e.body)
end
WALK.IfExp = function(sc, e)
  walk_expr(sc, e.test)
  walk_expr(sc, e.body)
  walk_expr(sc, e.orelse)
end
WALK.BinOp = function(sc, e)
  local l, r = e.left, e.right
  local f = WALK[l.tag]
  if f then f(sc, l) end
  f = WALK[r.tag]
  if f then f(sc, r) end
end
WALK.BoolOp, WALK.Compare = WALK.BinOp, WALK.BinOp
WALK.UnOp = function(sc, e) walk_expr(sc, e.operand) end
WALK.Call = function(sc, e)
  local f = e.func
  if f.tag == "Name" then
    local name = f.name
    local d = sc.locals[name] == ASSIGNED and sc or read_name(sc, f, name) -- (as WALK.Name)
    if d then
      local calls = d.calls
      if calls == NOCALLS then calls = {}; d.calls = calls end
      local l = calls[name]
      if not l then l = {}; calls[name] = l end
      l[#l + 1] = e -- pairs: the call, the scope it is in
      l[#l + 1] = sc
    end
  else
    walk_expr(sc, f)
  end
  local args = e.args
  for i = 1, #args do -- (walk_list, inline: calls are common)
    local a = args[i]
    local w = WALK[a.tag]
    if w then w(sc, a) end
  end
  local kw = e.kwargs
  for i = 1, #kw do walk_expr(sc, kw[i].value) end
end
WALK.Attr = function(sc, e)
  local o = e.obj
  local f = WALK[o.tag]
  if f then f(sc, o) end
end
WALK.Index = function(sc, e)
  walk_expr(sc, e.obj)
  walk_expr(sc, e.index)
end
WALK.Slice = function(sc, e)
  if e.lower then walk_expr(sc, e.lower) end
  if e.upper then walk_expr(sc, e.upper) end
  if e.step then walk_expr(sc, e.step) end
end

walk_expr = function(sc, e)
  if e ~= nil then
    local f = WALK[e.tag]
    if f then return f(sc, e) end
  end
end

local function assign_target(sc, t)
  if is_local_target(t) then sc.locals[t.name] = ASSIGNED
  elseif t.tag == "Attr" then walk_expr(sc, t.obj)
  elseif t.tag == "Index" then
    walk_expr(sc, t.obj)
    walk_expr(sc, t.index)
  end
end

local function premark(sc, loop)
  local locals = sc.locals
  for i = LOG[loop] + 1, LOG_END[loop] do locals[LOG[i]] = ASSIGNED end
end

--- A statement Python rejects where it stands ('return' outside a function, 'break' or
-- 'continue' outside a loop): raised as a table that dana.translate turns into a
-- SyntaxError at the statement (Lua would reject the generated code with its own words).
local function syntax_error(node, msg)
  error({ dana_syntax_error = true, line = node.line, col = node.col, msg = msg }, 0)
end

local function loop_body(sc, body)
  LOOPS = LOOPS + 1
  walk_body(sc, body)
  LOOPS = LOOPS - 1
end

local function func_body(fs, body) -- loops outside a def do not reach into it
  local loops = LOOPS
  LOOPS = 0
  walk_body(fs, body)
  LOOPS = loops
end

local function walk_func(sc, s)
  local decorators = s.decorators
  if decorators then walk_list(sc, decorators) end
  walk_params_defaults(sc, s.params)
  sc.locals[s.name] = ASSIGNED
  local fs = func_scope(sc, s, s.params, s.receiver)
  if s.tag == "FuncDef" then
    fs.returns = {}
    fs.fnode = s
    collect_body(s.body, fs)
    func_body(fs, s.body)
  else -- PipeDef
    for _, stage in ipairs(s.stages) do
      if stage.alias then add(fs, stage.alias) end
    end
    for _, stage in ipairs(s.stages) do
      walk_expr(fs, stage.expr)
      if stage.alias then fs.locals[stage.alias] = ASSIGNED end
    end
  end
end

--- Walks the statements of body in scope sc.
walk_body = function(sc, body)
  for i = 1, #body do
    local s = body[i]
    local tag = s.tag
    if tag == "Assign" or tag == "TypedAssign" then
      local v = s.value
      local f = WALK[v.tag]
      if f then f(sc, v) end
      local t = s.target
      if t.tag == "Name" then sc.locals[t.name] = ASSIGNED -- the usual target, inline
      else assign_target(sc, t) end
    elseif tag == "AugAssign" then
      walk_expr(sc, s.value)
      local t = s.target
      if is_local_target(t) then
        read_name(sc, t, t.name)
        sc.locals[t.name] = ASSIGNED
      else
        assign_target(sc, t)
      end
    elseif tag == "ExprStmt" then
      local e = s.expr
      local f = WALK[e.tag]
      if f then f(sc, e) end
    elseif tag == "Assert" then
      walk_expr(sc, s.test)
      walk_expr(sc, s.msg)
    elseif tag == "Return" then
      if sc.kind == "module" then syntax_error(s, "'return' outside function") end
      walk_expr(sc, s.value)
      if sc.returns then sc.returns[#sc.returns + 1] = s end
    elseif tag == "Break" then
      if LOOPS == 0 then syntax_error(s, "'break' outside loop") end
    elseif tag == "Continue" then
      if LOOPS == 0 then syntax_error(s, "'continue' not properly in loop") end
    elseif tag == "Raise" then
      walk_expr(sc, s.exc)
      walk_expr(sc, s.cause)
    elseif tag == "If" then
      walk_expr(sc, s.test)
      walk_body(sc, s.body)
      for _, e in ipairs(s.elifs) do
        walk_expr(sc, e.test)
        walk_body(sc, e.body)
      end
      if s.orelse then walk_body(sc, s.orelse.body) end
    elseif tag == "While" then
      premark(sc, s)
      walk_expr(sc, s.test)
      loop_body(sc, s.body)
    elseif tag == "For" then
      walk_expr(sc, s.iter)
      local targets = s.targets
      for k = 1, #targets do sc.locals[targets[k].name] = ASSIGNED end
      premark(sc, s)
      loop_body(sc, s.body)
    elseif tag == "Try" then
      walk_body(sc, s.body)
      for _, h in ipairs(s.handlers) do
        walk_list(sc, h.types)
        if h.name then sc.locals[h.name] = ASSIGNED end
        walk_body(sc, h.body)
      end
      if s.finalbody then walk_body(sc, s.finalbody.body) end
    elseif tag == "With" then
      walk_expr(sc, s.expr)
      if s.name then sc.locals[s.name] = ASSIGNED end
      walk_body(sc, s.body)
    elseif tag == "FuncDef" or tag == "PipeDef" then walk_func(sc, s)
    elseif tag == "StructDef" then
      sc.locals[s.name] = ASSIGNED
      for _, f in ipairs(s.fields) do
        if f.default then
          local fs = newscope("func", sc)
          f._scope = fs
          walk_expr(fs, f.default)
        end
      end
      for _, d in ipairs(s.defs) do
        walk_params_defaults(sc, d.params)
        local fs = func_scope(sc, d, d.params, d.receiver)
        if d.tag == "FuncDef" then
          collect_body(d.body, fs)
          func_body(fs, d.body)
        else
          for _, stage in ipairs(d.stages) do
            if stage.alias then add(fs, stage.alias) end
            walk_expr(fs, stage.expr)
            if stage.alias then fs.locals[stage.alias] = ASSIGNED end
          end
        end
      end
    elseif tag == "AgentDef" then
      for _, b in ipairs(s.body or {}) do
        if b.tag == "Assign" then walk_expr(sc, b.value) end
      end
      sc.locals[s.name] = ASSIGNED
    elseif tag == "InterfaceDef" then
      sc.locals[s.name] = ASSIGNED
    elseif tag == "Import" then
      for _, a in ipairs(s.names) do sc.locals[a.asname or a.name:match("^[^.]+")] = ASSIGNED end
    elseif tag == "ImportFrom" then
      for _, a in ipairs(s.names) do sc.locals[a.asname or a.name] = ASSIGNED end
    end
  end
end

-- ---------------------------------------------------------------------------
-- Numeric inference: a local is numeric when every assignment to it stores a number
-- (literals, arithmetic on numerics, range() loop variables, len()/int()/float()/round()).
-- Codegen then emits plain Lua arithmetic for it. Python arithmetic never yields a bool,
-- so such values are never True/False either.

local declaring = A.declaring

-- The inference fixpoints (numeric names, parameters and returns; int kinds) are
-- optimistic: every candidate fact starts true and is dropped when a check fails.
-- A fact only depends positively on others, so any order of dropping ends the same.
-- While a candidate is checked, every true fact it reads is recorded in DEPS (watch),
-- and dropping a fact re-checks just its readers. Most locals read no such fact: a
-- local's candidate record is only made when it first reads one. A local whose first
-- check reads none (or only final ones) can never be dropped: its facts become FINAL
-- instead of true, and reading a final fact records nothing (straight-line code reads
-- locals decided before it).
local FINAL = "final"
local CHECKING = false -- in the fixpoint (codegen's calls record nothing)
local CUR -- the candidate being checked; nil for a local that has no record yet:
local LOCAL_SC, LOCAL_K, LOCAL_SITES -- ... this one
local check_local -- (sc, name, sites)
local DEPS -- DEPS[t][k] = candidates that read the true fact t[k]; nil until the first
local WORK, NWORK -- candidates to re-check (WORK: made with DEPS)

local function watch(t, k)
  local c = CUR
  if not c then
    c = { check = check_local, sc = LOCAL_SC, k = LOCAL_K, x = LOCAL_SITES }
    CUR = c
  end
  local deps = DEPS
  if not deps then -- (most analyses have no dependent facts)
    deps = {}
    DEPS, WORK = deps, {}
  end
  local by = deps[t]
  if not by then
    by = {}
    deps[t] = by
  end
  local l = by[k]
  if not l then by[k] = { c }
  elseif l[#l] ~= c then l[#l + 1] = c end
end

local NUMFN = { len = true, int = true, float = true, round = true }
local NUMOP = { ["+"] = true, ["-"] = true, ["*"] = true, ["/"] = true, ["//"] = true,
  ["%"] = true, ["**"] = true }

local function is_builtin_call(e, sc, names)
  return e.tag == "Call" and e.func.tag == "Name" and e.func._global and names[e.func.name]
    and not declaring(sc, e.func.name) and #e.kwargs == 0
end
A.is_builtin_call = is_builtin_call

local mapped_args

--- Is expression e (in analysis scope sc) statically a number?
local function numeric(e, sc)
  local t = e.tag
  if t == "Int" or t == "Float" then return true end
  if t == "Name" or (t == "Scoped" and e.scope == "local") then
    if e._global then return false end
    local name = e.name
    local d = declaring(sc, name)
    if d == nil then return false end
    local v = d.num[name]
    if not v then return false end
    if CHECKING and v ~= FINAL then watch(d.num, name) end
    return true
  end
  if t == "UnOp" then return e.op ~= "not" and numeric(e.operand, sc) end
  if t == "BinOp" then return NUMOP[e.op] and numeric(e.left, sc) and numeric(e.right, sc) end
  if t == "IfExp" then return numeric(e.body, sc) and numeric(e.orelse, sc) end
  if t == "Call" then
    if is_builtin_call(e, sc, NUMFN) then return true end
    local f = e.func
    if f.tag == "Name" and not f._global then
      local d = declaring(sc, f.name)
      local node = d and d.static[f.name]
      local fs = node and node._scope
      -- (positional arguments always map: no need to build the slots)
      if fs and fs.ret_num and (#e.kwargs == 0 or mapped_args(e, node)) then
        if CHECKING then watch(fs, "ret_num") end
        return true
      end
    end
  end
  return false
end
A.numeric = numeric

-- Container and int kinds of locals (plain locals only, not parameters): the sets
-- sc.int, sc.list, sc.dict.
local INTFN = { len = true, int = true }
local ROUNDFN = { round = true }
local LISTFN = { list = true, sorted = true }
local DICTFN = { dict = true }
local INTOP = { ["+"] = true, ["-"] = true, ["*"] = true, ["//"] = true, ["%"] = true }
local kind_of -- (e, sc, which) -> boolean

local function name_kind(e, sc, which)
  if e._global then return false end
  local name = e.name
  local d = declaring(sc, name)
  if d == nil then return false end
  local t = d[which]
  local v = t[name]
  if not v then return false end
  if CHECKING and v ~= FINAL then watch(t, name) end
  return true
end

kind_of = function(e, sc, which)
  local t = e.tag
  if t == "Name" or (t == "Scoped" and e.scope == "local") then return name_kind(e, sc, which) end
  if which == "int" then
    if t == "Int" then return true end
    if t == "UnOp" then return e.op == "-" and kind_of(e.operand, sc, "int") end
    if t == "BinOp" then return INTOP[e.op] and kind_of(e.left, sc, "int") and kind_of(e.right, sc, "int") end
    if t == "IfExp" then return kind_of(e.body, sc, "int") and kind_of(e.orelse, sc, "int") end
    if t == "Call" then
      return is_builtin_call(e, sc, INTFN) or (is_builtin_call(e, sc, ROUNDFN) and #e.args == 1)
    end
    return false
  elseif which == "list" then
    return t == "List" or t == "ListComp" or (t == "Call" and is_builtin_call(e, sc, LISTFN))
  else
    return t == "Dict" or t == "DictComp" or (t == "Call" and is_builtin_call(e, sc, DICTFN))
  end
end
A.kind_of = kind_of

local RANGE = { range = true }

--- Does a body always end in `return <value>` (no falling off the end)?
local function always_returns(body)
  local last = body[#body]
  if not last then return false end
  if last.tag == "Return" then return last.value ~= nil end
  if last.tag == "If" then
    if not last.orelse or not always_returns(last.body) or not always_returns(last.orelse.body) then
      return false
    end
    for _, e in ipairs(last.elifs) do
      if not always_returns(e.body) then return false end
    end
    return true
  end
  return false
end

local function param_names(node)
  local t = {}
  if node.receiver then t[1] = node.receiver end
  local params = node.params
  for i = 1, #params do t[#t + 1] = params[i] end
  return t
end

local function param_index(params)
  local index = {}
  for i = 1, #params do index[params[i].name] = i end
  return index
end

--- mapped_args with the param_names and param_index of the def.
local function map_args(call, params, index)
  local last = #call.args
  if last > #params then last = #params end
  local slots = {}
  for i = 1, last do slots[i] = call.args[i] end
  local kwargs = call.kwargs
  for j = 1, #kwargs do
    local k = kwargs[j]
    local i = index[k.name]
    if not i or i <= last then return nil end
    slots[i] = k.value
    last = i
  end
  return slots, params
end

--- Arguments of a call to `node` in positional order (nil = missing), or nil if the
-- keywords cannot be mapped at compile time (same rule as codegen's static calls).
mapped_args = function(call, node)
  local params = param_names(node)
  return map_args(call, params, param_index(params))
end
A.mapped_args = mapped_args

local BASETYPE = { int = 1, float = 1, str = 1, bool = 1, list = 1, dict = 1, tuple = 1, set = 1,
  None = 1, any = 1 }

local function registers_method(node)
  if node.receiver then return true end
  local p = node.params[1]
  if p and p.type then
    local t = p.type
    if t.tag == "Union" then return true end
    if not BASETYPE[t.name] then return true end
  end
  return false
end

A.registers_method = registers_method

--- Drops fact t[k] and queues the candidates that read it.
local function drop(t, k)
  t[k] = nil
  local by = DEPS and DEPS[t]
  local readers = by and by[k]
  if readers then
    for i = 1, #readers do
      local r = readers[i]
      if not r.queued then
        r.queued = true
        NWORK = NWORK + 1
        WORK[NWORK] = r
      end
    end
  end
end

-- Each of these reads every site of l = sc.sites[name]: l[i], or l itself when it is the
-- one site (l.tag). The sites of a candidate are all "assign", "aug" or "for".

--- Do all sites store a value `is_kind` accepts (`ops`: the augmented operators that keep it)?
local function sites_store(l, sc, is_kind, ops)
  local one = l.tag
  for i = 1, one and 1 or #l do
    local site = one and l or l[i]
    local k = SITE_KIND[site.tag]
    local ok
    if k == "assign" then ok = is_kind(site.value, sc)
    elseif k == "aug" then ok = ops[site.op] and is_kind(site.value, sc)
    else ok = k == "for" and is_builtin_call(site.iter, sc, RANGE) end
    if not ok then return false end
  end
  return true
end

local function is_int(e, sc) return kind_of(e, sc, "int") end
--- Do all sites store a number? an int?
local function sites_numeric(l, sc) return sites_store(l, sc, numeric, NUMOP) end
local function sites_int(l, sc) return sites_store(l, sc, is_int, INTOP) end

-- The values kind_of(, "list" / "dict") can say yes to.
local MAYBOX = { List = true, ListComp = true, Dict = true, DictComp = true, Call = true,
  Name = true, Scoped = true }

--- "list" or "dict" when all sites store that container, else nil (a value is never both;
-- an AugAssign `+=` keeps a list).
local function sites_container(l, sc)
  local one = l.tag
  local kind
  for i = 1, one and 1 or #l do
    local site = one and l or l[i]
    local k = SITE_KIND[site.tag]
    local this
    if k == "assign" then
      local v = site.value
      if not MAYBOX[v.tag] then return nil end
      if kind_of(v, sc, "list") then this = "list"
      elseif kind_of(v, sc, "dict") then this = "dict" end
    elseif k == "aug" and site.op == "+" then
      this = "list"
    end
    if not this or (kind and this ~= kind) then return nil end
    kind = this
  end
  return kind
end

-- The values numeric() and kind_of(, "int") can say yes to: any other is no number and
-- no int whatever the facts (and they read none).
local MAYNUM = { Int = true, Float = true, Name = true, Scoped = true, UnOp = true, BinOp = true,
  IfExp = true, Call = true }

--- Does some site fail both the numeric and the int check without reading a fact? Then
-- the local is no candidate for either: the fixpoint would drop both at once.
local function never_numeric(l, sc)
  local one = l.tag
  for i = 1, one and 1 or #l do
    local site = one and l or l[i]
    if SITE_KIND[site.tag] == "for" then
      if not is_builtin_call(site.iter, sc, RANGE) then return true end
    elseif not MAYNUM[site.value.tag] then
      return true
    end
  end
  return false
end

-- Checks: each re-checks the facts of its candidate that still hold.
check_local = function(sc, name, sites)
  local num, it = sc.num, sc.int
  if num[name] and not sites_numeric(sites, sc) then
    drop(num, name)
    -- kind_of's int rules are numeric's, narrowed: no number, no int (no need to check)
    if it[name] then drop(it, name) end
  elseif it[name] and not sites_int(sites, sc) then
    drop(it, name)
  end
end

local function check_param(fs, name, idx) -- every call passes a number (or a numeric default)
  if not fs.num[name] then return end
  local sites = fs.sites[name]
  local ok = not sites or sites_numeric(sites, fs)
  local p = fs.pnodes[idx]
  local callsites = fs.callsites
  for i = 1, #callsites do
    if not ok then break end
    local a = callsites[i].slots[idx]
    if a == nil then ok = p.default ~= nil and numeric(p.default, fs.parent)
    else ok = numeric(a, callsites[i].scope) end
  end
  if not ok then drop(fs.num, name) end
end

local function check_ret(fs)
  if not fs.ret_num then return end
  local returns = fs.returns
  for i = 1, #returns do
    local v = returns[i].value -- nil for a bare `return`: None, not a number
    if v == nil or not numeric(v, fs) then return drop(fs, "ret_num") end
  end
end

-- The candidates of the current analysis, reused (cleared after each): parallel arrays of
-- the local candidates' scope, name, sites; CANDS: the other candidates' records.
local LSC, LNAME, LSITES, CANDS = {}, {}, {}, {}

--- Checks every candidate once, then re-checks readers of dropped facts until none drops.
local function fixpoint(n)
  CHECKING, NWORK = true, 0
  local lsc, lname, lsites = LSC, LNAME, LSITES
  for i = 1, n do
    local sc, name = lsc[i], lname[i]
    CUR, LOCAL_SC, LOCAL_K, LOCAL_SITES = nil, sc, name, lsites[i]
    check_local(sc, name, lsites[i])
    if not CUR then -- read no fact that may still drop: final
      local num, it = sc.num, sc.int
      if num[name] then num[name] = FINAL end
      if it[name] then it[name] = FINAL end
    end
    lsc[i], lname[i], lsites[i] = nil, nil, nil
  end
  local cands = CANDS
  for i = 1, #cands do
    local c = cands[i]
    CUR = c
    c.check(c.sc, c.k, c.x)
    cands[i] = nil
  end
  while NWORK > 0 do
    local c = WORK[NWORK]
    WORK[NWORK] = nil
    NWORK = NWORK - 1
    c.queued = false
    CUR = c
    c.check(c.sc, c.k, c.x)
  end
  CHECKING, CUR, LOCAL_SC, LOCAL_K, LOCAL_SITES, DEPS, WORK = false, nil, nil, nil, nil, nil, nil
end

--- Queues the plain locals of sc (first-assignment order, not pairs(): the output must
-- not vary) and decides their list / dict kinds; finds its static defs. Returns the new
-- count of LSC.
local function local_candidates(sc, n)
  local sites, params, init = sc.sites, sc.params, sc.init
  local num, it = sc.num, sc.int
  local order = sc.order
  for o = 1, #order do
    local name = order[o]
    local l = sites[name]
    local cand = l and not params[name] and not init[name]
    local single = cand and l.tag -- (the tag of its one site)
    local plain
    if single then plain = PLAIN[single] else plain = cand and not l.other end
    if plain then
      if not never_numeric(l, sc) then
        if num == NONUM then num = own(sc, "num", NONUM) end
        if it == NOKIND then it = own(sc, "int", NOKIND) end
        num[name] = true
        it[name] = true
        n = n + 1
        LSC[n], LNAME[n], LSITES[n] = sc, name, l
      end
      -- list / dict kinds: one pass, in this order (a name assigned from another
      -- local sees that local's kind only when it was decided before)
      local kind = sites_container(l, sc)
      if kind then own(sc, kind, NOKIND)[name] = true end
    elseif single and SITE_KIND[single] == "def" then
      if not (l.decorators and #l.decorators > 0) then own(sc, "static", NOSTATIC)[name] = l end
    end
  end
  return n
end

--- Queues the return and parameter candidates of the static FuncDefs of sc.
local function def_candidates(sc)
  local cands = CANDS
  for name, node in pairs(sc.static) do
    if node.tag == "FuncDef" and node._scope then
      local fs = node._scope
      fs.ret_num = always_returns(node.body)
      if fs.ret_num then cands[#cands + 1] = { check = check_ret, sc = fs } end
      -- parameters: numeric candidates when every use of the function is a mappable call
      local calls = sc.calls[name]
      local ok = not sc.escapes[name] and not registers_method(node) and calls ~= nil
        and #calls > 0
      local sites_ok, params, index
      if ok then
        sites_ok, params = {}, param_names(node)
        index = param_index(params)
        for i = 1, #calls, 2 do
          local slots = map_args(calls[i], params, index)
          if not slots then ok = false break end
          sites_ok[#sites_ok + 1] = { slots = slots, scope = calls[i + 1] }
        end
      end
      if ok then
        fs.callsites = sites_ok
        fs.pnodes = params
        for i = 1, #params do
          local p = params[i]
          if index[p.name] == i then -- a repeated name: its last position, once
            own(fs, "num", NONUM)[p.name] = true
            cands[#cands + 1] = { check = check_param, sc = fs, k = p.name, x = i }
          end
        end
      end
      fs.fname = name
    end
  end
end

--- Numeric and kind inference over every scope (parents first), after the walk.
local function finish(scopes, nscopes)
  local n = 0
  for s = 1, nscopes do
    local sc = scopes[s]
    scopes[s] = nil
    if sc.sites ~= NOSITES then n = local_candidates(sc, n) end -- (add owns it at the first site)
    if sc.static ~= NOSTATIC then def_candidates(sc) end
  end
  fixpoint(n)
end

--- Analyses a Module in place; `known` is a set of names the env provides.
function A.analyze(module, known)
  KNOWN = known or {}
  for i = 1, NALL do ALL[i] = nil end -- (left by an analysis that raised)
  NALL = 0
  LOG, LOG_END, NLOG, INLOOP = nil, nil, 0, 0
  WARNINGS, UNKNOWN, LOOPS = {}, {}, 0
  local ms = newscope("module", nil)
  collect_body(module.body, ms)
  module._scope = ms
  module._unknown = UNKNOWN
  walk_body(ms, module.body)
  finish(ALL, NALL) -- (clears ALL)
  NALL = 0
  local warnings = WARNINGS
  LOG, LOG_END, WARNINGS, UNKNOWN = nil, nil, nil, nil
  return warnings
end

return A
