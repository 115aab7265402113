-- Translates a corpus of Dana sources and writes each translation to DIR, so that a change
-- meant to be output-neutral (a speed-up of the translator) can be checked with diff -r:
--   lua5.4 tools/translate-corpus.lua /tmp/before   (change the translator)
--   lua5.4 tools/translate-corpus.lua /tmp/after && diff -r /tmp/before /tmp/after
-- The corpus: every .na file under spec/, examples/ and bench/, the Dana sources quoted in
-- spec/dana/*_spec.lua, and the bench/parse.lua snippet (also with distinct names).
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local translate = require("dana.translate").translate

local dir = assert(arg[1], "usage: lua5.4 tools/translate-corpus.lua DIR")
os.execute("mkdir -p '" .. dir .. "'")

local function read(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local sources = {} -- { name, source }
local p = io.popen("find spec examples bench -name '*.na' | sort")
for path in p:lines() do sources[#sources + 1] = { path:gsub("/", "_"), read(path) } end
p:close()
p = io.popen("ls spec/dana/*_spec.lua")
for path in p:lines() do
  local n = 0
  for body in read(path):gmatch("%[(=*)%[\n?(.-)%]%1%]") do
    n = n + 1
    sources[#sources + 1] = { path:gsub("/", "_") .. "." .. n, body }
  end
end
p:close()
local snippet = read("bench/parse.lua"):match("local snippet = %[==%[\n(.-)%]==%]")
sources[#sources + 1] = { "snippet", snippet }
local parts = {}
for k = 1, 200 do
  parts[k] = snippet:gsub("[%a_][%w_]*", function(w)
    if w == "Item" or w == "summarize" or w == "message" or w == "names" then return w .. k end
  end)
end
sources[#sources + 1] = { "snippet_distinct", table.concat(parts) }

local ok, bad = 0, 0
for _, s in ipairs(sources) do
  local lua, err = translate(s[2], "corpus.na")
  local f = assert(io.open(dir .. "/" .. s[1] .. ".out", "wb"))
  if lua then
    f:write(lua)
    ok = ok + 1
  else
    f:write("ERROR ", err[1].line, ":", err[1].col, " ", err[1].msg, "\n")
    bad = bad + 1
  end
  f:close()
end
print(("%d sources: %d translated, %d errors, written to %s"):format(#sources, ok, bad, dir))
