--- The Dana AST: field tables, a compact s-expression dump and a generic walker.
-- Nodes are plain tables `{tag=, line=, col=, ...}` produced by `dana.grammar`;
-- docs/internals/ast.md is the contract.
-- @module dana.ast
local M = {}

local N, L, V = "node", "list", "value"

--- The one shared, read-only empty list: the parser's list of a node that has none of them
-- (most nodes), and codegen's "not made yet" tables. Writing to it is an error.
M.EMPTY = setmetatable({}, { __newindex = function() error("the AST's EMPTY list is read-only", 2) end })

--- Child fields of each tag, in order: `{ {name, kind}, ... }` where kind is
-- `"node"` (a node or nil), `"list"` (a list of nodes) or `"value"` (a plain Lua value).
M.fields = {
  Module = { { "body", L }, { "chunkname", V } },
  Assign = { { "target", N }, { "value", N } },
  TypedAssign = { { "target", N }, { "type", N }, { "value", N } },
  AugAssign = { { "target", N }, { "op", V }, { "value", N } },
  ExprStmt = { { "expr", N } },
  Assert = { { "test", N }, { "msg", N } },
  Return = { { "value", N } },
  Break = {}, Continue = {}, Pass = {},
  If = { { "test", N }, { "body", L }, { "elifs", L }, { "orelse", N } },
  Elif = { { "test", N }, { "body", L } },
  Else = { { "body", L } },
  While = { { "test", N }, { "body", L } },
  For = { { "targets", L }, { "unpack", V }, { "iter", N }, { "body", L } },
  Try = { { "body", L }, { "handlers", L }, { "finalbody", N } },
  Except = { { "types", L }, { "name", V }, { "body", L } },
  Finally = { { "body", L } },
  Raise = { { "exc", N }, { "cause", N } },
  With = { { "expr", N }, { "name", V }, { "body", L } },
  Import = { { "names", L } },
  ImportFrom = { { "module", V }, { "level", V }, { "names", L }, { "star", V } },
  Alias = { { "name", V }, { "asname", V } },
  FuncDef = { { "decorators", L }, { "sync", V }, { "receiver", N }, { "name", V },
    { "params", L }, { "returns", N }, { "body", L } },
  PipeDef = { { "decorators", L }, { "sync", V }, { "receiver", N }, { "name", V },
    { "params", L }, { "returns", N }, { "stages", L } },
  Stage = { { "expr", N }, { "alias", V } },
  Param = { { "name", V }, { "type", N }, { "default", N } },
  StructDef = { { "kind", V }, { "name", V }, { "docstring", N }, { "fields", L }, { "defs", L } },
  Field = { { "name", V }, { "type", N }, { "default", N } },
  InterfaceDef = { { "name", V }, { "docstring", N }, { "methods", L }, { "embeds", L } },
  MethodSig = { { "name", V }, { "params", L }, { "returns", N } },
  AgentDef = { { "name", V }, { "base", V }, { "body", L } },
  -- expressions
  Name = { { "name", V } },
  Scoped = { { "scope", V }, { "name", V } },
  Int = { { "value", V }, { "raw", V } },
  Float = { { "value", V }, { "raw", V } },
  String = { { "value", V }, { "raw", V } },
  FString = { { "parts", L }, { "raw", V } },
  FExpr = { { "expr", N }, { "spec", V }, { "text", V } },
  Bool = { { "value", V } },
  None = {},
  List = { { "elts", L } }, Tuple = { { "elts", L } }, Set = { { "elts", L } },
  Dict = { { "keys", L }, { "values", L } },
  ListComp = { { "elt", N }, { "targets", L }, { "unpack", V }, { "iter", N }, { "cond", N } },
  SetComp = { { "elt", N }, { "targets", L }, { "unpack", V }, { "iter", N }, { "cond", N } },
  DictComp = { { "key", N }, { "value", N }, { "targets", L }, { "unpack", V }, { "iter", N },
    { "cond", N } },
  Lambda = { { "receiver", N }, { "params", L }, { "body", N } },
  Placeholder = {},
  IfExp = { { "test", N }, { "body", N }, { "orelse", N } },
  BoolOp = { { "op", V }, { "left", N }, { "right", N } },
  UnOp = { { "op", V }, { "operand", N } },
  Compare = { { "op", V }, { "left", N }, { "right", N } },
  BinOp = { { "op", V }, { "left", N }, { "right", N } },
  Call = { { "func", N }, { "args", L }, { "kwargs", L } },
  Keyword = { { "name", V }, { "value", N } },
  Attr = { { "obj", N }, { "name", V } },
  Index = { { "obj", N }, { "index", N } },
  Slice = { { "lower", N }, { "upper", N }, { "step", N } },
  Type = { { "name", V }, { "args", L } },
  Union = { { "types", L } },
}

