--- `dana check`: before anything runs, list every scope access and call in a
-- Dana file that the policy will deny for a role.
-- @module dana.check

local M = {}

local LLM_CALLS = { reason = true, llm = true, context_aware_reason = true }

--- Finds the accesses of a parsed module.
-- @tparam table module the AST (`dana.grammar.parse`)
-- @treturn table list of `{op=, resource=, line=, col=}`
function M.accesses(module)
  local ast = require "dana.ast"
  local found = {}
  local function add(op, resource, node)
    found[#found + 1] = { op = op, resource = resource, line = node.line, col = node.col }
  end
  -- the Scoped nodes that are assignment targets are writes, not reads
  local written = {}
  ast.walk(module, function(n)
    local t = n.tag
    if t == "Assign" or t == "TypedAssign" or t == "AugAssign" then
      local target = n.target
      -- `private:x[k] = v` and `private:x.f = v` change the stored value too
      while target and (target.tag == "Index" or target.tag == "Attr") do target = target.obj end
      if target and target.tag == "Scoped" and target.scope ~= "local" then
        written[target] = t
      end
    end
  end)
  ast.walk(module, function(n)
    local t = n.tag
    if t == "Scoped" and n.scope ~= "local" then
      local res = n.scope .. ":" .. n.name
      local how = written[n]
      if how == "AugAssign" or not how then add("read", res, n) end
      if how then add("write", res, n) end
    elseif t == "Call" and n.func and n.func.tag == "Name" then
      local f = n.func.name
      if LLM_CALLS[f] then
        add("call", "call:reason", n)
      elseif f == "use" and n.args[1] and n.args[1].tag == "String" and type(n.args[1].value) == "string" then
        add("call", "call:" .. n.args[1].value, n)
      end
    elseif t == "Import" then
      for _, alias in ipairs(n.names or {}) do add("import", "import:" .. alias.name, n) end
    elseif t == "ImportFrom" then
      add("import", "import:" .. (n.module or ""), n)
    end
  end)
  table.sort(found, function(a, b)
    if a.line ~= b.line then return a.line < b.line end
    return a.col < b.col
  end)
  return found
end

--- The command: `dana check [--policy FILE] [--role R] FILE.na`.
-- Exit 0 when nothing is denied, 1 when something is (or on a syntax error), 2 on usage errors.
function M.main(o, pos, out, errout)
  local dana = require "dana"
  local path = pos[1]
  if not path then
    errout:write("dana check: no file given\n")
    return 2
  end
  local f, e = io.open(path, "rb")
  if not f then
    errout:write("dana check: ", e, "\n")
    return 2
  end
  local src = f:read("a")
  f:close()
  local name = path:match("[^/]+$")
  local module, errs = require("dana.grammar").parse(src, name)
  if not module then
    errout:write(tostring(dana.translation_error(errs, name, src)), "\n")
    return 1
  end
  local P = require "dana.policy"
  local policy, perr
  if o.policy then
    policy, perr = P.load(o.policy)
  else
    policy = P.sandbox_default()  -- what `dana run` uses without --policy
  end
  if not policy then
    errout:write("dana check: policy: ", tostring(perr), "\n")
    return 2
  end
  local role = o.role or "agent"
  local denied = 0
  local list = M.accesses(module)
  for _, a in ipairs(list) do
    local ok, rule = policy:decide(role, a.op, a.resource, true)
    if not ok then
      denied = denied + 1
      out:write(("%s:%d:%d: denied: %s %s for role '%s' (%s)\n"):format(name, a.line, a.col, a.op,
        a.resource, role, rule))
    end
  end
  out:write(("%s: %d accesses, %d denied for role '%s'\n"):format(name, #list, denied, role))
  return denied == 0 and 0 or 1
end

return M
