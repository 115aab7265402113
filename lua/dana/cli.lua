--- The `dana` command: run, check, translate, repl, audit, policy.
-- `main(args, out, err)` returns the exit code, so specs can call it in-process.
-- @module dana.cli

local M = {}

local USAGE = [[
usage: dana <command> [options]

  run FILE.na|FILE.lua   run a Dana program (or untrusted Lua) in a fresh agent
      --role R           role of the agent (default: agent; built-in: user, agent, admin)
      --agent NAME       agent name (default: main)     --user U   --session S
      --tenant T         tenant (default: default)
      --memory N[K|M|G]  memory limit        --time SECONDS   --instructions N
      --output N[K|M]    output limit        --calls N (host calls per minute)
      --policy FILE      policy (Lua table or JSON)
      --audit FILE       write the audit log to FILE
      --llm echo         offline deterministic LLM provider for reason()
  translate FILE.na      print the generated Lua
  check [--policy FILE] [--role R] FILE.na
                         syntax check; lists scope accesses and calls the policy denies
  repl [run options]     interactive: one agent across lines
  audit verify FILE      check the hash chain (exit 0 when intact)
  audit show FILE [--agent A] [--op OP] [--decision D]
  policy explain [--policy FILE] --role R OP RESOURCE
  help | version
]]

local function read_file(path)
  local f, e = io.open(path, "rb")
  if not f then return nil, e end
  local s = f:read("a")
  f:close()
  return s
end

-- The source named on a command line, or nil after telling why on errout.
local function read_source(cmd, path, errout)
  if not path then
    errout:write("dana ", cmd, ": no file given\n")
    return nil
  end
  local src, e = read_file(path)
  if not src then errout:write("dana ", cmd, ": ", e, "\n") end
  return src
end

--- Parses "64M", "512K", "1G", "1e6" into bytes.
function M.parse_size(s)
  local n, unit = tostring(s):match("^%s*([%d%.eE%+]+)%s*([KkMmGg]?)[Bb]?%s*$")
  n = tonumber(n)
  if not n then return nil end
  local mult = ({ k = 1024, m = 1024 * 1024, g = 1024 * 1024 * 1024 })[unit:lower()] or 1
  return math.floor(n * mult)
end

-- Options that take a value, and how to read it.
local OPTS = {
  role = "string", agent = "string", user = "string", session = "string", tenant = "string",
  memory = "size", output = "size", time = "number", instructions = "number", calls = "number",
  policy = "string", audit = "string", llm = "string",
  op = "string", decision = "string",
}

