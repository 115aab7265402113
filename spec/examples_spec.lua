-- Every example runs: programs (*.na, and untrusted *.lua) through bin/dana,
-- hosts (*_host.lua, embed.lua) with lua5.4. When NAME.expected exists, the
-- standard output must equal it.
local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1; echo \"exit:$?\""))
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
        local cmd = hosts[name] and ("lua5.4 examples/" .. name) or ("bin/dana run examples/" .. name)
        local out, code = sh(cmd)
        assert.equal(0, code, out)
        local want = read("examples/" .. name:gsub("%.%w+$", "") .. ".expected")
        if want then assert.equal(want, out) end
      end)
    end
  end
  it("exist", function() assert.truthy(count >= 2) end)
end)
