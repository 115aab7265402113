-- The dana command, end to end (bin/dana in a subprocess; the REPL in-process).
local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>/tmp/dana-cli-stderr; echo \"exit:$?\""))
  local out = p:read("a")
  p:close()
  local f = io.open("/tmp/dana-cli-stderr")
  local err = f and f:read("a") or ""
  if f then f:close() end
  local body, code = out:match("^(.-)exit:(%d+)\n$")
  return body, tonumber(code), err
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

local dir = os.tmpname()
os.remove(dir)
os.execute("mkdir -p " .. dir)

describe("dana run", function()
  it("runs a Dana program and exits 0", function()
    local out, code = sh("bin/dana run " .. write(dir .. "/ok.na", 'x = 6 * 7\nprint(f"x = {x}")\n'))
    assert.equal(0, code)
    assert.equal("x = 42\n", out)
  end)

  it("prints file:line:col: Kind: message, the line and a caret, and exits 1", function()
    local _, code, err = sh("bin/dana run " .. write(dir .. "/bad.na", "a = 1\nb = a + undefined_name\n"))
    assert.equal(1, code)
    assert.matches("^bad.na:2:%d+: NameError: name 'undefined_name' is not defined", err)
    assert.matches("\nb = a %+ undefined_name\n", err)
    assert.matches("\n *%^", err)
  end)

  it("reports syntax errors with a position", function()
    local _, code, err = sh("bin/dana run " .. write(dir .. "/syn.na", "if x\n  y = 1\n"))
    assert.equal(1, code)
    assert.matches("^syn.na:1:%d+: SyntaxError", err)
  end)

  it("applies --role, --time and --memory", function()
    local f = write(dir .. "/sys.na", "system:x = 1\n")
    local _, code, err = sh("bin/dana run --role user " .. f)
    assert.equal(1, code)
    assert.matches("PermissionError", err)
    _, code = sh("bin/dana run --role admin " .. f)
    assert.equal(0, code)
    _, code, err = sh("bin/dana run --time 0.3 " .. write(dir .. "/loop.na", "while True:\n    pass\n"))
    assert.equal(1, code)
    assert.matches("TimeLimitError", err)
    _, code, err = sh("bin/dana run --memory 2M " .. write(dir .. "/mem.na",
      "a = []\nwhile True:\n    a.append(\"xxxxxxxxxxxxxxxxxxxxxxxx\" * 10)\n"))
    assert.equal(1, code)
    assert.matches("MemoryLimitError", err)
  end)

  it("runs untrusted Lua files too", function()
    local out, code = sh("bin/dana run " .. write(dir .. "/u.lua", "print(io == nil) return 1"))
    assert.equal(0, code)
    assert.equal("true\n", out)
  end)

  it("writes an audit log that verifies", function()
    local log = dir .. "/audit.log"
    local _, code = sh("bin/dana run --audit " .. log .. " " .. write(dir .. "/w.na", "public:n = 1\nprivate:m = 2\n"))
    assert.equal(0, code)
    local out
    out, code = sh("bin/dana audit verify " .. log)
    assert.equal(0, code, out)
    out, code = sh("bin/dana audit show " .. log .. " --op write")
    assert.equal(0, code)
    assert.matches("public:n", out)
    assert.matches("private:m", out)
  end)

  it("works from any directory", function()
    local out, code = sh("cd / && " .. os.getenv("PWD") .. "/bin/dana run " .. dir .. "/ok.na")
    assert.equal(0, code)
    assert.equal("x = 42\n", out)
  end)
end)

describe("dana translate and check", function()
  it("prints line-aligned Lua", function()
    local out, code = sh("bin/dana translate " .. write(dir .. "/t.na", "a = 1\n\nb = a + 1\n"))
    assert.equal(0, code)
    local n = select(2, out:gsub("\n", ""))
    assert.truthy(n >= 3 and n <= 4, out)
  end)

  it("lists denied accesses with positions", function()
    local f = write(dir .. "/c.na", "x = public:a\npublic:b = 1\nsystem:c = 2\n")
    local out, code = sh("bin/dana check --role user " .. f)
    assert.equal(1, code)
    assert.matches("c.na:2:1: denied: write public:b", out)
    assert.matches("c.na:3:1: denied: write system:c", out)
    assert.not_matches("public:a", out)
    out, code = sh("bin/dana check --role admin " .. f)
    assert.equal(0, code)
    assert.matches("0 denied", out)
  end)
end)

describe("dana policy explain", function()
  it("prints the decision and the rule", function()
    local out, code = sh("bin/dana policy explain --role user read public:x")
    assert.equal(0, code)
    assert.matches("allow", out)
    out, code = sh("bin/dana policy explain --role user write system:x")
    assert.equal(1, code)
    assert.matches("deny", out)
  end)
end)

describe("dana repl", function()
  local function repl(lines, args)
    local input = { i = 0, lines = lines }
    function input:read()
      self.i = self.i + 1
      return self.lines[self.i]
    end
    local out, err = {}, {}
    local o = { write = function(_, ...) for _, s in ipairs { ... } do out[#out + 1] = tostring(s) end end,
      flush = function() end }
    local e = { write = function(_, ...) for _, s in ipairs { ... } do err[#err + 1] = tostring(s) end end }
    local cli = require "dana.cli"
    local code = cli.main(args or { "repl" }, o, e, input)
    return table.concat(out), table.concat(err), code
  end

  it("keeps one agent across lines and blocks", function()
    local out, err, code = repl { "private:n = 41", "def inc(x):", "    return x + 1", "", "print(inc(private:n))" }
    assert.equal(0, code)
    assert.equal("", err)
    assert.matches("42\n", out)
  end)

  it("shows errors with positions and keeps a history", function()
    local out, err = repl { "1 / 0", "print(\"still alive\")", ":errors" }
    assert.matches("ZeroDivisionError", err)
    assert.matches("still alive", out)
    assert.matches("<repl:1>:1:%d+: ZeroDivisionError", out)
  end)
end)

describe("dana usage", function()
  it("explains itself and rejects unknown commands", function()
    local out, code = sh("bin/dana help")
    assert.equal(0, code)
    assert.matches("usage: dana", out)
    local _, code2, err = sh("bin/dana frobnicate")
    assert.equal(2, code2)
    assert.matches("unknown command", err)
  end)
end)

teardown(function()
  os.execute("rm -rf " .. dir .. " /tmp/dana-cli-stderr")
end)
