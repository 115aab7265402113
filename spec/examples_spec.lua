-- Every example runs: programs (*.na, and untrusted *.lua) through bin/dana,
-- hosts (embed.lua) with lua5.4. When NAME.expected exists, the standard
-- output must equal it.
local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>/dev/null; echo \"exit:$?\""))
  local out = p:read("a")
  p:close()
  local body, code = out:match("^(.-)exit:(%d+)\n$")
  return body, tonumber(code)
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local hosts = { ["embed.lua"] = true }

describe("examples", function()
  local p = assert(io.popen("ls examples"))
  local names = {}
  for name in p:lines() do names[#names + 1] = name end
  p:close()
  table.sort(names)
  local count = 0
  for _, name in ipairs(names) do
    if name:match("%.na$") or name:match("%.lua$") then
      count = count + 1
      it(name, function()
        local src = read("examples/" .. name)
        -- a program may say how it is run: "# args: ..." and "# expect-exit: N"
        local extra = src:match("\n?#%s*args:%s*([^\n]*)") or ""
        local want_code = tonumber(src:match("#%s*expect%-exit:%s*(%d+)")) or 0
        local cmd = hosts[name] and ("lua5.4 examples/" .. name)
          or ("bin/dana run " .. extra .. " examples/" .. name)
        local out, code = sh(cmd)
        assert.equal(want_code, code, out)
        local want = read("examples/" .. name:gsub("%.%w+$", "") .. ".expected")
        if want then assert.equal(want, out) end
      end)
    end
  end
  it("exist", function() assert.truthy(count >= 2) end)
end)
