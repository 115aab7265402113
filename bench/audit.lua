-- Audit throughput: entries per second written to a file (the issue asks for
-- >= 200,000/s), from a C loop (`_audit_bench`, the writer alone) and from Lua
-- (`au:record`), plus the ring sink, a keyed chain and verification.
-- Rates are per wall-clock second and per CPU second of this process (the two
-- differ when the machine is busy); the target is judged on CPU time.
-- Run from the checkout after `make`: lua5.4 bench/audit.lua [entries]
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = (os.getenv("DANA_CPATH") or "build/?.so") .. ";" .. package.cpath
local core = require("dana.core")
local audit = require("dana.audit")

local N = tonumber(arg and arg[1]) or 200000
local ev = { op = "write", resource = "private:notes", decision = "allow", tenant = "acme",
             agent = "agent-7", user = "alice", session = "s-1234", role = "agent",
             value = string.rep("v", 64), detail = "agent allow private:own" }

local function tmp()
  local p = os.tmpname()
  os.remove(p)
  return p
end

local rows = {}
local function row(name, n, wall, cpu) rows[#rows + 1] = { name, n, wall, cpu } end
local function timed(fn)
  local c0, w0 = os.clock(), core.policy_now()
  fn()
  return core.policy_now() - w0, os.clock() - c0
end

local files = {}
local function open(opts)
  local p = tmp()
  files[#files + 1] = p
  opts.path = p
  return assert(core.audit_open(opts)), p
end

-- C loop to a file (the head sidecar is rewritten on every entry)
local au, path = open { key = string.rep("k", 32) }
local wall, cpu = assert(core._audit_bench(au, ev, N))
au:close()
row("file, C loop", N, wall, cpu)
local file_rate = N / cpu

-- Lua au:record to a file
au = open { key = string.rep("k", 32) }
local n2 = math.max(1, N // 2)
row("file, Lua au:record", n2, timed(function() for _ = 1, n2 do assert(au:record(ev)) end end))
au:close()

-- file with fsync after every entry (few, it is slow)
au = open { fsync = true }
local n3 = math.max(1, N // 2000)
row("file + fsync, C loop", n3, assert(core._audit_bench(au, ev, n3)))
au:close()

-- ring only
au = assert(core.audit_open { ring = 10000 })
row("ring (10000), C loop", N, assert(core._audit_bench(au, ev, N)))
au:close()

-- file with a chain key (HMAC chain and head MAC)
au = open { chain_key = string.rep("c", 32) }
row("file + chain key, C loop", N, assert(core._audit_bench(au, ev, N)))
au:close()

row("verify (Lua + cjson)", N, timed(function() assert(audit.verify(path)) end))

local fmt = "%-26s %9s %8s %8s %13s %13s"
print(string.format(fmt, "audit", "entries", "wall s", "cpu s", "/s (wall)", "/s (cpu)"))
fmt = "%-26s %9d %8.3f %8.3f %13.0f %13.0f"
for _, r in ipairs(rows) do
  print(string.format(fmt, r[1], r[2], r[3], r[4], r[2] / r[3], r[2] / r[4]))
end
local f = io.open(path, "rb")
local size = f:seek("end")
f:close()
print(string.format("%.0f bytes per entry; target >= 200000 entries/s to a file: %s", size / N,
  file_rate >= 200000 and "met" or "NOT MET"))
for _, p in ipairs(files) do os.remove(p); os.remove(p .. ".head") end
if file_rate < 200000 then os.exit(1) end