local function parse_args(args, first)
  local o, pos = {}, {}
  local i = first
  while i <= #args do
    local a = args[i]
    local name, inline = a:match("^%-%-([%w_-]+)=(.*)$")
    name = name or a:match("^%-%-([%w_-]+)$")
    if name then
      local kind = OPTS[name]
      if not kind then return nil, "unknown option --" .. name end
      local v = inline
      if v == nil then
        i = i + 1
        v = args[i]
      end
      if v == nil then return nil, "option --" .. name .. " needs a value" end
      if kind == "size" then
        local n = M.parse_size(v)
        if not n then return nil, "bad size for --" .. name .. ": " .. v end
        v = n
      elseif kind == "number" then
        local n = tonumber(v)
        if not n then return nil, "bad number for --" .. name .. ": " .. v end
        v = n
      end
      o[name] = v
    else
      pos[#pos + 1] = a
    end
    i = i + 1
  end
  return o, pos
end

local function make_agent(dana, o, out)
  local sbopts = {
    tenant = o.tenant or "default",
    print = function(_, text) out:write(text) end,
  }
  if o.policy then sbopts.policy = o.policy end  -- a path: dana.sandbox loads it
  if o.audit then sbopts.audit = { path = o.audit } end
  if o.llm then sbopts.llm = o.llm end
  local limits = {}
  if o.memory then limits.memory = o.memory end
  if o.time then limits.time = o.time end
  if o.instructions then limits.instructions = o.instructions end
  if o.output then limits.output = o.output end
  if o.calls then limits.calls_per_minute = o.calls end
  local ok, sb = pcall(dana.sandbox, sbopts)
  if not ok then return nil, (tostring(sb):gsub("^.-dana%.sandbox: ", "")) end
  local ok2, agent, err = pcall(sb.agent, sb, {
    name = o.agent or "main", user = o.user or os.getenv("USER") or "user",
    role = o.role or "agent", session = o.session or "cli", limits = limits,
  })
  if not ok2 then return nil, tostring(agent) end
  if not agent then return nil, tostring(err) end
  return agent, sb
end

local function show_error(err, errout)
  errout:write(tostring(err), "\n")
end

local function cmd_run(args, out, errout)
  local o, pos = parse_args(args, 2)
  if not o then
    errout:write("dana run: ", pos, "\n")
    return 2
  end
  local path = pos[1]
  local src = read_source("run", path, errout)
  if not src then return 2 end
  local dana = require "dana"
  local agent, sb = make_agent(dana, o, out)
  if not agent then
    errout:write("dana run: ", sb, "\n")
    return 2
  end
  local name = path:match("[^/]+$")
  local value, err
  if path:match("%.lua$") then
    value, err = agent:run_lua(src, name)
  else
    value, err = agent:run(src, name)
  end
  out:flush()
  agent:close()
  sb:close()
  if err then
    show_error(err, errout)
    return 1
  end
  local _ = value
  return 0
end

local function cmd_translate(args, out, errout)
  local path = args[2]
  local src = read_source("translate", path, errout)
  if not src then return 2 end
  local dana = require "dana"
  local name = path:match("[^/]+$")
  local lua_src, err = dana.translate(src, name)
  if not lua_src then
    show_error(dana.translation_error(err, name, src), errout)
    return 1
  end
  out:write(lua_src)
  if lua_src:sub(-1) ~= "\n" then out:write("\n") end
  return 0
end

local function cmd_check(args, out, errout)
  local o, pos = parse_args(args, 2)
  if not o then
    errout:write("dana check: ", pos, "\n")
    return 2
  end
  return require("dana.check").main(o, pos, out, errout)
end

-- A block goes on while lines are indented or the last line opened one.
local function needs_more(buf, line)
  if line:match(":%s*$") or line:match("\\%s*$") then return true end
  if #buf > 0 and line:match("^%s+%S") then return true end
  local opens = 0
  local all = table.concat(buf, "\n") .. "\n" .. line
  for c in all:gmatch("[%(%)%[%]{}]") do
    if c == "(" or c == "[" or c == "{" then opens = opens + 1 else opens = opens - 1 end
  end
  return opens > 0
end

local function cmd_repl(args, out, errout, input)
  local o, pos = parse_args(args, 2)
  if not o then
    errout:write("dana repl: ", pos, "\n")
    return 2
  end
  input = input or io.stdin
  local dana = require "dana"
  local agent, sb = make_agent(dana, o, out)
  if not agent then
    errout:write("dana repl: ", sb, "\n")
    return 2
  end
  local n, buf, errors = 0, {}, {}
  out:write("dana ", dana.version, " (role ", o.role or "agent", "); :quit to leave, :errors for the history\n")
  while true do
    out:write(#buf == 0 and ">>> " or "... ")
    out:flush()
    local line = input:read("l")
    if line == nil then break end
    if #buf == 0 and line == ":quit" then break end
    if #buf == 0 and line == ":errors" then
      for _, e in ipairs(errors) do out:write(e, "\n") end
    elseif #buf > 0 and line:match("^%s*$") then
      line = nil
    elseif needs_more(buf, line) then
      buf[#buf + 1] = line
    else
      buf[#buf + 1] = line
      line = nil
    end
    if line == nil and #buf > 0 then
      n = n + 1
      local src = table.concat(buf, "\n") .. "\n"
      buf = {}
      local value, err = agent:run(src, "<repl:" .. n .. ">")
      if err then
        local text = tostring(err)
        errors[#errors + 1] = text
        errout:write(text, "\n")
        if err.kind and err.kind:match("Limit") then agent:reset() end
      elseif value ~= nil then
        out:write(tostring(value), "\n")
      end
    end
  end
  agent:close()
  sb:close()
  return 0
end

local function delegate(modname, args, out, errout)
  local ok, m = pcall(require, modname)
  if not ok then
    errout:write("dana: ", modname, " is not available: ", tostring(m), "\n")
    return 2
  end
  local rest = {}
  for i = 2, #args do rest[#rest + 1] = args[i] end
  return m.main(rest, out, errout)
end

--- Runs the command line.
-- @tparam table args argument list (as `arg`)
-- @param out file-like with :write (standard output)
-- @param errout file-like with :write (standard error)
-- @treturn int exit code
function M.main(args, out, errout, input)
  out, errout = out or io.stdout, errout or io.stderr
  local cmd = args[1]
  if cmd == "run" then return cmd_run(args, out, errout)
  elseif cmd == "translate" then return cmd_translate(args, out, errout)
  elseif cmd == "check" then return cmd_check(args, out, errout)
  elseif cmd == "repl" then return cmd_repl(args, out, errout, input)
  elseif cmd == "audit" then return delegate("dana.cli_audit", args, out, errout)
  elseif cmd == "policy" then return delegate("dana.cli_policy", args, out, errout)
  elseif cmd == "version" or cmd == "--version" then
    out:write("dana ", require("dana").version, "\n")
    return 0
  elseif cmd == "help" or cmd == "--help" or cmd == "-h" then
    out:write(USAGE)
    return 0
  end
  errout:write(cmd and ("dana: unknown command '" .. cmd .. "'\n") or "", USAGE)
  return 2
end

return M
