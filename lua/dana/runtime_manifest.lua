--- dana.runtime_manifest (host side): the Dana runtime modules to boot into an
-- agent, in load order, as `{ {name=, source=}, ... }`. The last module returns
-- the Dana env. Sources are read once from the files next to this module.
local MODULES = { "dana.runtime", "dana.runtime_methods", "dana.runtime_builtins",
  "dana.runtime_env" }

local function read(modname)
  local path = package.searchpath(modname, package.path)
  if not path then error("dana.runtime_manifest: cannot find " .. modname, 2) end
  local f = assert(io.open(path, "rb"))
  local src = f:read("a")
  f:close()
  return src
end

local list = {}
for i, name in ipairs(MODULES) do
  list[i] = { name = name, source = read(name) }
end
return list