-- Fields left out of dumps: spellings and bookkeeping that tests rarely want.
local NODUMP = { raw = true, text = true, chunkname = true }

local function qstr(s)
  return '"' .. s:gsub('[%c"\\\128-\255]', function(c)
    if c == '"' then return '\\"' elseif c == "\\" then return "\\\\"
    elseif c == "\n" then return "\\n" elseif c == "\t" then return "\\t" end
    return string.format("\\%d", c:byte())
  end) .. '"'
end

local function value(v)
  local t = type(v)
  if v == nil then return "_"
  elseif t == "string" then return qstr(v)
  elseif math.type(v) == "integer" then return tostring(v)
  elseif t == "number" then
    if v ~= v then return "nan" elseif v == math.huge then return "inf"
    elseif v == -math.huge then return "-inf" end
    if v == math.floor(v) and math.abs(v) < 1e16 then return string.format("%.1f", v) end
    local s = string.format("%.17g", v)
    for prec = 1, 17 do -- shortest round-trip form
      local c = string.format("%." .. prec .. "g", v)
      if tonumber(c) == v then s = c; break end
    end
    if not s:find("[%.eEn]") then s = s .. ".0" end
    return s
  end
  return tostring(v)
end

local dump

local function dumplist(t, opts)
  if type(t) ~= "table" then return "_" end
  local out = {}
  for i, n in ipairs(t) do out[i] = dump(n, opts) end
  return "[" .. table.concat(out, " ") .. "]"
end

--- Render a node (or a list of nodes) as a compact s-expression.
-- `Name` nodes are bare identifiers, `Int`/`Float` bare numbers, `String` a quoted
-- string, `Bool` `True`/`False`, `None` `None`; any other node is `(Tag f1 f2 ...)` with
-- its `ast.fields` in order (lists in `[...]`, absent values as `_`, `raw`/`text`/
-- `chunkname` omitted). With `opts.pos`, every parenthesised node shows `@line:col`.
-- @param node a node, a list of nodes, or nil
-- @tparam[opt] table opts `{pos=true}`
-- @treturn string
function dump(node, opts)
  if node == nil then return "_" end
  if type(node) ~= "table" then return value(node) end
  local tag = node.tag
  if tag == nil then return dumplist(node, opts) end
  local pos = opts and opts.pos and ("@" .. tostring(node.line) .. ":" .. tostring(node.col)) or ""
  if pos == "" then
    if tag == "Name" then return node.name
    elseif tag == "Int" or tag == "Float" then return value(node.value)
    elseif tag == "String" then return qstr(node.value)
    elseif tag == "Bool" then return node.value and "True" or "False"
    elseif tag == "None" then return "None" end
  end
  local out = { tag .. pos }
  for _, f in ipairs(M.fields[tag] or {}) do
    local name, kind = f[1], f[2]
    if not NODUMP[name] then
      local v = node[name]
      if kind == N then out[#out + 1] = dump(v, opts)
      elseif kind == L then out[#out + 1] = dumplist(v, opts)
      else out[#out + 1] = value(v) end
    end
  end
  return "(" .. table.concat(out, " ") .. ")"
end
M.dump = dump

--- Visit `node` and every node below it, depth first, in field order.
-- `fn(node, parent)` is called before the children; returning `false` skips them.
-- @param node the root node
-- @tparam function fn the visitor
function M.walk(node, fn)
  local function visit(n, parent)
    if type(n) ~= "table" or not n.tag then return end
    if fn(n, parent) == false then return end
    for _, f in ipairs(M.fields[n.tag] or {}) do
      local v = n[f[1]]
      if f[2] == N then visit(v, n)
      elseif f[2] == L and type(v) == "table" then
        for _, c in ipairs(v) do visit(c, n) end
      end
    end
  end
  visit(node, nil)
end

return M
