--- The Dana grammar (LPeg), producing the AST of docs/internals/ast.md.
--
-- `dana.lexer` first turns the source into a context-free text (comments blanked,
-- bracketed newlines blanked, INDENT `"\1"` / DEDENT `"\2"` markers at line starts,
-- string extents known). The grammar below parses that text one top-level statement
-- per `lpeg.match`. Patterns are built once at load time; every piece of per-parse state
-- lives in a table passed as `lpeg.Carg(1)`.
--
-- Failures are reported at the farthest position any token was tried, found by
-- re-running the failed statement with an instrumented copy of the grammar (so the fast
-- path pays nothing). A few constructs that are certainly wrong record a specific
-- message on the way ("sure" errors).
-- @module dana.grammar
local lpeg = require("lpeg")
local lexer = require("dana.lexer")

local P, S, R, V = lpeg.P, lpeg.S, lpeg.R, lpeg.V
local C, Cc, Cp, Ct, Cg, Cf, Cmt, Carg = lpeg.C, lpeg.Cc, lpeg.Cp, lpeg.Ct, lpeg.Cg, lpeg.Cf,
  lpeg.Cmt, lpeg.Carg
local match = lpeg.match
local byte, sub, find = string.byte, string.sub, string.find

local M = {}

M.DEFAULT_MAX_SOURCE = 4 * 1024 * 1024
M.DEFAULT_MAX_DEPTH = 200
-- LPeg's backtrack stack (shared by every LPeg user of this Lua state). The default of
-- 400 is too small for 200 nested brackets; overflowing it raises a Lua error that
-- `parse` turns into a SyntaxError.
M.MAXSTACK = 40000
lpeg.setmaxstack(M.MAXSTACK)

local RESERVED = {}
for w in ([[True true TRUE False false FALSE None none NONE null NULL private public local
  system break continue pass return deliver sync if else elif while for def struct resource
  workflow interface try except finally raise assert import from with agent agent_blueprint
  lambda yield global nonlocal del and or not in is export as]]):gmatch("%S+") do
  RESERVED[w] = true
end
M.RESERVED = RESERVED

---------------------------------------------------------------------------------------
-- positions and errors

--- Line and column of offset `p` of the transformed text (cursor-cached).
-- Captures mostly run in text order, except that a node's own position is looked up
-- after its children's: such backward lookups leave the cursor where it is.
local function lc(st, p)
  local ls, i = st.ls, st.cur
  local a = ls[i]
  local lo, hi
  if p >= a then
    local nx = ls[i + 1]
    if not nx or p < nx then return i, p - a + 1 end   -- the cached line (the usual case)
    local nx2 = ls[i + 2]
    if not nx2 or p < nx2 then                          -- the next one
      st.cur = i + 1
      return i + 1, p - nx + 1
    end
    lo, hi = i + 2, st.nls -- further on: binary search, and move the cursor there
    while lo < hi do
      local mid = (lo + hi + 1) // 2
      if ls[mid] <= p then lo = mid else hi = mid - 1 end
    end
    st.cur = lo
    return lo, p - ls[lo] + 1
  end
  -- backward: a few lines back linearly (the cursor stays), else binary search
  local j = i - 1
  local stop = i - 8
  if stop < 1 then stop = 1 end
  while j >= stop do
    local b = ls[j]
    if b <= p then return j, p - b + 1 end
    j = j - 1
  end
  lo, hi = 1, j
  if hi < 1 then st.cur = 1; return 1, p - ls[1] + 1 end
  while lo < hi do
    local mid = (lo + hi + 1) // 2
    if ls[mid] <= p then lo = mid else hi = mid - 1 end
  end
  st.cur = lo -- far back: another stream of captures (match-time ones ran ahead)
  return lo, p - ls[lo] + 1
end

