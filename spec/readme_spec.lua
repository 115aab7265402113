-- The README's quick start runs as written.
describe("README quick start", function()
  it("runs and prints what its comments say", function()
    local f = assert(io.open("README.md"))
    local text = f:read("a")
    f:close()
    local code = text:match("## Quick start %(Lua host%)%s+```lua\n(.-)```")
    assert.truthy(code, "no quick start block")
    local printed = {}
    local env = setmetatable({
      print = function(...)
        local t = table.pack(...)
        for i = 1, t.n do t[i] = tostring(t[i]) end
        printed[#printed + 1] = table.concat(t, " ")
      end,
    }, { __index = _G })
    assert(load(code, "=README", "t", env))()
    assert.equal("42", printed[1])
    assert.matches("^hi nil .*TimeLimitError", printed[2])
  end)
end)
