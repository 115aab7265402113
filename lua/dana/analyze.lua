--- dana.analyze: scope analysis of a Dana AST, between dana.grammar and dana.codegen.
--
-- Annotates the tree in place:
--   * every scope node (`Module`, `FuncDef`, `PipeDef`, `Lambda`, comprehensions,
--     struct field defaults) gets `_scope = { kind, order = {names}, locals = {set},
--     init = {set} }`: the Dana names that are locals of that Lua function, in
--     first-assignment order; `init` names are locals read before their first
--     assignment while an enclosing scope has them (the function starts with the
--     enclosing value, Dana's "locals copied in").
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
local OTHER = {}
local SITE_KIND = { Assign = "assign", AugAssign = "aug", For = "for", ListComp = "for",
  SetComp = "for", DictComp = "for", FuncDef = "def", PipeDef = "def", StructDef = "def" }
local PLAIN = {} -- the site tags the inference reads
for tag, k in pairs(SITE_KIND) do PLAIN[tag] = k ~= "def" end

local collect_stmt
local function collect_body(body, sc)
  for i = 1, #body do collect_stmt(body[i], sc) end
end
local NOSITES -- (below)
local function add(sc, name, site)
  local locals = sc.locals
  if not locals[name] then
    locals[name] = true
    local order = sc.order
    order[#order + 1] = name
  end
  local sites = sc.sites
  if site and sites then -- (premark collects names only: no sites)
    if sites == NOSITES then
      sites = {}
      sc.sites = sites
    end
    local l = sites[name]
    if not l then
      l = {}
      sites[name] = l
    end
    l[#l + 1] = site
    -- a site the inference cannot read (a def, OTHER): the name is no candidate
    if not PLAIN[site.tag] then l.other = true end
  end
end
A.add = add

collect_stmt = function(s, sc)
  local tag = s.tag
  if tag == "ExprStmt" or tag == "Return" then return end -- common, and bind nothing
  if tag == "Assign" or tag == "TypedAssign" or tag == "AugAssign" then
    local t = s.target
    local ttag = t.tag
    if ttag == "Name" or (ttag == "Scoped" and t.scope == "local") then -- is_local_target
      local site
      if not sc.sites then site = nil -- premark: names only
      elseif tag == "Assign" or tag == "AugAssign" then site = s
      else site = OTHER end
      add(sc, t.name, site)
    end
  elseif tag == "For" then
    local targets = s.targets
    for i = 1, #targets do
      add(sc, targets[i].name, sc.sites and ((#targets == 1 and not s.unpack) and s or OTHER))
    end
    collect_body(s.body, sc)
  elseif tag == "While" then
    collect_body(s.body, sc)
  elseif tag == "If" then
    collect_body(s.body, sc)
    local elifs = s.elifs
    for i = 1, #elifs do collect_body(elifs[i].body, sc) end
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
    add(sc, s.name, sc.sites and s)
  elseif tag == "InterfaceDef" or tag == "AgentDef" then
    add(sc, s.name, OTHER)
  elseif tag == "Import" then
    for _, a in ipairs(s.names) do add(sc, a.asname or a.name:match("^[^.]+"), OTHER) end
  elseif tag == "ImportFrom" then
    for _, a in ipairs(s.names) do add(sc, a.asname or a.name, OTHER) end
  end
end

local ALL -- every scope of the current analysis, parents first

-- Shared read-only empties: most scopes (lambdas, comprehensions, small functions) never
-- get some of these, and a dozen tables per scope add up; writers replace them first.
local function empty(what) return setmetatable({}, { __newindex = function() error(what) end }) end
local NOCALLS, NOSTATIC, NOINIT, NOPARAMS, NONUM = empty("NOCALLS"), empty("NOSTATIC"),
  empty("NOINIT"), empty("NOPARAMS"), empty("NONUM")
NOSITES = empty("NOSITES")
local NOKIND = empty("NOKIND")
local NOKINDS = { int = NOKIND, list = NOKIND, dict = NOKIND }

--- sc[key], replacing the shared empty first.
local function own(sc, key, none)
  local t = sc[key]
  if t == none then
    t = {}
    sc[key] = t
  end
  return t
end

local function newscope(kind, parent)
  local sc = { kind = kind, parent = parent, locals = {}, order = {}, assigned = {}, init = NOINIT,
    sites = NOSITES, params = NOPARAMS, num = NONUM, static = NOSTATIC, escapes = {},
    calls = NOCALLS, kinds = NOKINDS }
  ALL[#ALL + 1] = sc
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

function A.declaring(sc, name)
  local s = sc
  while s do
    if s.locals[name] then return s end
    s = s.parent
  end
end

--- Resolves a read; returns the declaring scope (nil for a global read).
local function read_name(st, sc, node, name)
  local deferred = false
  local s = sc
  while s do
    if s.locals[name] then
      if s.assigned[name] or deferred then return s end
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
    st.warnings[#st.warnings + 1] = { name = name, line = node.line, col = node.col }
    st.unknown[#st.unknown + 1] = { name = name, scope = sc }
  end
end

local walk_expr, walk_body, walk_stmt

-- WALK[tag](st, sc, e) walks expression e; the hot handlers dispatch on their children
-- directly (one call per node instead of two).
local function skip() end -- literals: nothing to walk
local WALK = setmetatable({ Int = skip, Float = skip, String = skip, Bool = skip, None = skip,
  Placeholder = skip }, { __index = function() return skip end })

local function walk_list(st, sc, list)
  for i = 1, #list do
    local e = list[i]
    WALK[e.tag](st, sc, e)
  end
end

local function walk_params_defaults(st, sc, params)
  for i = 1, #params do
    local d = params[i].default
    if d then walk_expr(st, sc, d) end
  end
end

local function add_param(fs, name)
  add(fs, name)
  fs.assigned[name] = true
  fs.params[name] = true
end

local function func_scope(_, sc, node, params, receiver)
  local fs = newscope("func", sc)
  if receiver or #params > 0 then fs.params = {} end
  if receiver then add_param(fs, receiver.name) end
  for i = 1, #params do add_param(fs, params[i].name) end
  node._scope = fs
  return fs
end

local function comp(st, sc, node)
  walk_expr(st, sc, node.iter)
  local cs = newscope("comp", sc)
  local targets = node.targets
  for i = 1, #targets do
    local name = targets[i].name
    add(cs, name, (#targets == 1 and not node.unpack) and node or OTHER)
    cs.assigned[name] = true
  end
  node._scope = cs
  if node.cond then walk_expr(st, cs, node.cond) end
  if node.tag == "DictComp" then
    walk_expr(st, cs, node.key)
    walk_expr(st, cs, node.value)
  else
    walk_expr(st, cs, node.elt)
  end
end

WALK.Name = function(st, sc, e) -- the most common node
  local name = e.name
  if sc.locals[name] and sc.assigned[name] then -- read_name's usual answer: sc itself
    sc.escapes[name] = true
  else
    local d = read_name(st, sc, e, name)
    if d then d.escapes[name] = true end
  end
end
WALK.Scoped = function(st, sc, e)
  if e.scope == "local" then read_name(st, sc, e, e.name) end
end
WALK.FString = function(st, sc, e)
  local parts = e.parts
  for i = 1, #parts do
    local p = parts[i]
    if p.tag == "FExpr" then walk_expr(st, sc, p.expr) end
  end
end
WALK.List = function(st, sc, e) walk_list(st, sc, e.elts) end
WALK.Tuple, WALK.Set = WALK.List, WALK.List
WALK.Dict = function(st, sc, e)
  local ks, vs = e.keys, e.values
  for i = 1, #ks do
    walk_expr(st, sc, ks[i])
    walk_expr(st, sc, vs[i])
  end
end
WALK.ListComp = function(st, sc, e) comp(st, sc, e) end
WALK.SetComp, WALK.DictComp = WALK.ListComp, WALK.ListComp
WALK.Lambda = function(st, sc, e)
  walk_params_defaults(st, sc, e.params)
  local fs = func_scope(st, sc, e, e.params, e.receiver)
  walk_expr(st, fs, e.body)
end
WALK.IfExp = function(st, sc, e)
  walk_expr(st, sc, e.test)
  walk_expr(st, sc, e.body)
  walk_expr(st, sc, e.orelse)
end
WALK.BinOp = function(st, sc, e)
  local l, r = e.left, e.right
  WALK[l.tag](st, sc, l)
  WALK[r.tag](st, sc, r)
end
WALK.BoolOp, WALK.Compare = WALK.BinOp, WALK.BinOp
WALK.UnOp = function(st, sc, e) walk_expr(st, sc, e.operand) end
WALK.Call = function(st, sc, e)
  local f = e.func
  if f.tag == "Name" then
    local d = read_name(st, sc, f, f.name)
    if d then
      local calls = d.calls
      if calls == NOCALLS then calls = {}; d.calls = calls end
      local l = calls[f.name]
      if not l then l = {}; calls[f.name] = l end
      l[#l + 1] = e -- pairs: the call, the scope it is in
      l[#l + 1] = sc
    end
  else
    WALK[f.tag](st, sc, f)
  end
  walk_list(st, sc, e.args)
  local kw = e.kwargs
  for i = 1, #kw do walk_expr(st, sc, kw[i].value) end
end
WALK.Attr = function(st, sc, e)
  local o = e.obj
  WALK[o.tag](st, sc, o)
end
WALK.Index = function(st, sc, e)
  walk_expr(st, sc, e.obj)
  walk_expr(st, sc, e.index)
end
WALK.Slice = function(st, sc, e)
  if e.lower then walk_expr(st, sc, e.lower) end
  if e.upper then walk_expr(st, sc, e.upper) end
  if e.step then walk_expr(st, sc, e.step) end
end

walk_expr = function(st, sc, e)
  if e ~= nil then return WALK[e.tag](st, sc, e) end
end

local function assign_target(st, sc, t)
  if is_local_target(t) then sc.assigned[t.name] = true
  elseif t.tag == "Attr" then walk_expr(st, sc, t.obj)
  elseif t.tag == "Index" then
    walk_expr(st, sc, t.obj)
    walk_expr(st, sc, t.index)
  end
end

local function premark(sc, body)
  -- a scope-like whose locals are sc.assigned and that has no sites: names only
  collect_body(body, { locals = sc.assigned, order = {} })
end

--- A statement Python rejects where it stands ('return' outside a function, 'break' or
-- 'continue' outside a loop): raised as a table that dana.translate turns into a
-- SyntaxError at the statement (Lua would reject the generated code with its own words).
local function syntax_error(node, msg)
  error({ dana_syntax_error = true, line = node.line, col = node.col, msg = msg }, 0)
end

local function loop_body(st, sc, body)
  st.loops = st.loops + 1
  walk_body(st, sc, body)
  st.loops = st.loops - 1
end

local function func_body(st, fs, body) -- loops outside a def do not reach into it
  local loops = st.loops
  st.loops = 0
  walk_body(st, fs, body)
  st.loops = loops
end

local function walk_func(st, sc, s)
  local decorators = s.decorators
  if decorators then walk_list(st, sc, decorators) end
  walk_params_defaults(st, sc, s.params)
  sc.assigned[s.name] = true
  local fs = func_scope(st, sc, s, s.params, s.receiver)
  if s.tag == "FuncDef" then
    fs.returns = {}
    fs.fnode = s
    collect_body(s.body, fs)
    func_body(st, fs, s.body)
  else -- PipeDef
    for _, stage in ipairs(s.stages) do
      if stage.alias then add(fs, stage.alias) end
    end
    for _, stage in ipairs(s.stages) do
      walk_expr(st, fs, stage.expr)
      if stage.alias then fs.assigned[stage.alias] = true end
    end
  end
end

walk_stmt = function(st, sc, s)
  local tag = s.tag
  if tag == "Assign" or tag == "TypedAssign" then
    walk_expr(st, sc, s.value)
    local t = s.target
    if t.tag == "Name" then sc.assigned[t.name] = true -- the usual target, inline
    else assign_target(st, sc, t) end
  elseif tag == "AugAssign" then
    walk_expr(st, sc, s.value)
    if is_local_target(s.target) then read_name(st, sc, s.target, s.target.name) end
    assign_target(st, sc, s.target)
  elseif tag == "ExprStmt" then walk_expr(st, sc, s.expr)
  elseif tag == "Assert" then
    walk_expr(st, sc, s.test)
    walk_expr(st, sc, s.msg)
  elseif tag == "Return" then
    if sc.kind == "module" then syntax_error(s, "'return' outside function") end
    walk_expr(st, sc, s.value)
    if sc.returns then sc.returns[#sc.returns + 1] = s end
  elseif tag == "Break" then
    if st.loops == 0 then syntax_error(s, "'break' outside loop") end
  elseif tag == "Continue" then
    if st.loops == 0 then syntax_error(s, "'continue' not properly in loop") end
  elseif tag == "Raise" then
    walk_expr(st, sc, s.exc)
    walk_expr(st, sc, s.cause)
  elseif tag == "If" then
    walk_expr(st, sc, s.test)
    walk_body(st, sc, s.body)
    for _, e in ipairs(s.elifs) do
      walk_expr(st, sc, e.test)
      walk_body(st, sc, e.body)
    end
    if s.orelse then walk_body(st, sc, s.orelse.body) end
  elseif tag == "While" then
    premark(sc, s.body)
    walk_expr(st, sc, s.test)
    loop_body(st, sc, s.body)
  elseif tag == "For" then
    walk_expr(st, sc, s.iter)
    local targets = s.targets
    for i = 1, #targets do sc.assigned[targets[i].name] = true end
    premark(sc, s.body)
    loop_body(st, sc, s.body)
  elseif tag == "Try" then
    walk_body(st, sc, s.body)
    for _, h in ipairs(s.handlers) do
      walk_list(st, sc, h.types)
      if h.name then sc.assigned[h.name] = true end
      walk_body(st, sc, h.body)
    end
    if s.finalbody then walk_body(st, sc, s.finalbody.body) end
  elseif tag == "With" then
    walk_expr(st, sc, s.expr)
    if s.name then sc.assigned[s.name] = true end
    walk_body(st, sc, s.body)
  elseif tag == "FuncDef" or tag == "PipeDef" then walk_func(st, sc, s)
  elseif tag == "StructDef" then
    sc.assigned[s.name] = true
    for _, f in ipairs(s.fields) do
      if f.default then
        local fs = newscope("func", sc)
        f._scope = fs
        walk_expr(st, fs, f.default)
      end
    end
    for _, d in ipairs(s.defs) do
      walk_params_defaults(st, sc, d.params)
      local fs = func_scope(st, sc, d, d.params, d.receiver)
      if d.tag == "FuncDef" then
        collect_body(d.body, fs)
        func_body(st, fs, d.body)
      else
        for _, stage in ipairs(d.stages) do
          if stage.alias then add(fs, stage.alias) end
          walk_expr(st, fs, stage.expr)
          if stage.alias then fs.assigned[stage.alias] = true end
        end
      end
    end
  elseif tag == "AgentDef" then
    for _, b in ipairs(s.body or {}) do
      if b.tag == "Assign" then walk_expr(st, sc, b.value) end
    end
    sc.assigned[s.name] = true
  elseif tag == "InterfaceDef" then
    sc.assigned[s.name] = true
  elseif tag == "Import" then
    for _, a in ipairs(s.names) do sc.assigned[a.asname or a.name:match("^[^.]+")] = true end
  elseif tag == "ImportFrom" then
    for _, a in ipairs(s.names) do sc.assigned[a.asname or a.name] = true end
  end
end

walk_body = function(st, sc, body)
  for i = 1, #body do walk_stmt(st, sc, body[i]) end
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
-- local's candidate record is only made when it first reads one.
local CHECKING = false -- in the fixpoint (codegen's calls record nothing)
local CUR -- the candidate being checked; nil for a local that has no record yet:
local LOCAL_SC, LOCAL_K, LOCAL_SITES -- ... this one
local check_local -- (sc, name, sites)
local DEPS -- DEPS[t][k] = candidates that read the true fact t[k]

local function watch(t, k)
  local c = CUR
  if not c then
    c = { check = check_local, sc = LOCAL_SC, k = LOCAL_K, x = LOCAL_SITES }
    CUR = c
  end
  local by = DEPS[t]
  if not by then
    by = {}
    DEPS[t] = by
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
    if d == nil or d.num[name] ~= true then return false end
    if CHECKING then watch(d.num, name) end
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
      if fs and fs.ret_num and mapped_args(e, node) then
        if CHECKING then watch(fs, "ret_num") end
        return true
      end
    end
  end
  return false
end
A.numeric = numeric

-- Container and int kinds of locals (plain locals only, not parameters).
local INTFN = { len = true, int = true }
local LISTFN = { list = true, sorted = true }
local DICTFN = { dict = true }
local INTOP = { ["+"] = true, ["-"] = true, ["*"] = true, ["//"] = true, ["%"] = true }
local kind_of -- (e, sc, which) -> boolean

local function name_kind(e, sc, which)
  if e._global then return false end
  local name = e.name
  local d = declaring(sc, name)
  if d == nil then return false end
  local t = d.kinds[which]
  if t[name] ~= true then return false end
  if CHECKING then watch(t, name) end
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
      return is_builtin_call(e, sc, INTFN) or (is_builtin_call(e, sc, { round = true }) and #e.args == 1)
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

local function site_kind(site, sc, which)
  local k = SITE_KIND[site.tag]
  if k == "assign" then return kind_of(site.value, sc, which) end
  if k == "aug" then
    if which == "int" then return INTOP[site.op] and kind_of(site.value, sc, "int") end
    if which == "list" then return site.op == "+" end
    return false
  end
  if k == "for" then return which == "int" and is_builtin_call(site.iter, sc, RANGE) end
  return false
end

local function site_numeric(site, sc)
  local k = SITE_KIND[site.tag]
  if k == "assign" then return numeric(site.value, sc) end
  if k == "aug" then return NUMOP[site.op] and numeric(site.value, sc) end
  if k == "for" then return is_builtin_call(site.iter, sc, RANGE) end
  return false
end

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

--- Arguments of a call to `node` in positional order (nil = missing), or nil if the
-- keywords cannot be mapped at compile time (same rule as codegen's static calls).
mapped_args = function(call, node)
  local params = param_names(node)
  local index = {}
  for i, p in ipairs(params) do index[p.name] = i end
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

local WORK, NWORK -- candidates to re-check

--- Drops fact t[k] and queues the candidates that read it.
local function drop(t, k)
  t[k] = nil
  local by = DEPS[t]
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

local function sites_numeric(sites, sc)
  for i = 1, #sites do
    if not site_numeric(sites[i], sc) then return false end
  end
  return true
end

-- Checks: each re-checks the facts of its candidate that still hold.
check_local = function(sc, name, sites)
  local num = sc.num
  if num[name] and not sites_numeric(sites, sc) then drop(num, name) end
  local it = sc.kinds.int
  if it[name] then
    for i = 1, #sites do
      if not site_kind(sites[i], sc, "int") then
        drop(it, name)
        break
      end
    end
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

--- Checks every candidate once, then re-checks readers of dropped facts until none drops.
-- locals: parallel arrays of the local candidates' scope, name, sites; cands: the others.
local function fixpoint(lsc, lname, lsites, cands)
  CHECKING, DEPS, WORK, NWORK = true, {}, {}, 0
  for i = 1, #lsc do
    CUR, LOCAL_SC, LOCAL_K, LOCAL_SITES = nil, lsc[i], lname[i], lsites[i]
    check_local(lsc[i], lname[i], lsites[i])
  end
  for i = 1, #cands do
    local c = cands[i]
    CUR = c
    c.check(c.sc, c.k, c.x)
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

--- Numeric and kind inference over every scope (parents first), after the walk.
local function finish(scopes)
  local lsc, lname, lsites, n = {}, {}, {}, 0
  local cands = {}
  for s = 1, #scopes do
    local sc = scopes[s]
    local sites = sc.sites
    if sites ~= NOSITES then -- (add replaces it with the first site)
      local params, init = sc.params, sc.init
      local kinds = { int = {}, list = NOKIND, dict = NOKIND }
      sc.kinds = kinds
      local it, num = kinds.int, sc.num
      local order = sc.order
      for o = 1, #order do -- first-assignment order, not pairs(): the output must not vary
        local name = order[o]
        local l = sites[name]
        local cand = l and not params[name] and not init[name]
        if cand and not l.other then
          if num == NONUM then num = own(sc, "num", NONUM) end
          num[name] = true
          it[name] = true
          n = n + 1
          lsc[n], lname[n], lsites[n] = sc, name, l
          -- list / dict kinds: one pass, in this order (a name assigned from another
          -- local sees that local's kind only when it was decided before)
          local isl, isd = true, true
          for i = 1, #l do
            if isl and not site_kind(l[i], sc, "list") then isl = false end
            if isd and not site_kind(l[i], sc, "dict") then isd = false end
            if not isl and not isd then break end
          end
          if isl then own(kinds, "list", NOKIND)[name] = true end
          if isd then own(kinds, "dict", NOKIND)[name] = true end
        elseif cand and #l == 1 and SITE_KIND[l[1].tag] == "def" then
          local node = l[1]
          if not (node.decorators and #node.decorators > 0) then
            if sc.static == NOSTATIC then sc.static = {} end
            sc.static[name] = node
          end
        end
      end
    end
    for name, node in pairs(sc.static) do
      if node.tag == "FuncDef" and node._scope then
        local fs = node._scope
        fs.ret_num = always_returns(node.body)
        if fs.ret_num then cands[#cands + 1] = { check = check_ret, sc = fs } end
        -- parameters: numeric candidates when every use of the function is a mappable call
        local calls = sc.calls[name]
        local ok = not sc.escapes[name] and not registers_method(node) and calls ~= nil
          and #calls > 0
        local sites_ok = {}
        if ok then
          for i = 1, #calls, 2 do
            local slots = mapped_args(calls[i], node)
            if not slots then ok = false break end
            sites_ok[#sites_ok + 1] = { slots = slots, scope = calls[i + 1] }
          end
        end
        if ok then
          fs.callsites = sites_ok
          local params = param_names(node)
          fs.pnodes = params
          local index = {}
          for i, p in ipairs(params) do index[p.name] = i end
          for i, p in ipairs(params) do
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
  fixpoint(lsc, lname, lsites, cands)
end

--- Analyses a Module in place; `known` is a set of names the env provides.
function A.analyze(module, known)
  KNOWN = known or {}
  ALL = {}
  local st = { warnings = {}, unknown = {}, loops = 0 }
  local ms = newscope("module", nil)
  collect_body(module.body, ms)
  module._scope = ms
  module._unknown = st.unknown
  walk_body(st, ms, module.body)
  finish(ALL)
  ALL = nil
  return st.warnings
end

return A
