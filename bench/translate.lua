-- Translation speed: MB of Dana source per second through dana.translate (parse,
-- analyze, codegen), on the snippet of bench/parse.lua repeated to about 2 MB, and on
-- every program of spec/fixtures/translate/ and bench/programs/.
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

local files = {}
for _, dir in ipairs { "spec/fixtures/translate", "bench/programs" } do
  local p = io.popen("ls " .. dir .. "/*.na 2>/dev/null")
  for path in p:lines() do files[#files + 1] = read(path) end
  p:close()
end

print(("%-34s %10s %8s"):format("input", "bytes", "MB/s"))
local r, b = rate(one, 3)
print(("%-34s %10d %8.2f"):format("one 2 MB file (bench/parse.lua)", b, r))
r, b = rate(files, 20)
print(("%-34s %10d %8.2f"):format(#files .. " small files", b, r))
print("target: >= 2 MB/s")
