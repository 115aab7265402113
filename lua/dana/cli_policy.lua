--- `dana policy explain [--policy FILE] --role R [--own] OP RESOURCE`
-- Prints allow or deny and the rule that decided. Exit codes: 0 allowed,
-- 1 denied, 2 usage or policy error.
-- @module dana.cli_policy
local policy = require("dana.policy")

local M = {}

M.USAGE = [[
usage: dana policy explain [--policy FILE] --role ROLE [--own] OP RESOURCE
       dana policy roles [--policy FILE]
  OP        read, write, delete, call or import
  RESOURCE  private:x, public:x, system:x, local:x, call:NAME or import:MODULE
  --own     the private resource is the agent's own private scope
exit status: 0 allowed, 1 denied, 2 usage or policy error
]]

local function parse(args, err)
  local o = { pos = {} }
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--policy" or a == "--role" then
      if args[i + 1] == nil then err:write("dana policy: ", a, " needs a value\n") return nil end
      o[a:sub(3)] = args[i + 1]
      i = i + 2
    elseif a == "--own" then
      o.own = true
      i = i + 1
    elseif a == "-h" or a == "--help" then
      o.help = true
      i = i + 1
    elseif a:sub(1, 2) == "--" then
      err:write("dana policy: unknown option ", a, "\n")
      return nil
    else
      o.pos[#o.pos + 1] = a
      i = i + 1
    end
  end
  return o
end

local function load_policy(o, err)
  local p, msg = policy.load(o.policy)  -- also accepts the sanitize and injection fields
  if not p then err:write("dana policy: ", msg, "\n") end
  return p
end

--- Runs the command.
-- @tparam table args the arguments after `dana policy` (a leading "policy" is skipped)
-- @tparam[opt=io.stdout] file out
-- @tparam[opt=io.stderr] file err
-- @treturn integer exit code
function M.main(args, out, err)
  out, err = out or io.stdout, err or io.stderr
  args = args or {}
  local first = 1
  if args[1] == "policy" then first = 2 end
  local rest = table.move(args, first, #args, 1, {})
  local cmd = table.remove(rest, 1)
  if cmd == nil or cmd == "-h" or cmd == "--help" or cmd == "help" then
    (cmd and out or err):write(M.USAGE)
    return cmd and 0 or 2
  end
  local o = parse(rest, err)
  if not o then err:write(M.USAGE) return 2 end
  if o.help then out:write(M.USAGE) return 0 end
  if cmd == "explain" then
    if not o.role or #o.pos ~= 2 then err:write(M.USAGE) return 2 end
    local p = load_policy(o, err)
    if not p then return 2 end
    local op, resource = o.pos[1], o.pos[2]
    local ok, rule = p:decide(o.role, op, resource, o.own)
    out:write(ok and "allow" or "deny", "\n")
    out:write("  role:     ", o.role, "\n")
    out:write("  op:       ", op, "\n")
    out:write("  resource: ", resource, o.own and " (own)" or "", "\n")
    out:write("  rule:     ", rule, "\n")
    p:close()
    return ok and 0 or 1
  elseif cmd == "roles" then
    local p = load_policy(o, err)
    if not p then return 2 end
    for _, name in ipairs(p:roles()) do
      local r = p:role(name)
      out:write(name)
      if #r.inherits > 0 then out:write(" (inherits ", table.concat(r.inherits, ", "), ")") end
      out:write("\n")
      for _, rule in ipairs(r.rules) do
        out:write("  ", rule.kind, " ", rule.perm, rule.from ~= name and ("  (from " .. rule.from .. ")") or "", "\n")
      end
    end
    p:close()
    return 0
  end
  err:write("dana policy: unknown command '", tostring(cmd), "'\n", M.USAGE)
  return 2
end

return M
