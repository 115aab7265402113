-- Golden translations: spec/fixtures/translate/NAME.na is translated and compared byte for
-- byte with NAME.lua. DANA_BLESS=1 rewrites the expected files. Every fixture must also load
-- as Lua text and keep Dana line N on Lua line N (same number of lines).
local translate = require("dana.translate").translate

local DIR = "spec/fixtures/translate/"

local function read(p)
  local f = io.open(p, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function write(p, s)
  local f = assert(io.open(p, "wb"))
  f:write(s)
  f:close()
end

local function fixtures()
  local names = {}
  local p = io.popen('ls "' .. DIR .. '" 2>/dev/null')
  for line in p:lines() do
    local n = line:match("^(.+)%.na$")
    if n then names[#names + 1] = n end
  end
  p:close()
  table.sort(names)
  return names
end

local function lines(s)
  local n = 0
  for _ in (s .. (s:sub(-1) == "\n" and "" or "\n")):gmatch("[^\n]*\n") do n = n + 1 end
  return n
end

describe("golden translations", function()
  local names = fixtures()
  it("has at least 15 fixtures", function()
    assert.is_true(#names >= 15, "only " .. #names .. " fixtures")
  end)
  for _, name in ipairs(names) do
    it(name, function()
      local src = assert(read(DIR .. name .. ".na"))
      local lua_src, info = translate(src, name .. ".na")
      if not lua_src then
        error("translation failed: " .. tostring(info and info[1] and (info[1].msg or info[1].message)))
      end
      assert(load(lua_src, "@" .. name .. ".na", "t", {}))
      assert.equal(lines(src), lines(lua_src), "line count differs (line alignment)")
      local golden = DIR .. name .. ".lua"
      if os.getenv("DANA_BLESS") == "1" then
        write(golden, lua_src)
        return
      end
      local want = read(golden)
      assert(want, "missing " .. golden .. " (run with DANA_BLESS=1)")
      if want ~= lua_src then
        local tmp = os.tmpname()
        write(tmp, lua_src)
        local p = io.popen('git diff --no-index --no-color "' .. golden .. '" "' .. tmp .. '" 2>&1')
        local diff = p:read("a")
        p:close()
        os.remove(tmp)
        error("translation of " .. name .. ".na differs from " .. golden .. ":\n" .. diff)
      end
    end)
  end
end)