local function adderr(st, line, col, msg)
  local e = st.errors
  e[#e + 1] = { line = line, col = col, msg = msg }
end

local function adderr_at(st, node, msg)
  adderr(st, node.line, node.col, msg)
end

---------------------------------------------------------------------------------------
-- string literals

local ESC = { n = "\n", t = "\t", r = "\r", ["\\"] = "\\", ['"'] = '"', ["'"] = "'",
  a = "\a", b = "\b", f = "\f", v = "\v", ["\n"] = "" }

local function uchar(cp)
  if cp and cp >= 0 and cp <= 0x10FFFF then return utf8.char(cp) end
end

--- Decode the standard escapes; unknown ones are kept as written.
local function decode(s, fmode)
  if not s:find("\\", 1, true) then return s end
  local out, i = {}, 1
  while true do
    local j = s:find("\\", i, true)
    if not j then out[#out + 1] = sub(s, i); break end
    out[#out + 1] = sub(s, i, j - 1)
    local c = sub(s, j + 1, j + 1)
    local rep, len
    if ESC[c] then rep, len = ESC[c], 2
    elseif c == "\r" and sub(s, j + 2, j + 2) == "\n" then rep, len = "", 3
    elseif c == "x" then
      local h = s:match("^%x%x", j + 2)
      if h then rep, len = uchar(tonumber(h, 16)), 4 end
    elseif c == "u" then
      local h = s:match("^%x%x%x%x", j + 2)
      if h then rep, len = uchar(tonumber(h, 16)), 6 end
    elseif c == "U" then
      local h = s:match("^%x%x%x%x%x%x%x%x", j + 2)
      if h then rep = uchar(tonumber(h, 16)); len = 10 end
    elseif c:match("^[0-7]$") then
      local o = s:match("^[0-7][0-7]?[0-7]?", j + 1)
      rep, len = uchar(tonumber(o, 8)), 1 + #o
    elseif fmode and (c == "{" or c == "}") then rep, len = c, 2
    end
    if rep then out[#out + 1] = rep; i = j + len
    else out[#out + 1] = "\\"; i = j + 1 end
    if i > #s then break end
  end
  return table.concat(out)
end
M.decode = decode

local FEXPR, FLATFEXPR -- f-string body patterns (set after the grammar is built)

local function mkStringNode(st, p, value, raw)
  local l, c = lc(st, p)
  return { tag = "String", value = value, raw = raw, line = l, col = c }
end

--- Split an f-string into parts (see ast.md "f-strings").
local function fparts(st, cs, ce)
  local T, strs = st.T, st.strs
  local parts = {}
  local lit, litpos = {}, nil
  local function flush()
    if #lit > 0 then
      local text = decode(table.concat(lit), true)
      if text ~= "" then
        local prev = parts[#parts]
        if prev and prev.tag == "String" then
          prev.value = prev.value .. text
        else
          parts[#parts + 1] = mkStringNode(st, litpos, text, nil)
        end
      end
      lit = {}
    end
    litpos = nil
  end
  local function addlit(a, b, raw) -- T bytes a .. b-1
    if b <= a then return end
    if not litpos then litpos = a end
    if raw then -- already-final text: decode nothing, but protect backslashes
      lit[#lit + 1] = (sub(T, a, b - 1):gsub("\\", "\\\\"))
    else
      lit[#lit + 1] = sub(T, a, b - 1)
    end
  end
  local j = cs
  while j < ce do
    local k = T:find("[\\{]", j)
    if not k or k >= ce then addlit(j, ce); break end
    if byte(T, k) == 92 then -- backslash: keep for decode, skip the escaped byte
      addlit(j, math.min(k + 2, ce))
      j = k + 2
    else
      addlit(j, k)
      -- find the matching close brace
      local depth, q = 1, k + 1
      while q < ce do
        local e = strs[q]
        if e then q = e
        else
          local b = byte(T, q)
          if b == 123 then depth = depth + 1
          elseif b == 125 then depth = depth - 1; if depth == 0 then break end
          end
          q = q + 1
        end
      end
      if q >= ce then -- unclosed: the rest is literal text
        addlit(k, ce)
        break
      end
      local body = sub(T, k + 1, q - 1)
      if body:find("%S") then
        local ok, node, endp = pcall(match, FEXPR, T, k + 1, st)
        if not ok and tostring(node):find("subcapture nesting too deep", 1, true) then
          ok, node, endp = pcall(match, FLATFEXPR, T, k + 1, st)
        end
        local fx
        if ok and node and endp == q then
          fx = { expr = node }
        elseif ok and node and byte(T, endp) == 58 then -- ':' then a format spec
          fx = { expr = node, spec = sub(T, endp + 1, q - 1) }
        else
          local a, id = body:match("^%s*()([%a_][%w_]*)%s*$")
          if id then
            local l, c = lc(st, k + a)
            fx = { expr = { tag = "Name", name = id, line = l, col = c } }
          end
        end
        if fx then
          flush()
          local l, c = lc(st, k)
          fx.tag, fx.text, fx.line, fx.col = "FExpr", body, l, c
          parts[#parts + 1] = fx
        else
          addlit(k + 1, q, true)
        end
      end
      j = q + 1
    end
  end
  flush()
  return parts
end

local function mkStr(st, i, e)
  local T = st.T
  local raw = sub(T, i, e - 1)
  local pre = raw:match("^[rRfF]?")
  local q = byte(raw, #pre + 1)
  local ql = (byte(raw, #pre + 2) == q and byte(raw, #pre + 3) == q and #raw >= #pre + 6) and 3 or 1
  local l, c = lc(st, i)
  if pre == "f" or pre == "F" then
    local parts = fparts(st, i + #pre + ql, e - ql)
    return { tag = "FString", parts = parts, line = l, col = c }
  end
  local body = sub(raw, #pre + ql + 1, #raw - ql)
  if ql == 3 then body = body:gsub("\r\n", "\n") end
  local value = (pre == "") and decode(body, false) or body
  return { tag = "String", value = value, line = l, col = c }
end

---------------------------------------------------------------------------------------
-- node constructors (capture functions)

-- The list of a node that has none of them (a call without keywords, an `if` without
-- `elif`, a def without decorators) is this one shared, read-only table: most nodes
-- have none, and a table each is a fifth of the tree.
local EMPTY = require("dana.ast").EMPTY
M.EMPTY = EMPTY

local function mkName(st, p, name)
  local l, c = lc(st, p)
  return { tag = "Name", name = name, line = l, col = c }
end

local MAXINT = math.maxinteger
local function parse_int(digits, base)
  local v = 0
  for i = 1, #digits do
    local d = tonumber(sub(digits, i, i), 16)
    if v > (MAXINT - d) // base then return nil end
    v = v * base + d
  end
  return v
end

local function mkNum(st, p, raw)
  local l, c = lc(st, p)
  if #raw < 19 and not raw:find("[^0-9]") then
    return { tag = "Int", value = tonumber(raw), line = l, col = c }
  end
  local clean = raw:gsub("_", "")
  if not st.pynum then
    if raw:find("^0[xXoObB]") then
      local kind = ({ x = "hexadecimal", o = "octal", b = "binary" })[raw:sub(2, 2):lower()]
      adderr(st, l, c, kind .. " literals are not supported in Dana")
    elseif raw:find("_", 1, true) then
      adderr(st, l, c, "underscores in numeric literals are not supported in Dana")
    end
  end
  local pfx = clean:sub(1, 2):lower()
  local v
  if pfx == "0x" or pfx == "0o" or pfx == "0b" then
    v = parse_int(clean:sub(3), pfx == "0x" and 16 or pfx == "0o" and 8 or 2)
  elseif clean:find("[%.eE]") then
    return { tag = "Float", value = tonumber(clean) + 0.0, line = l, col = c }
  else
    v = tonumber(clean)
    if math.type(v) ~= "integer" then v = nil end
  end
  if not v then
    adderr(st, l, c, "integer literal too large (Dana ints are 64-bit)")
    v = 0
  end
  return { tag = "Int", value = v, line = l, col = c }
end

local function mkInt(st, p, raw)
  if #raw > 18 then return mkNum(st, p, raw) end -- may not fit 64 bits
  local l, c = lc(st, p)
  return { tag = "Int", value = tonumber(raw), line = l, col = c }
end

local function mkConst(tag, value)
  return function(st, p)
    local l, c = lc(st, p)
    return { tag = tag, value = value, line = l, col = c }
  end
end

local function mkSimple(tag)
  return function(st, p)
    local l, c = lc(st, p)
    return { tag = tag, line = l, col = c }
  end
end

local function mkScoped(st, p, scope, name)
  local l, c = lc(st, p)
  return { tag = "Scoped", scope = scope, name = name, line = l, col = c }
end

local function mkIfExp(body, test, orelse)
  return { tag = "IfExp", test = test, body = body, orelse = orelse, line = body.line, col = body.col }
end

local PREC = { ["or"] = 1, ["and"] = 2, ["=="] = 3, ["!="] = 3, ["<"] = 3, [">"] = 3,
  ["<="] = 3, [">="] = 3, ["in"] = 3, ["not in"] = 3, ["is"] = 3, ["is not"] = 3,
  ["+"] = 4, ["-"] = 4, ["*"] = 5, ["/"] = 5, ["//"] = 5, ["%"] = 5, ["**"] = 6 }

local function mkOp(op, l, r)
  local p = PREC[op]
  local tag = p == 3 and "Compare" or p <= 2 and "BoolOp" or "BinOp"
  return { tag = tag, op = op, left = l, right = r, line = l.line, col = l.col }
end

--- Build the tree of `first op1 x1 op2 x2 ...` (rest = {op1, x1, ...}) by precedence;
-- `**` is right-associative, everything else left-associative.
local function climb(first, rest)
  local n = #rest
  if n == 2 then return mkOp(rest[1], first, rest[2]) end
  local vals, ops, nv, no = { first }, {}, 1, 0
  for i = 1, n, 2 do
    local op = rest[i]
    local p = PREC[op]
    while no > 0 do
      local top = ops[no]
      local tp = PREC[top]
      if tp > p or (tp == p and p ~= 6) then
        vals[nv - 1] = mkOp(top, vals[nv - 1], vals[nv]); vals[nv] = nil; nv = nv - 1
        ops[no] = nil; no = no - 1
      else break end
    end
    no = no + 1; ops[no] = op
    nv = nv + 1; vals[nv] = rest[i + 1]
  end
  while no > 0 do
    vals[nv - 1] = mkOp(ops[no], vals[nv - 1], vals[nv]); vals[nv] = nil; nv = nv - 1
    no = no - 1
  end
  return vals[1]
end

local function mkUn(st, p, op, operand)
  local l, c = lc(st, p)
  return { tag = "UnOp", op = op, operand = operand, line = l, col = c }
end

local function mkNot(st, p, operand)
  local l, c = lc(st, p)
  return { tag = "UnOp", op = "not", operand = operand, line = l, col = c }
end


local function mkTrailer(obj, kind, a, b)
  if kind == "attr" then
    return { tag = "Attr", obj = obj, name = a, line = obj.line, col = obj.col }
  elseif kind == "call" then
    local args, kwargs = a, EMPTY
    for i = 1, #a do
      if a[i].tag == "Keyword" then -- split (rare): rebuild the positional list
        args, kwargs = {}, {}
        for _, x in ipairs(a) do
          if x.tag == "Keyword" then kwargs[#kwargs + 1] = x else args[#args + 1] = x end
        end
        break
      end
    end
    return { tag = "Call", func = obj, args = args, kwargs = kwargs, line = obj.line, col = obj.col }
  else
    local index = a[1]
    if #a > 1 or b then
      index = { tag = "Tuple", elts = a, line = a[1].line, col = a[1].col }
    end
    return { tag = "Index", obj = obj, index = index, line = obj.line, col = obj.col }
  end
end

local function mkKeyword(st, p, name, value)
  local l, c = lc(st, p)
  return { tag = "Keyword", name = name, value = value, line = l, col = c }
end

local function mkSub(st, p, lower, upper, step, isslice)
  if not isslice then return lower end
  local l, c = lc(st, p)
  return { tag = "Slice", lower = lower, upper = upper, step = step, line = l, col = c }
end

local function mkParen(st, p, list, tcomma)
  local l, c = lc(st, p)
  if list and #list == 1 and not tcomma then
    local e = list[1]
    e.line, e.col = l, c
    return e
  end
  return { tag = "Tuple", elts = list or {}, line = l, col = c }
end

local function comp(node, targets, paren, iter, cond)
  node.targets, node.unpack, node.iter, node.cond = targets, (paren or #targets > 1) and true or false,
    iter, cond
  return node
end

local function mkList(st, p, first, kind, a, b, c, d)
  local l, co = lc(st, p)
  if not first then return { tag = "List", elts = EMPTY, line = l, col = co } end
  if kind == "comp" then
    return comp({ tag = "ListComp", elt = first, line = l, col = co }, a, b, c, d)
  end
  table.insert(a, 1, first)
  return { tag = "List", elts = a, line = l, col = co }
end

local function mkBrace(st, p, a, b, c, d, e, f, g)
  local l, co = lc(st, p)
  if not a then return { tag = "Dict", keys = EMPTY, values = EMPTY, line = l, col = co } end
  if b == "scomp" then
    return comp({ tag = "SetComp", elt = a, line = l, col = co }, c, d, e, f)
  elseif b == "set" then
    table.insert(c, 1, a)
    return { tag = "Set", elts = c, line = l, col = co }
  elseif c == "dcomp" then
    return comp({ tag = "DictComp", key = a, value = b, line = l, col = co }, d, e, f, g)
  end
  local keys, values = { a }, { b }
  for i = 1, #d, 2 do keys[#keys + 1] = d[i]; values[#values + 1] = d[i + 1] end
  return { tag = "Dict", keys = keys, values = values, line = l, col = co }
end

local function mkParam(st, p, name, ty, default)
  local l, c = lc(st, p)
  return { tag = "Param", name = name, type = ty, default = default, line = l, col = c }
end

local function mkLambda(st, p, recv, params, body)
  local l, c = lc(st, p)
  return { tag = "Lambda", receiver = recv, params = params, body = body, line = l, col = c }
end

local function mkType(st, p, name, args)
  local l, c = lc(st, p)
  return { tag = "Type", name = name, args = args, line = l, col = c }
end

local function mkUnion(first, rest)
  table.insert(rest, 1, first)
  return { tag = "Union", types = rest, line = first.line, col = first.col }
end

-- A dotted name (type or module) whose first part is not a reserved word.
local function dotted_name(_, i, nm)
  local dot = find(nm, ".", 1, true)
  if RESERVED[dot and sub(nm, 1, dot - 1) or nm] then return false end
  return i, nm
end

-- statements ---------------------------------------------------------------------------

local TARGET_OK = { Name = true, Scoped = true, Attr = true, Index = true }
local LITERAL = { Int = true, Float = true, String = true, FString = true, Bool = true,
  None = true }

local function check_target(st, e)
  if TARGET_OK[e.tag] then return end
  local what = LITERAL[e.tag] and "literal" or e.tag == "Call" and "function call"
    or (e.tag == "Compare" or e.tag == "BinOp" or e.tag == "BoolOp" or e.tag == "UnOp")
    and "expression" or e.tag:lower()
  local hint = (e.tag == "Compare" or LITERAL[e.tag]) and "; maybe you meant '==' instead of '='" or ""
  adderr_at(st, e, "cannot assign to " .. what .. hint)
end

local function mkExprStmt(st, _, e, kind, a, b)
  -- the statement starts where its first expression does (every expression node has the
  -- position of its leftmost token), so no lookup of p
  local l, c = e.line, e.col
  if kind == nil then return { tag = "ExprStmt", expr = e, line = l, col = c } end
  check_target(st, e)
  if kind == "=" then
    return { tag = "Assign", target = e, value = a, line = l, col = c }
  elseif kind == ":" then
    return { tag = "TypedAssign", target = e, type = a, value = b, line = l, col = c }
  end
  return { tag = "AugAssign", target = e, op = kind, value = a, line = l, col = c }
end

local function mkReturn(st, p, v)
  local l, c = lc(st, p)
  return { tag = "Return", value = v, line = l, col = c }
end

local function mkAssert(st, p, test, msg)
  local l, c = lc(st, p)
  return { tag = "Assert", test = test, msg = msg, line = l, col = c }
end

local function mkRaise(st, p, exc, cause)
  local l, c = lc(st, p)
  return { tag = "Raise", exc = exc, cause = cause, line = l, col = c }
end

local function mkAlias(st, p, name, asname)
  local l, c = lc(st, p)
  return { tag = "Alias", name = name, asname = asname, line = l, col = c }
end

local function mkImport(st, p, names)
  local l, c = lc(st, p)
  return { tag = "Import", names = names, line = l, col = c }
end

local function mkFrom(st, p, dots, module, star, names)
  local l, c = lc(st, p)
  return { tag = "ImportFrom", module = module, level = #dots, names = names or {}, star = star,
    line = l, col = c }
end

local function setEnd1(node, st, p)
  node.end_line = (lc(st, p))
  return node
end

local function setEndN(list, st, p)
  local e = (lc(st, p))
  for _, n in ipairs(list) do n.end_line = e end
  return table.unpack(list)
end

local function lastend(body)
  local n = body[#body]
  return n and (n.end_line or n.line)
end

local function mkIf(st, p, test, body, elifs, orelse)
  local l, c = lc(st, p)
  local last = orelse or elifs[#elifs]
  return { tag = "If", test = test, body = body, elifs = elifs, orelse = orelse or nil,
    line = l, col = c, end_line = last and last.end_line or lastend(body) }
end

local function mkClause(tag)
  return function(st, p, a, b)
    local l, c = lc(st, p)
    if tag == "Elif" then
      return { tag = tag, test = a, body = b, line = l, col = c, end_line = lastend(b) }
    end
    return { tag = tag, body = a, line = l, col = c, end_line = lastend(a) }
  end
end

local function mkWhile(st, p, test, body)
  local l, c = lc(st, p)
  return { tag = "While", test = test, body = body, line = l, col = c, end_line = lastend(body) }
end

local function mkFor(st, p, targets, paren, iter, body)
  local l, c = lc(st, p)
  return { tag = "For", targets = targets, unpack = (paren or #targets > 1) and true or false,
    iter = iter, body = body, line = l, col = c, end_line = lastend(body) }
end

local function mkExcept(st, p, types, name, body)
  local l, c = lc(st, p)
  return { tag = "Except", types = types, name = name, body = body, line = l, col = c,
    end_line = lastend(body) }
end

local function mkTry(st, p, body, handlers, finalbody)
  local l, c = lc(st, p)
  local node = { tag = "Try", body = body, handlers = handlers, finalbody = finalbody,
    line = l, col = c }
  local last = finalbody or handlers[#handlers]
  node.end_line = last and last.end_line or lastend(body)
  if #handlers == 0 and not finalbody then
    adderr(st, l, c, "expected 'except' or 'finally' block after 'try'")
  end
  return node
end

local function mkWith(st, p, e, name, body)
  local l, c = lc(st, p)
  return { tag = "With", expr = e, name = name, body = body, line = l, col = c,
    end_line = lastend(body) }
end

local STAGE_OK = { Name = true, Scoped = true, Attr = true, Call = true, List = true }

local function mkStage(st, p, e, alias)
  local l, c = lc(st, p)
  if not STAGE_OK[e.tag] then
    adderr_at(st, e, "a pipeline stage must be a function name, a call or a list of functions")
  end
  return { tag = "Stage", expr = e, alias = alias, line = l, col = c }
end

local function mkDef(decos, st, p, sync, recv, name, params, returns, kind, a, b)
  local l, c = lc(st, p)
  local node = { decorators = decos, sync = sync, receiver = recv, name = name, params = params,
    returns = returns, line = l, col = c }
  if kind == "f" then
    node.tag, node.body, node.end_line = "FuncDef", a, lastend(a)
  else
    node.tag, node.stages, node.end_line = "PipeDef", a, (lc(st, b))
  end
  return node
end

local function mkField(st, p, name, ty, default, e)
  local l, c = lc(st, p)
  return { tag = "Field", name = name, type = ty, default = default, line = l, col = c,
    end_line = (lc(st, e)) }
end

local function mkStruct(st, p, kind, name, members)
  local l, c = lc(st, p)
  local node = { tag = "StructDef", kind = kind, name = name, fields = {}, defs = {}, line = l,
    col = c, end_line = lastend(members) }
  for i, m in ipairs(members) do
    if m.tag == "Field" then node.fields[#node.fields + 1] = m
    elseif m.tag == "FuncDef" or m.tag == "PipeDef" then node.defs[#node.defs + 1] = m
    elseif m.tag == "ExprStmt" and m.expr.tag == "String" then
      if i == 1 then node.docstring = m.expr end
    elseif m.tag ~= "Pass" then
      adderr_at(st, m, "only fields (name: type [= default]), methods and a docstring may appear in a "
        .. kind .. " body")
    end
  end
  return node
end

local function mkMsig(st, p, name, params, returns, e)
  local l, c = lc(st, p)
  return { tag = "MethodSig", name = name, params = params, returns = returns, line = l, col = c,
    end_line = (lc(st, e)) }
end

local function mkEmbed(st, p, name, e)
  local l, c = lc(st, p)
  return { tag = "Name", name = name, line = l, col = c, end_line = (lc(st, e)) }
end

local function mkInterface(st, p, name, members)
  local l, c = lc(st, p)
  local node = { tag = "InterfaceDef", name = name, methods = {}, embeds = {}, line = l, col = c,
    end_line = lastend(members) }
  for i, m in ipairs(members) do
    if m.tag == "MethodSig" then node.methods[#node.methods + 1] = m
    elseif m.tag == "Name" then node.embeds[#node.embeds + 1] = m
    elseif m.tag == "ExprStmt" and m.expr.tag == "String" then
      if i == 1 then node.docstring = m.expr end
    elseif m.tag ~= "Pass" then
      adderr_at(st, m, "only method signatures (name(params) -> type), embedded interface names and a "
        .. "docstring may appear in an interface body")
    end
  end
  return node
end

local function mkAgent(st, p, name, base, body, e)
  local l, c = lc(st, p)
  local node = { tag = "AgentDef", name = name, base = base, line = l, col = c }
  if body then
    node.body, node.end_line = body, lastend(body)
    for _, m in ipairs(body) do
      local ok = m.tag == "Pass" or (m.tag == "Assign" and m.target.tag == "Name")
        or (m.tag == "ExprStmt" and m.expr.tag == "String")
      if not ok then
        adderr_at(st, m, "an agent body may only contain 'name = value' fields and a docstring")
      end
    end
  else
    node.end_line = (lc(st, e))
  end
  return node
end

---------------------------------------------------------------------------------------
-- the grammar

-- Statements matched per lpeg.match on the fast path (one match per statement costs a
-- capture-stack allocation each time); any failure or error redoes them one at a time.
local BATCH = 64

local function build(instr, flatten)
  local ws = S(" \t\f\r") ^ 0
  local idc = R("az", "AZ", "09", "__")
  local ident = R("az", "AZ", "__") * idc ^ 0

  local function mark(name)
    return Cmt(Carg(1), function(_, i, st)
      if i > st.far then st.far = i; st.exp = { name }
      elseif i == st.far then local e = st.exp; e[#e + 1] = name end
      return i
    end)
  end
  local function tok(name, patt)
    if instr then return mark(name) * patt * ws end
    return patt * ws
  end
  local function K(w) return tok("'" .. w .. "'", P(w) * -idc) end
  local function O(s) return tok("'" .. s .. "'", P(s)) end
  -- A construct that is certainly wrong: record msg (a string, or a function of the
  -- captures of patt) and fail. `guard`, a capture-free pattern, is a cheap lookahead
  -- (LPeg 1.0.2 must not see value-returning match-time captures inside a predicate).
  local function sure(msg, patt, guard)
    patt = patt or P(true)
    return (guard and #guard or P(true)) * Cmt(Cp() * Carg(1) * patt, function(_, i, p, st, ...)
      local m = msg
      if type(m) == "function" then m = m(...) end
      local old = st.sure
      if not old or i > old.endpos then st.sure = { pos = p, endpos = i, msg = m } end
      return false
    end)
  end

  local RESPAT = P(false)
  for w in pairs(RESERVED) do RESPAT = RESPAT + P(w) * -idc end
  -- LPeg evaluates nested captures recursively and stops at 200 levels ("subcapture
  -- nesting too deep"). In the `flatten` variant each bracket level and each block is
  -- evaluated on the spot by an identity match-time capture, so nesting never
  -- accumulates; it is about 30% slower, so `parse` uses it only for the top-level
  -- statements that hit the limit.
  local function ident_cmt(_, i, ...) return i, ... end
  local function flat(patt)
    if flatten then return Cmt(patt, ident_cmt) end
    return patt
  end
  local NAME = tok("name", Cmt(C(ident), function(_, i, nm)
    if RESERVED[nm] then return false end
    return i, nm
  end))
  local K_if, K_else, K_elif, K_while, K_for, K_in = K"if", K"else", K"elif", K"while", K"for", K"in"
  local K_or, K_and, K_not, K_is, K_lambda = K"or", K"and", K"not", K"is", K"lambda"
  local K_try, K_except, K_finally, K_as, K_with = K"try", K"except", K"finally", K"as", K"with"
  local K_def, K_sync, K_return, K_pass = K"def", K"sync", K"return", K"pass"
  local K_break, K_continue, K_assert, K_raise = K"break", K"continue", K"assert", K"raise"
  local K_from, K_import, K_interface, K_agent = K"from", K"import", K"interface", K"agent"

  local LPAR, RPAR, LBRACK, RBRACK, LBRACE, RBRACE = O"(", O")", O"[", O"]", O"{", O"}"
  local COMMA, DOT, SEMI, AT, ARROW, DCOLON, STAR = O",", O".", O";", O"@", O"->", O"::", O"*"
  local COLON = tok("':'", P":" * -P":")
  local SCOLON = tok("':'", P":")
  local EQ = tok("'='", P"=" * -P"=")
  local BAR = tok("'|'", P"|")
  local NL = (instr and mark("newline") or P(true)) * P"\n" * (ws * P"\n") ^ 0 * ws
  local INDENT = tok("indent", P"\1")
  local DEDENT = tok("dedent", P"\2")

  local expr, orx, postfix = V"expr", V"orx", V"postfix"
  local G = {}

  -- atoms ------------------------------------------------------------------------------
  local digits = R"09" * (P"_" ^ -1 * R"09") ^ 0
  local exponent = S"eE" * S"+-" ^ -1 * digits
  local numpat = P"0" * S"xX" * (P"_" ^ -1 * R("09", "af", "AF")) ^ 1
    + P"0" * S"oO" * (P"_" ^ -1 * R"07") ^ 1
    + P"0" * S"bB" * (P"_" ^ -1 * S"01") ^ 1
    + digits * (P"." * digits ^ -1) ^ -1 * exponent ^ -1
    + P"." * digits * exponent ^ -1
  -- plain decimal ints (most literals) skip mkNum's checks
  local INT = Carg(1) * Cp() * tok("number", C(R"09" ^ 1) * -(idc + P".")) / mkInt
  local NUMBER = #R"09" * INT
    + #(R"09" + P"." * R"09") * Carg(1) * Cp() * tok("number", C(numpat) * -idc) / mkNum
  local BADNUM = sure("invalid decimal literal", numpat * idc, numpat * idc)
  local STRING = #(S"rRfF" ^ -1 * S"\"'") * Carg(1) * tok("string", Cmt(Carg(1), function(_, i, st)
    local e = st.strs[i]
    if e then return e, i, e end
    return false
  end)) / mkStr
  -- Name atoms are built at match time (one Lua call instead of two).
  local NAMEATOM = #R("az", "AZ", "__") * tok("name", Cmt(Carg(1) * C(ident),
    function(_, i, st, nm)
      if RESERVED[nm] then return false end
      local p = i - #nm -- the name ends at i
      local ls, l = st.ls, st.cur -- lc's cached-line case, inline (names are the commonest node)
      local a, nx = ls[l], ls[l + 1]
      if p >= a and (not nx or p < nx) then
        return i, { tag = "Name", name = nm, line = l, col = p - a + 1 }
      end
      local c
      l, c = lc(st, p)
      return i, { tag = "Name", name = nm, line = l, col = c }
    end))
  local TRUE = #S"Tt" * Carg(1) * Cp() * tok("True", (P"True" + P"true" + P"TRUE") * -idc) / mkConst("Bool", true)
  local FALSE = #S"Ff" * Carg(1) * Cp() * tok("False", (P"False" + P"false" + P"FALSE") * -idc)
    / mkConst("Bool", false)
  local NONEP = (P"None" + P"none" + P"NONE" + P"null" + P"NULL") * -idc
  local NONE = #S"Nn" * Carg(1) * Cp() * tok("None", NONEP) / mkSimple("None")
  local SCOPEKW = tok("scope", C(P"local" + P"private" + P"public" + P"system") * -idc)
  local SCOPED = #S"lps" * Carg(1) * Cp() * SCOPEKW * COLON * NAME / mkScoped
    + sure(function(scope, name)
      return string.format("Scope keyword '%s' cannot be used with dot notation. Use colon notation "
        .. "instead: '%s:%s'", scope, scope, name)
    end, SCOPEKW * DOT * NAME, P"local" + P"private" + P"public" + P"system")
  local PLACEHOLDER = #P"$" * Carg(1) * Cp() * O"$$" / mkSimple("Placeholder")

  local NAMENODE = Carg(1) * Cp() * NAME / mkName
  local TARGETS = LPAR * Ct(NAMENODE * (COMMA * NAMENODE) ^ 0) * COMMA ^ -1 * RPAR * Cc(true)
    + Ct(NAMENODE * (COMMA * NAMENODE) ^ 0) * Cc(false)
  local COMPFOR = K_for * TARGETS * K_in * orx * (K_if * orx + Cc(nil))

  G.paren = #P"(" * flat(Carg(1) * Cp() * LPAR * (RPAR * Cc(false)
    + Ct(expr * (COMMA * expr) ^ 0) * (COMMA * Cc(true) + Cc(false)) * RPAR) / mkParen)
  G.list = #P"[" * flat(Carg(1) * Cp() * LBRACK * (RBRACK * Cc(false)
    + expr * (Cc"comp" * COMPFOR + Cc"list" * Ct((COMMA * expr) ^ 0) * COMMA ^ -1) * RBRACK) / mkList)
  G.brace = #P"{" * flat(Carg(1) * Cp() * LBRACE * (RBRACE * Cc(false)
    + LPAR * expr * COLON * expr * RPAR * Cc"dcomp" * COMPFOR * RBRACE
    + expr * (COLON * expr * (Cc"dcomp" * COMPFOR
        + Cc"dict" * Ct((COMMA * expr * COLON * expr) ^ 0) * COMMA ^ -1)
      + Cc"scomp" * COMPFOR + Cc"set" * Ct((COMMA * expr) ^ 0) * COMMA ^ -1) * RBRACE) / mkBrace)

  G.param = Carg(1) * Cp() * NAME * (COLON * V"type" + Cc(nil)) * (EQ * expr + Cc(nil)) / mkParam
  local PARAMS = Ct(V"param" * (COMMA * V"param") ^ 0 * COMMA ^ -1) + Cc(EMPTY)
  G.lambda = #P"lambda" * Carg(1) * Cp() * K_lambda * (LPAR * V"param" * RPAR + Cc(nil)) * PARAMS
    * (DCOLON + sure("expected '::' after the lambda parameters (Dana lambdas are written "
      .. "'lambda x :: expr')")) * expr / mkLambda

  local AMARK = instr and mark("expression") or P(true)
  G.atom = AMARK * (STRING + NAMEATOM + NUMBER + V"paren" + V"list" + V"brace" + TRUE + FALSE + NONE
    + V"lambda" + SCOPED + PLACEHOLDER + BADNUM)

  -- trailers -----------------------------------------------------------------------------
  local KWARG = #(ident * ws * P"=" * -P"=") * Carg(1) * Cp() * NAME * EQ * expr / mkKeyword
  local ARG = KWARG + expr
  local ARGS = Ct(ARG * (COMMA * ARG) ^ 0 * COMMA ^ -1) + Cc(EMPTY)
  local SLICETAIL = SCOLON * (expr + Cc(nil)) * (SCOLON * (expr + Cc(nil)) + Cc(nil)) * Cc(true)
  local SUB = Carg(1) * Cp() * (expr * SLICETAIL ^ -1 + Cc(nil) * SLICETAIL) / mkSub
  local TRAILER = flat(LPAR * Cc"call" * ARGS * RPAR)
    + flat(LBRACK * Cc"index" * Ct(SUB * (COMMA * SUB) ^ 0) * (COMMA * Cc(true) + Cc(false)) * RBRACK)
    + DOT * Cc"attr" * NAME
  G.postfix = Cf(V"atom" * Cg(#S"([." * TRAILER) ^ 0, mkTrailer)

  -- operators ----------------------------------------------------------------------------
  -- Binary operators are parsed flat (operand op operand ...) and the tree is built by
  -- precedence climbing in Lua (`climb`): far fewer LPeg rule levels per atom.
  -- `not` takes a comparison-level operand; unary +/- bind tighter than every binary op.
  local CAOP
  CAOP = tok("operator", C(P"**" + P"//" + S"+-*/%") * -P"="
    + C(P"==" + P"!=" + P"<=" + P">=" + P"<" + P">"))
    + K_not * K_in * Cc"not in" + K_is * (K_not * Cc"is not" + Cc"is") + K_in * Cc"in"
  local ALLOP = #S"*/+-%=!<>inao" * (CAOP + K_and * Cc"and" + K_or * Cc"or")
  CAOP = #S"*/+-%=!<>in" * CAOP
  G.unary = #S"+-" * Carg(1) * Cp() * tok("unary operator", C(S"+-")) * V"unary" / mkUn + postfix
  G.cmpx = Cf(V"unary" * Cg(Ct((CAOP * V"unary") ^ 1)) ^ -1, climb)
  G.notx = #P"not" * Carg(1) * Cp() * K_not * (V"notx" + V"cmpx") / mkNot
  local OPERAND = V"unary" + V"notx"
  G.orx = Cf(OPERAND * Cg(Ct((ALLOP * OPERAND) ^ 1)) ^ -1, climb)
  G.expr = Cf(orx * Cg(#P"if" * K_if * orx * K_else * expr) ^ -1, mkIfExp)
    * (#P"|" * sure("Pipe expressions (|) are only allowed in declarative function definitions "
    .. "(def f(x) = step1 | step2)", P"|" * -P"=", P"|")) ^ -1

  -- types --------------------------------------------------------------------------------
  local DOTTED_NAME = Cmt(C(ident * (P"." * ident) ^ 0), dotted_name)
  local TNAME = tok("type", NONEP / "None" + DOTTED_NAME)
  G.tbase = Carg(1) * Cp() * TNAME * (LBRACK * Ct(V"type" * (COMMA * V"type") ^ 0 * COMMA ^ -1)
    * RBRACK + Cc(nil)) / mkType
  -- a single type (the usual case) is the tbase value itself: no list, no call
  G.type = Cf(V"tbase" * Cg(Ct((BAR * V"tbase") ^ 1)) ^ -1, mkUnion)

  -- simple statements --------------------------------------------------------------------
  local AUGOP = tok("augmented assignment", C(S"+-*/") * P"=")
  local BADAUG = sure(function(op)
    return "augmented assignment '" .. op .. "' is not supported in Dana (use += -= *= /=)"
  end, C(P"//=" + P"%=" + P"**=" + P"|=" + P"&=" + P"^=" + P"<<=" + P">>=" + P"@="), S"/%*|&^<>@")
  -- Python's bare tuples (`a, b = b, a`, `x = 1, 2`, `return a, b`) are not Dana: say so
  local BADTUPLE = #P"," * (sure("tuple-unpacking assignment (a, b = ...) is not supported in "
    .. "Dana: assign one name at a time", COMMA * (1 - S"=\n") ^ 0 * P"=" * -P"=")
    + sure("a tuple needs parentheses in Dana: (a, b)"))
  local EXPRSTMT = Carg(1) * Cp() * expr * (BADTUPLE + EQ * Cc"=" * expr * BADTUPLE ^ -1
    + COLON * Cc":" * V"type" * (EQ + sure("expected '=' and a value after the type annotation "
      .. "(name: type = value)")) * expr
    + AUGOP * expr + BADAUG) ^ -1 / mkExprStmt
  EXPRSTMT = EXPRSTMT
  local KWASSIGN = sure(function(w)
    return "'" .. w .. "' is a reserved word and cannot be used as a name"
  end, C(RESPAT) * ws * P"=" * -P"=")
  local MODNAME = DOTTED_NAME
  local DOTTED = MODNAME * ws
  local ALIAS = Carg(1) * Cp() * tok("name", DOTTED) * (K_as * NAME + Cc(nil)) / mkAlias
  local FALIAS = Carg(1) * Cp() * NAME * (K_as * NAME + Cc(nil)) / mkAlias
  local FALIASES = Ct(FALIAS * (COMMA * FALIAS) ^ 0)
  local SKW = (P"pass" + P"break" + P"continue" + P"return" + P"assert" + P"raise" + P"import"
    + P"from") * -idc
  G.small = (instr and mark("statement") or P(true)) * #S"pbcraif" * #SKW * (Carg(1) * Cp() * K_pass / mkSimple("Pass")
    + Carg(1) * Cp() * K_break / mkSimple("Break")
    + Carg(1) * Cp() * K_continue / mkSimple("Continue")
    + Carg(1) * Cp() * K_return * (expr * BADTUPLE ^ -1 + Cc(nil)) / mkReturn
    + Carg(1) * Cp() * K_assert * expr * (COMMA * expr + Cc(nil)) / mkAssert
    + Carg(1) * Cp() * K_raise * (expr * (K_from * expr + Cc(nil)) + Cc(nil) * Cc(nil)) / mkRaise
    + Carg(1) * Cp() * K_import * Ct(ALIAS * (COMMA * ALIAS) ^ 0) / mkImport
    + Carg(1) * Cp() * K_from * C(P"." ^ 0) * ws * (tok("module", MODNAME) + Cc"") * K_import
      * (STAR * Cc(true) * Cc(nil)
      + Cc(false) * (LPAR * FALIASES * COMMA ^ -1 * RPAR + FALIASES)) / mkFrom)
    + EXPRSTMT + KWASSIGN
  G.simple = V"small" * SEMI ^ -1 * Carg(1) * Cp() * NL / setEnd1
    + Ct(V"small" * (SEMI * V"small") ^ 1) * SEMI ^ -1 * Carg(1) * Cp() * NL / setEndN

  -- compound statements ------------------------------------------------------------------
  local HCOLON = COLON + sure("expected ':'")
  local SUITE = HCOLON * (NL + sure("expected a newline after ':' (a block goes on its own "
    .. "indented lines; inline blocks such as 'if x: y' are not allowed)")) * INDENT
    * flat(Ct(V"stmt" ^ 1)) * DEDENT
  local ELIF = Carg(1) * Cp() * K_elif * expr * SUITE / mkClause("Elif")
  local ELSE = Carg(1) * Cp() * K_else * SUITE / mkClause("Else")
  local IF = Carg(1) * Cp() * K_if * expr * SUITE * (Ct(ELIF ^ 1) + Cc(EMPTY)) * (ELSE + Cc(nil)) / mkIf
  local WHILE = Carg(1) * Cp() * K_while * expr * SUITE / mkWhile
  local FOR = Carg(1) * Cp() * K_for * TARGETS * K_in * expr * SUITE / mkFor
  local EXTYPES = LPAR * Ct(postfix * (COMMA * postfix) ^ 0) * COMMA ^ -1 * RPAR + Ct(postfix)
    + Ct(P(true))
  local EXCEPT = Carg(1) * Cp() * K_except * EXTYPES * (K_as * NAME + Cc(nil)) * SUITE / mkExcept
  local FINALLY = Carg(1) * Cp() * K_finally * SUITE / mkClause("Finally")
  local TRY = Carg(1) * Cp() * K_try * SUITE * Ct(EXCEPT ^ 0) * (FINALLY + Cc(nil)) / mkTry
  local WITH = Carg(1) * Cp() * K_with * expr * (K_as * NAME + Cc(nil)) * SUITE / mkWith
  local DECOR = AT * postfix * NL
  local STAGE = Carg(1) * Cp() * postfix * (K_as * NAME + Cc(nil)) / mkStage
  G.defstmt = (Ct(DECOR ^ 1) + Cc(EMPTY)) * Carg(1) * Cp() * (K_sync * Cc(true) + Cc(false)) * K_def
    * (LPAR * V"param" * RPAR + Cc(nil)) * NAME * LPAR * PARAMS * RPAR
    * (ARROW * V"type" + Cc(nil))
    * (Cc"p" * EQ * Ct(STAGE * (BAR * STAGE) ^ 0) * Cp() * NL + Cc"f" * SUITE) / mkDef
  local KIND = tok("struct", C(P"struct" + P"resource" + P"agent_blueprint" + P"workflow") * -idc)
  local FIELD = Carg(1) * Cp() * NAME * COLON * V"type" * (EQ * expr + Cc(nil)) * Cp() * NL / mkField
  local INHERIT = sure("struct inheritance is not supported in Dana; use composition (a field whose "
    .. "type is the other struct)", P"(", P"(")
  local STRUCT = Carg(1) * Cp() * KIND * NAME * INHERIT ^ -1 * HCOLON * NL * INDENT
    * flat(Ct((FIELD + V"defstmt" + V"simple") ^ 1)) * DEDENT / mkStruct
  local MSIG = Carg(1) * Cp() * NAME * LPAR * PARAMS * RPAR * (ARROW * V"type" + Cc(nil)) * Cp() * NL
    / mkMsig
  local EMBED = Carg(1) * Cp() * NAME * Cp() * NL / mkEmbed
  local INTERFACE = Carg(1) * Cp() * K_interface * NAME * HCOLON * NL * INDENT
    * Ct((MSIG + EMBED + V"simple") ^ 1) * DEDENT / mkInterface
  local AGENT = Carg(1) * Cp() * K_agent * NAME * (LPAR * NAME * RPAR + Cc(nil))
    * (Cc(false) * Cp() * NL + SUITE) / function(st, p, name, base, a, b)
      if a == false then return mkAgent(st, p, name, base, nil, b) end
      return mkAgent(st, p, name, base, a)
    end
  local STRAY = sure(function(w)
    local what = w == "else" and "'else' without a matching 'if' (Dana has no loop or try else)"
      or w == "elif" and "'elif' without a matching 'if'"
      or "'" .. w .. "' without a matching 'try'"
    return what
  end, C(P"else" + P"elif" + P"except" + P"finally") * -idc, S"ef")
  local CKW = (P"if" + P"while" + P"for" + P"try" + P"with" + P"def" + P"sync" + P"struct"
    + P"resource" + P"agent_blueprint" + P"workflow" + P"interface" + P"agent") * -idc + P"@"
  G.stmt = (instr and mark("statement") or P(true))
    * #S"iwftdsra@" * #CKW * (IF + WHILE + FOR + TRY + WITH + V"defstmt" + STRUCT + INTERFACE + AGENT)
    + V"simple" + STRAY

  G.top = Ct(V"stmt") * Cp()
  -- each statement's captures are evaluated as soon as it has matched (an identity
  -- match-time capture), so LPeg's capture list holds one statement at a time instead of
  -- growing (and being reallocated) for the whole batch
  local BSTMT = Cmt(V"stmt", ident_cmt)
  G.batch = Ct(BSTMT * BSTMT ^ -(BATCH - 1)) * Cp()
  G.fexpr = ws * expr * Cp()

  G[1] = "batch"
  local batch = P(G)
  G[1] = "top"
  local top = P(G)
  G[1] = "stmt"
  M._TOP_STMT = P(G)
  G[1] = "fexpr"
  local fexpr = P(G)
  local nrules = 0
  for k in pairs(G) do if type(k) == "string" then nrules = nrules + 1 end end
  return top, fexpr, nrules, batch
end

local TOP, FEXPR_FAST, NRULES, BATCHTOP = build(false, false)
local FLATTOP, FLATFEXPR_ = build(false, true)
local ITOP = build(true, false)
FEXPR, FLATFEXPR = FEXPR_FAST, FLATFEXPR_
M.NRULES = NRULES
M._TOP = TOP
local SKIP = (S(" \t\f\r") ^ 0 * P"\n") ^ 0 * S(" \t\f\r") ^ 0 * Cp()

---------------------------------------------------------------------------------------
-- the entry point

local HINTS -- loaded lazily from dana.diag

local function record(ctx, line, col, msg)
  local lstart, src = ctx.lstart, ctx.source
  local a = lstart[line]
  local sl
  if a then
    local b = lstart[line + 1]
    sl = sub(src, a, b and b - 1 or #src):gsub("\r?\n$", "")
    if line == 1 then sl = sl:gsub("^\239\187\191", "") end
  end
  if HINTS == nil then
    local ok, diag = pcall(require, "dana.diag")
    HINTS = ok and diag.hint or false
  end
  return { kind = "SyntaxError", code = "ESYNTAX", file = ctx.chunkname, line = line, col = col,
    msg = msg, message = msg, source_line = sl or "", hint = HINTS and HINTS(msg) or nil }
end

--- A SyntaxError record like the parser's, for errors found after parsing (dana.translate).
function M.error_record(source, chunkname, line, col, msg)
  local lstart, p = { 1 }, 1
  while true do
    local q = find(source, "\n", p, true)
    if not q then break end
    p = q + 1
    lstart[#lstart + 1] = p
  end
  return record({ source = source, chunkname = chunkname, lstart = lstart }, line, col, msg)
end

local function describe_expected(st)
  local seen, list = {}, {}
  for _, e in ipairs(st.exp or {}) do
    if not seen[e] then seen[e] = true; list[#list + 1] = e end
  end
  if #list == 1 and list[1]:sub(1, 1) == "'" then return "expected " .. list[1] end
end

--- Parse a Dana source.
-- @tparam string source the program text
-- @tparam[opt] string chunkname the file name used in errors (default `"<string>"`)
-- @tparam[opt] table opts `max_source` (bytes, default 4 MiB), `max_depth` (bracket and
--   block nesting, default 200), `python_numbers` (accept hex/octal/binary literals and
--   `_` separators, which Dana itself rejects)
-- @treturn[1] table a `Module` node
-- @treturn[2] nil
-- @treturn[2] table a list of SyntaxError records (see docs/internals/ast.md)
local function parse(source, chunkname, opts)
  chunkname = chunkname or "<string>"
  local ctx = { source = source, chunkname = chunkname, lstart = { 1 } }
  local max_source = opts.max_source or M.DEFAULT_MAX_SOURCE
  if #source > max_source then
    return nil, { record(ctx, 1, 1, string.format("source too large (%d bytes; the limit is %d)",
      #source, max_source)) }
  end
  local max_depth = opts.max_depth or M.DEFAULT_MAX_DEPTH
  local lx = lexer.scan(source, { max_depth = max_depth })
  ctx.lstart = lx.lstart
  local T = lx.text
  local st = { T = T, ls = lx.ls, nls = #lx.ls, cur = 1, strs = lx.strs, errors = {}, far = 0, exp = {},
    pynum = opts.python_numbers }
  local body = {}
  local n = #T
  local pos = match(SKIP, T, 1)
  local solo = 0 -- statements left to match singly after a failed batch

  local function lexerr()
    local e = lx.err
    return nil, { record(ctx, e.line, e.col, e.msg) }
  end
  local function at(p) -- line, col of a failure position (skipping markers)
    while true do
      local b = byte(T, p)
      if b == 1 or b == 2 or b == 32 or b == 9 or b == 12 or b == 13 then p = p + 1 else break end
    end
    if p > n then
      local l = #lx.lstart
      return l, #source - lx.lstart[l] + 2
    end
    return lc(st, p)
  end

  while pos <= n do
    -- fast path: up to BATCH statements at once; anything unusual (no statement, a
    -- recorded error, a Lua error) falls through to the one-statement path below,
    -- which reports exactly as if no batch had been tried
    st.sure = nil
    if solo > 0 then solo = solo - 1
    else
      local bok, bnodes, bnp = pcall(match, BATCHTOP, T, pos, st)
      if bok and bnodes and #st.errors == 0 then
        for i = 1, #bnodes do body[#body + 1] = bnodes[i] end
        pos = bnp
        if pos > n then break end
      else
        solo = BATCH - 1 -- the rest of this window one statement at a time
      end
      st.errors = {}
    end
    st.sure = nil
    local ok, nodes, np = pcall(match, TOP, T, pos, st)
    if not ok and tostring(nodes):find("subcapture nesting too deep", 1, true) then
      st.errors = {}
      ok, nodes, np = pcall(match, FLATTOP, T, pos, st)
    end
    if not ok then
      if lx.err then return lexerr() end
      local l, c = at(pos)
      return nil, { record(ctx, l, c, "statement too deeply nested or too complex to parse "
        .. "(reduce the nesting of brackets, operators or lambdas)") }
    end
    if #st.errors > 0 then
      local errs = {}
      table.sort(st.errors, function(a, b)
        return a.line < b.line or (a.line == b.line and a.col < b.col)
      end)
      for i = 1, math.min(#st.errors, 10) do
        local e = st.errors[i]
        errs[i] = record(ctx, e.line, e.col, e.msg)
      end
      return nil, errs
    end
    if not nodes then
      st.far, st.exp, st.sure = pos, {}, nil
      local iok = pcall(match, ITOP, T, pos, st)
      local far = st.far
      if lx.err and (far >= lx.err.tpos or not iok) then return lexerr() end
      if not iok then
        local l, c = at(pos)
        return nil, { record(ctx, l, c, "statement too deeply nested or too complex to parse") }
      end
      local sure = st.sure
      local msg, p
      if sure and sure.endpos >= far then
        msg, p = sure.msg, sure.pos
      else
        p = far
        local b = byte(T, far)
        msg = describe_expected(st)
          or (b == 10 or b == 2 or b == 1) and "invalid syntax (unexpected end of line)"
          or far > n and "invalid syntax (unexpected end of file)"
          or "invalid syntax"
      end
      local l, c = at(p)
      return nil, { record(ctx, l, c, msg) }
    end
    for i = 1, #nodes do body[#body + 1] = nodes[i] end
    pos = np
  end
  if lx.err then return lexerr() end
  return { tag = "Module", body = body, chunkname = chunkname, line = 1, col = 1 }
end

function M.parse(source, chunkname, opts)
  if type(source) ~= "string" then
    error("bad argument #1 to 'parse' (string expected, got " .. type(source) .. ")", 2)
  end
  opts = opts or {}
  -- Parsing allocates many small tables that all stay alive (the AST); under the
  -- incremental collector a longer pause makes it 20-40% faster. The pause is restored
  -- afterwards, and the collector's mode is never switched (switching back to
  -- generational would cost a full collection of the host's heap on every call).
  local pause = opts.gc ~= false and collectgarbage("setpause", 1000)
  local ok, m, errs = pcall(parse, source, chunkname, opts)
  if pause then collectgarbage("setpause", pause) end
  if not ok then error(m, 0) end
  return m, errs
end

return M
