-- Translation speed: MB of Dana source per second through dana.translate (parse,
-- analyze, codegen), on the snippet of bench/parse.lua repeated to about 2 MB, and on
-- the same with the names it defines made distinct in every copy, and on every program
-- of spec/fixtures/translate/ and bench/programs/.
--   lua5.4 bench/translate.lua
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local translate = require("dana.translate").translate
local clock = os.clock

local function read(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function rate(sources, reps)
  collectgarbage() -- each row starts from a clean heap (not paying for the previous row's garbage)
  local bytes, best = 0, math.huge
  for _, s in ipairs(sources) do bytes = bytes + #s end
  for _ = 1, reps do
    local t0 = clock()
    for i, s in ipairs(sources) do assert(translate(s, "b" .. i .. ".na")) end
    local t = clock() - t0
    if t < best then best = t end
  end
  return bytes / best / 1e6, bytes
end

-- the typical-source snippet of bench/parse.lua
local snippet = read("bench/parse.lua"):match("local snippet = %[==%[\n(.-)%]==%]")
local big = {}
local n = 0
while n < 2e6 do
  big[#big + 1] = snippet
  n = n + #snippet
end
local one = { table.concat(big) }

-- the same size with every name the snippet defines made distinct in each copy (a module
-- with many top-level names: bigger scope tables, no memo hits in codegen)
local DEFINED = {}
for w in snippet:gmatch("def%s+([%a_][%w_]*)") do DEFINED[w] = true end
for w in snippet:gmatch("struct%s+([%a_][%w_]*)") do DEFINED[w] = true end
for w in snippet:gmatch("\n%s*([%a_][%w_]*)%s*=[^=]") do DEFINED[w] = true end
local distinct = {}
n = 0
while n < 2e6 do
  local k = #distinct + 1
  distinct[k] = snippet:gsub("[%a_][%w_]*", function(w)
    if DEFINED[w] then return w .. "_" .. k end
  end)
  n = n + #distinct[k]
end
distinct = { table.concat(distinct) }

local files = {}
for _, dir in ipairs { "spec/fixtures/translate", "bench/programs" } do
  local p = io.popen("ls " .. dir .. "/*.na 2>/dev/null")
  for path in p:lines() do files[#files + 1] = read(path) end
  p:close()
end

print(("%-34s %10s %8s"):format("input", "bytes", "MB/s"))
local r, b = rate(one, 3)
print(("%-34s %10d %8.2f"):format("one 2 MB file (bench/parse.lua)", b, r))
r, b = rate(distinct, 3)
print(("%-34s %10d %8.2f"):format("2 MB, distinct names per copy", b, r))
r, b = rate(files, 20)
print(("%-34s %10d %8.2f"):format(#files .. " small files", b, r))
print("target: >= 2 MB/s")
