-- The audit writer (C) and its Lua tooling: line format, levels, sinks,
-- fail-closed behaviour on write errors, keyed value hashes, and the
-- `dana audit verify|show` commands.
local core = require("dana.core")
local audit = require("dana.audit")
local cjson = require("cjson")

local KEY = string.rep("k", 32)

local function tmpfile()
  local path = os.tmpname()
  os.remove(path)
  return path
end

local function cleanup(path)
  os.remove(path)
  os.remove(path .. ".head")
end

local function read_lines(path)
  local t = {}
  for l in io.lines(path) do t[#t + 1] = l end
  return t
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local FIELDS = { "seq", "timestamp", "tenant", "agent", "user", "session", "role", "op",
                 "resource", "decision", "value_hash", "detail", "prev", "hash" }

describe("audit line format", function()
  local path
  before_each(function() path = tmpfile() end)
  after_each(function() cleanup(path) end)

  it("one JSON line per event, fields in a fixed order, a hash chain", function()
    local au = assert(core.audit_open { path = path, tenant = "acme", key = KEY })
    assert.is_true(au:record { op = "write", resource = "private:x", decision = "allow", agent = "A",
      user = "u1", session = "s1", role = "agent", value = "secret value", detail = "agent allow private:own" })
    assert.is_true(au:record { op = "deny", resource = "system:admin_override", decision = "deny", agent = "A" })
    assert.is_true(au:record { op = "call", resource = "call:reason", decision = "allow", tenant = "other" })
    au:close()
    local lines = read_lines(path)
    assert.equal(3, #lines)
    local prev = string.rep("0", 64)
    for i, line in ipairs(lines) do
      -- fixed key order
      local keys = {}
      for k in line:gmatch('[{,]"([a-z_]+)":') do keys[#keys + 1] = k end
      assert.same(FIELDS, keys)
      local e = cjson.decode(line)
      assert.equal(i, e.seq)
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$", e.timestamp)
      assert.equal(os.date("!%Y-%m-%dT%H"), e.timestamp:sub(1, 13))   -- UTC
      assert.equal(prev, e.prev)
      local prefix = line:match('^(.*),"hash":"%x+"}$')
      assert.equal(core.audit_digest(prefix), e.hash)                -- SHA-256 over prev + line
      prev = e.hash
    end
    local e1, e2, e3 = cjson.decode(lines[1]), cjson.decode(lines[2]), cjson.decode(lines[3])
    assert.equal("acme", e1.tenant)
    assert.equal("A", e1.agent)
    assert.equal("u1", e1.user)
    assert.equal("s1", e1.session)
    assert.equal("agent", e1.role)
    assert.equal("write", e1.op)
    assert.equal("private:x", e1.resource)
    assert.equal("allow", e1.decision)
    assert.equal("agent allow private:own", e1.detail)
    assert.equal(cjson.null, e2.user)
    assert.equal(cjson.null, e2.value_hash)
    assert.equal("other", e3.tenant)
    -- the head sidecar
    local h = cjson.decode(slurp(path .. ".head"))
    assert.equal(3, h.seq)
    assert.equal(e3.hash, h.hash)
  end)

  it("value_hash is HMAC-SHA-256 with the tenant key, never the raw value", function()
    local key = string.rep("\x0b", 20)      -- RFC 4231 test case 1
    local seen = {}
    local au = assert(core.audit_open { path = path, key = key, ring = 10,
      callback = function(line) seen[#seen + 1] = line end })
    assert.is_true(au:record { op = "write", resource = "private:pw", decision = "allow", value = "Hi There" })
    assert.is_true(au:record { op = "write", resource = "private:n", decision = "allow", value = 42 })
    assert.is_true(au:record { op = "write", resource = "private:b", decision = "allow", value = true })
    local hash = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    local e = au:entries()
    assert.equal(hash, e[1].value_hash)
    assert.equal(hash, au:hash_value("Hi There"))
    assert.equal(au:hash_value("42"), e[2].value_hash)
    assert.equal(au:hash_value(true), e[3].value_hash)
    au:close()
    local text = slurp(path)
    assert.equal(hash, cjson.decode(read_lines(path)[1]).value_hash)
    for _, where in ipairs { text, table.concat(seen, "\n"), e[1].line } do
      assert.is_nil(where:find("Hi There", 1, true))
    end
    assert.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", core.audit_digest("abc"))
    assert.equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", core.audit_digest(""))
    -- the SHA-256 in use (SHA extensions when the CPU has them) agrees with libsodium's
    assert.is_true((core._audit_selftest(600)))
  end)

  it("different tenant keys give different hashes; no key means a random one", function()
    local a = assert(core.audit_open { key = string.rep("a", 16) })
    local b = assert(core.audit_open { key = string.rep("b", 16) })
    local c = assert(core.audit_open {})
    local d = assert(core.audit_open {})
    assert.are_not.equal(a:hash_value("v"), b:hash_value("v"))
    assert.are_not.equal(c:hash_value("v"), d:hash_value("v"))
    assert.equal(a:hash_value("v"), a:hash_value("v"))
  end)

  it("escapes NUL bytes, control characters, quotes and invalid UTF-8", function()
    local odd = "a\0b\n\r\t\"\\\27[31m\127é€😀"
    local au = assert(core.audit_open { path = path, ring = 5 })
    assert.is_true(au:record { op = "read", resource = "private:" .. odd, decision = "deny", agent = odd,
      tenant = "t\0", user = "", session = "\xff\xfe", role = "r\xc3", detail = odd })
    au:close()
    local text = slurp(path)
    assert.equal(1, select(2, text:gsub("\n", "")))              -- still one line
    assert.is_nil(text:find("\0", 1, true))
    assert.is_nil(text:find("\27", 1, true))
    local e = cjson.decode(read_lines(path)[1])
    assert.equal(odd, e.agent)
    assert.equal(odd, e.detail)
    assert.equal("private:" .. odd, e.resource)
    assert.equal("t\0", e.tenant)
    assert.equal("", e.user)
    assert.equal("\\xff\\xfe", e.session)                          -- invalid bytes as text
    assert.equal("r\\xc3", e.role)
    assert.is_true(audit.verify(path))
  end)

  it("cuts overlong fields", function()
    local au = assert(core.audit_open { ring = 1 })
    assert.is_true(au:record { op = "anomaly", resource = "agent:A", decision = "flag",
      detail = string.rep("x", 5000) })
    local e = cjson.decode(au:entries()[1].line)
    assert.equal(1024 + 3, #e.detail)
    assert.matches("%.%.%.$", e.detail)
  end)

  it("accepts every documented op and refuses others", function()
    local au = assert(core.audit_open { ring = 20 })
    for _, op in ipairs { "read", "write", "delete", "call", "import", "deny", "limit", "escalate", "anomaly" } do
      assert.is_true(au:record { op = op, resource = "private:x", decision = "deny" })
    end
    assert.equal(9, #au:entries())
    assert.has_error(function() au:record { op = "frob", resource = "x", decision = "allow" } end)
    assert.has_error(function() au:record { op = "read\0", resource = "x", decision = "allow" } end)
    assert.has_error(function() au:record { op = "read", decision = "allow" } end)
    assert.has_error(function() au:record { op = "read", resource = "x" } end)
    assert.has_error(function() au:record { op = "read", resource = "x", decision = "allow", bogus = 1 } end)
    assert.has_error(function() au:record { op = "read", resource = "x", decision = "allow", value = {} } end)
    assert.has_error(function() au:record { op = "read", resource = "x", decision = "allow", agent = 5 } end)
  end)
end)

describe("audit levels", function()
  it("none records nothing", function()
    local lines = {}
    local au = assert(core.audit_open { level = "none", callback = function(l) lines[#lines + 1] = l end })
    assert.is_true(au:record { op = "write", resource = "private:x", decision = "allow", value = "v" })
    assert.equal(0, #lines)
    assert.equal(0, (au:head()))
    assert.equal("none", au:level())
    assert.is_false(au:wants("write", "private:x"))
  end)

  it("metadata records events without value hashes", function()
    local au = assert(core.audit_open { level = "metadata", ring = 5 })
    assert.is_true(au:record { op = "write", resource = "private:x", decision = "allow", value = "v" })
    local e = au:entries()[1]
    assert.is_nil(e.value_hash)
    assert.matches('"value_hash":null', e.line)
  end)

  it("all (the default) records writes, private/system reads, denials; public reads on request", function()
    local au = assert(core.audit_open { ring = 50 })
    assert.equal("all", au:level())
    local function rec(op, res, dec)
      assert.is_true(au:record { op = op, resource = res, decision = dec or "allow", value = "v" })
    end
    rec("read", "public:x")            -- skipped
    rec("read", "local:x")             -- skipped
    rec("read", "x")                   -- skipped (unscoped = local)
    rec("read", "public:x", "deny")
    rec("read", "private:x")
    rec("read", "system:x")
    rec("read", "private.y")
    rec("write", "public:x")
    rec("delete", "public:x")
    rec("call", "call:reason")
    local got = {}
    for _, e in ipairs(au:entries()) do got[#got + 1] = e.op .. " " .. e.resource .. " " .. e.decision end
    assert.same({ "read public:x deny", "read private:x allow", "read system:x allow", "read private.y allow",
                  "write public:x allow", "delete public:x allow", "call call:reason allow" }, got)
    assert.is_false(au:wants("read", "public:x"))
    assert.is_true(au:wants("read", "public:x", "deny"))
    assert.is_true(au:wants("read", "system:x"))
    local all = assert(core.audit_open { ring = 5, public_reads = true })
    assert.is_true(all:record { op = "read", resource = "public:x", decision = "allow" })
    assert.equal(1, #all:entries())
  end)

  it("refuses unknown levels and options", function()
    assert.has_error(function() core.audit_open { level = "everything" } end)
    assert.has_error(function() core.audit_open { sink = "x" } end)
    assert.has_error(function() core.audit_open { key = "short" } end)
    assert.has_error(function() core.audit_open { chain_key = "short" } end)
    assert.has_error(function() core.audit_open { ring = -1 } end)
    assert.has_error(function() core.audit_open { callback = 1 } end)
    assert.has_error(function() core.audit_open { path = "a\0b" } end)
    assert.has_error(function() core.audit_open() end)
  end)
end)

describe("audit sinks", function()
  it("the ring keeps the newest entries, oldest first", function()
    local au = assert(core.audit_open { ring = 3 })
    for i = 1, 5 do assert.is_true(au:record { op = "write", resource = "public:k" .. i, decision = "allow" }) end
    local e = au:entries()
    assert.equal(3, #e)
    assert.same({ 3, 4, 5 }, { e[1].seq, e[2].seq, e[3].seq })
    assert.equal("public:k5", e[3].resource)
    assert.equal(e[2].hash, e[3].prev)
    local seq, hash = au:head()
    assert.equal(5, seq)
    assert.equal(e[3].hash, hash)
  end)

  it("the callback gets each line; an error or false refuses the event", function()
    local lines = {}
    local au = assert(core.audit_open { callback = function(l) lines[#lines + 1] = l end })
    assert.is_true(au:record { op = "call", resource = "call:reason", decision = "allow" })
    assert.equal(1, #lines)
    assert.equal(1, cjson.decode(lines[1]).seq)
    local bad = assert(core.audit_open { callback = function() error("sink down") end })
    local ok, err, code = bad:record { op = "call", resource = "call:reason", decision = "allow" }
    assert.is_nil(ok)
    assert.equal("EAUDIT", code)
    assert.matches("sink down", err)
    local no = assert(core.audit_open { callback = function() return false, "full" end })
    ok, err = no:record { op = "call", resource = "call:reason", decision = "allow" }
    assert.is_nil(ok)
    assert.matches("refused the entry: full", err)
  end)

  it("file, ring and callback together see the same lines", function()
    local path = tmpfile()
    local lines = {}
    local au = assert(core.audit_open { path = path, ring = 10, callback = function(l) lines[#lines + 1] = l end })
    for i = 1, 4 do assert.is_true(au:record { op = "write", resource = "public:x", decision = "allow", value = i }) end
    local ring = au:entries()
    au:close()
    local file = read_lines(path)
    for i = 1, 4 do
      assert.equal(file[i], lines[i])
      assert.equal(file[i], ring[i].line)
    end
    cleanup(path)
  end)

  it("a file log resumes its chain when reopened", function()
    local path = tmpfile()
    local au = assert(core.audit_open { path = path })
    for _ = 1, 3 do assert(au:record { op = "write", resource = "public:x", decision = "allow" }) end
    au:close()
    au = assert(core.audit_open { path = path })
    assert.equal(3, (au:head()))
    for _ = 1, 2 do assert(au:record { op = "write", resource = "public:x", decision = "allow" }) end
    au:close()
    local ok, n = audit.verify(path)
    assert.is_true(ok)
    assert.equal(5, n)
    cleanup(path)
  end)

  it("head = false writes no sidecar and still resumes from the last line", function()
    local path = tmpfile()
    for _ = 1, 2 do
      local au = assert(core.audit_open { path = path, head = false })
      for _ = 1, 2 do assert(au:record { op = "write", resource = "public:x", decision = "allow" }) end
      au:close()
    end
    assert.is_nil(io.open(path .. ".head"))
    local ok, n = audit.verify(path, { head = false })
    assert.is_true(ok)
    assert.equal(4, n)
    assert.matches("^head:", select(2, audit.verify(path)))
    cleanup(path)
  end)

  it("the callback runs from any coroutine of the owning state", function()
    local lines = {}
    local au = assert(core.audit_open { callback = function(l) lines[#lines + 1] = l end })
    local co = coroutine.wrap(function()
      return au:record { op = "call", resource = "call:reason", decision = "allow" }
    end)
    assert.is_true(co())
    assert.equal(1, #lines)
  end)

  it("refuses to reopen a log that does not match its head", function()
    local path = tmpfile()
    local au = assert(core.audit_open { path = path })
    for _ = 1, 3 do assert(au:record { op = "write", resource = "public:x", decision = "allow" }) end
    au:close()
    local lines = read_lines(path)
    local f = assert(io.open(path, "wb"))
    f:write(lines[1], "\n", lines[2], "\n")
    f:close()
    local au2, err, code = core.audit_open { path = path }
    assert.is_nil(au2)
    assert.equal("EAUDIT", code)
    assert.matches("ends at seq 2 but .* says seq 3", err)
    os.remove(path .. ".head")
    au2, err = core.audit_open { path = path }
    assert.is_nil(au2)
    assert.matches("no head file", err)
    cleanup(path)
  end)

  it("a chain key makes the chain and the head keyed", function()
    local path = tmpfile()
    local ck = string.rep("c", 32)
    local au = assert(core.audit_open { path = path, chain_key = ck })
    for _ = 1, 3 do assert(au:record { op = "write", resource = "public:x", decision = "allow" }) end
    au:close()
    assert.is_true(audit.verify(path, { chain_key = ck }))
    local ok, err = audit.verify(path)
    assert.is_nil(ok)
    assert.matches("^entry 1: hash mismatch", err)
    ok, err = audit.verify(path, { chain_key = string.rep("d", 32) })
    assert.is_nil(ok)
    assert.matches("^entry 1:", err)
    assert.is_nil((core.audit_open { path = path, chain_key = string.rep("d", 32) }))
    local au3, err3 = core.audit_open { path = path }       -- the keyed chain needs its key
    assert.is_nil(au3)
    assert.matches("does not verify without a chain_key", err3)
    au = assert(core.audit_open { path = path, chain_key = ck })
    assert(au:record { op = "write", resource = "public:x", decision = "allow" })
    au:close()
    assert.is_true(audit.verify(path, { chain_key = ck }))
    cleanup(path)
  end)
end)

describe("audit fails closed", function()
  it("a write error on /dev/full is reported and sticky", function()
    local au = assert(core.audit_open { path = "/dev/full", ring = 5 })
    local ok, err, code = au:record { op = "write", resource = "private:x", decision = "allow" }
    assert.is_nil(ok)
    assert.equal("EAUDIT", code)
    assert.matches("No space left on device", err)
    assert.equal(0, #au:entries())                 -- not recorded anywhere
    assert.equal(0, (au:head()))
    ok, err = au:record { op = "read", resource = "private:x", decision = "allow" }
    assert.is_nil(ok)
    assert.matches("refused until reopened", err)
    local broken, why = au:broken()
    assert.is_true(broken)
    assert.matches("/dev/full", why)
    -- level none does not write, so it cannot fail
    local none = assert(core.audit_open { path = "/dev/full", level = "none" })
    assert.is_true(none:record { op = "write", resource = "private:x", decision = "allow" })
  end)

  it("fsync on /dev/full fails too", function()
    local au = assert(core.audit_open { path = "/dev/full", fsync = true })
    assert.is_nil((au:record { op = "write", resource = "private:x", decision = "allow" }))
  end)

  it("unopenable paths fail with nil, message, EAUDIT", function()
    local au, err, code = core.audit_open { path = "/nonexistent-dir/x.log" }
    assert.is_nil(au)
    assert.equal("EAUDIT", code)
    assert.matches("cannot open", err)
  end)

  it("a closed log refuses records", function()
    local au = assert(core.audit_open {})
    au:close()
    au:close()
    assert.has_error(function() au:record { op = "write", resource = "x", decision = "allow" } end,
      "attempt to use a closed audit log")
    assert.matches("closed", tostring(au))
    do
      local a2 <close> = assert(core.audit_open {})
      assert.is_true(a2:record { op = "call", resource = "call:x", decision = "allow" })
    end
  end)

  it("checks self on every method", function()
    local au = assert(core.audit_open {})
    for name, fn in pairs(getmetatable(au).__index) do
      assert.has_error(function() fn({}, {}) end, nil, name)
    end
    assert.has_error(function() core._audit_bench({}, {}, 1) end)
  end)
end)

describe("dana audit verify / show", function()
  local cli = require("dana.cli_audit")
  local function run(args)
    local out, err = {}, {}
    local function sink(t)
      return { write = function(self, ...) for _, s in ipairs { ... } do t[#t + 1] = tostring(s) end return self end }
    end
    local o, e = sink(out), sink(err)
    return cli.main(args, o, e), table.concat(out), table.concat(err)
  end
  local path
  before_each(function()
    path = tmpfile()
    local au = assert(core.audit_open { path = path, tenant = "acme" })
    assert(au:record { op = "write", resource = "public:x", decision = "allow", agent = "A", role = "agent" })
    assert(au:record { op = "deny", resource = "system:admin_override", decision = "deny", agent = "B",
      role = "agent", detail = "default deny" })
    assert(au:record { op = "call", resource = "call:reason", decision = "allow", agent = "B\27[2J", role = "agent" })
    au:close()
  end)
  after_each(function() cleanup(path) end)

  it("verify exits 0 on an intact log", function()
    local code, out = run { "verify", path }
    assert.equal(0, code)
    assert.matches("intact, 3 entries", out)
  end)

  it("verify exits 1 naming the first bad entry", function()
    local lines = read_lines(path)
    local f = assert(io.open(path, "wb"))
    f:write(lines[1], "\n", lines[2], "\n", (lines[3]:gsub("call:reason", "call:reasoX")), "\n")
    f:close()
    local code, _, err = run { "audit", "verify", path }
    assert.equal(1, code)
    assert.matches("entry 3: hash mismatch", err)
  end)

  it("verify exits 2 on a missing file or bad usage", function()
    assert.equal(2, (run { "verify", path .. ".nope" }))
    assert.equal(2, (run { "verify" }))
    assert.equal(2, (run { "verify", path, "--bogus" }))
  end)

  it("show prints a filtered table with control characters escaped", function()
    local code, out = run { "show", path }
    assert.equal(0, code)
    assert.matches("seq +timestamp +tenant +agent", out)
    assert.matches("3 entries\n$", out)
    assert.is_nil(out:find("\27", 1, true))
    assert.matches("B\\x1b%[2J", out)
    code, out = run { "show", path, "--decision", "deny" }
    assert.equal(0, code)
    assert.matches("system:admin_override", out)
    assert.matches("1 entry\n$", out)
    code, out = run { "show", path, "--agent", "A", "--op", "write" }
    assert.equal(0, code)
    assert.matches("public:x", out)
    assert.matches("1 entry\n$", out)
    code, out = run { "show", path, "--op", "import" }
    assert.equal(0, code)
    assert.matches("0 entries\n$", out)
    assert.equal(2, (run { "show", path .. ".nope" }))
  end)

  it("audit.entries decodes and filters", function()
    local e = assert(audit.entries(path, { agent = "B" }))
    assert.equal(1, #e)                   -- "B\27[2J" is another agent
    assert.equal(2, e[1].seq)
    assert.equal("default deny", e[1].detail)
    assert.is_nil(e[1].user)
  end)
end)
