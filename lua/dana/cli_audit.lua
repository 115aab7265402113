--- `dana audit verify FILE [--chain-key-file K] [--no-head]` and
-- `dana audit show FILE [--agent A] [--op OP] [--decision D] [--tenant T] [--role R]`.
-- Exit codes: verify 0 intact, 1 tampered (naming the first bad entry), 2 usage
-- or read error; show 0, 2 on error.
-- @module dana.cli_audit
local audit = require("dana.audit")

local M = {}

M.USAGE = [[
usage: dana audit verify FILE [--chain-key-file KEYFILE] [--no-head]
       dana audit show FILE [--agent A] [--op OP] [--decision D] [--tenant T] [--role R]
exit status (verify): 0 intact, 1 tampered, 2 usage or read error
]]

local VALUED = { ["--agent"] = "agent", ["--op"] = "op", ["--decision"] = "decision",
                 ["--tenant"] = "tenant", ["--role"] = "role", ["--resource"] = "resource",
                 ["--chain-key-file"] = "keyfile" }

local function parse(args, err)
  local o = { pos = {}, filters = {} }
  local i = 1
  while i <= #args do
    local a = args[i]
    if VALUED[a] then
      if args[i + 1] == nil then err:write("dana audit: ", a, " needs a value\n") return nil end
      if a == "--chain-key-file" then o.keyfile = args[i + 1]
      else o.filters[VALUED[a]] = args[i + 1] end
      i = i + 2
    elseif a == "--no-head" then
      o.nohead = true
      i = i + 1
    elseif a:sub(1, 2) == "--" then
      err:write("dana audit: unknown option ", a, "\n")
      return nil
    else
      o.pos[#o.pos + 1] = a
      i = i + 1
    end
  end
  return o
end

--- Runs the command.
-- @tparam table args the arguments after `dana audit` (a leading "audit" is skipped)
-- @tparam[opt=io.stdout] file out
-- @tparam[opt=io.stderr] file err
-- @treturn integer exit code
function M.main(args, out, err)
  out, err = out or io.stdout, err or io.stderr
  args = args or {}
  local first = args[1] == "audit" and 2 or 1
  local rest = table.move(args, first, #args, 1, {})
  local cmd = table.remove(rest, 1)
  if cmd == "-h" or cmd == "--help" or cmd == "help" then out:write(M.USAGE) return 0 end
  local o = parse(rest, err)
  if not o or #o.pos ~= 1 then err:write(M.USAGE) return 2 end
  local file = o.pos[1]
  if cmd == "verify" then
    local key
    if o.keyfile then
      local f, ferr = io.open(o.keyfile, "rb")
      if not f then err:write("dana audit: cannot read key: ", ferr, "\n") return 2 end
      key = f:read("a")
      f:close()
    end
    local ok, msg, code = audit.verify(file, { chain_key = key, head = not o.nohead })
    if ok then
      out:write(file, ": intact, ", msg, " entr", msg == 1 and "y" or "ies", "\n")
      return 0
    end
    err:write(file, ": ", msg, "\n")
    return code == "ETAMPER" and 1 or 2
  elseif cmd == "show" then
    local text, msg = audit.show(file, o.filters)
    if not text then err:write("dana audit: ", msg, "\n") return 2 end
    out:write(text)
    return 0
  end
  err:write("dana audit: unknown command '", tostring(cmd), "'\n", M.USAGE)
  return 2
end

return M
