-- Writes dana-sandbox-scm-1.rockspec from the tree: every src/*.c goes into
-- the one C module, every lua/dana/*.lua is listed (LuaRocks' auto-detection
-- misnames the C module, see CONVENTIONS.md). `--check` compares instead.
local function list(cmd)
  local t = {}
  local p = assert(io.popen(cmd))
  for l in p:lines() do t[#t + 1] = l end
  p:close()
  table.sort(t)
  return t
end

local csrc = list("ls src/*.c")
local lua = list("ls lua/dana/*.lua")

local out = {}
local function w(s) out[#out + 1] = s end
w('rockspec_format = "3.0"')
w('package = "dana-sandbox"')
w('version = "scm-1"')
w('source = { url = "git+file:///work/main" }')
w('description = {')
w('  summary = "Run untrusted Dana and Lua code in sandboxed Lua 5.4 states",')
w('  detailed = [[A Lua 5.4 rock in C and Lua: the Dana Sandbox Security Architecture (scopes,')
w('sanitization, roles, audit log, resource limits) for Lua-embedding hosts.]],')
w('  license = "MIT",')
w('}')
w('dependencies = { "lua >= 5.4, < 5.5", "lpeg >= 1.0", "lua-cjson" }')
w('external_dependencies = { SODIUM = { header = "sodium.h", library = "sodium" } }')
w('build = {')
w('  type = "builtin",')
w('  modules = {')
w('    ["dana.core"] = {')
w('      sources = {')
for _, f in ipairs(csrc) do w('        "' .. f .. '",') end
w('      },')
w('      defines = { "_POSIX_C_SOURCE=200809L" },')
w('      libraries = { "sodium", "pthread" },')
w('      incdirs = { "src", "$(SODIUM_INCDIR)" },')
w('      libdirs = { "$(SODIUM_LIBDIR)" },')
w('    },')
for _, f in ipairs(lua) do
  local m = f:match("^lua/(.*)%.lua$"):gsub("/", ".")
  if m == "dana.init" then m = "dana" end
  w('    ["' .. m .. '"] = "' .. f .. '",')
end
w('  },')
w('  install = { bin = { dana = "bin/dana" } },')
w('}')
local text = table.concat(out, "\n") .. "\n"
local path = "dana-sandbox-scm-1.rockspec"
if arg[1] == "--check" then
  local f = io.open(path, "rb")
  local have = f and f:read("a")
  if f then f:close() end
  if have ~= text then
    io.stderr:write(path .. " is out of date: run lua5.4 tools/gen-rockspec.lua\n")
    os.exit(1)
  end
else
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end
