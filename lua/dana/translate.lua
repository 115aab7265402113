--- dana.translate: Dana source -> Lua source, chaining dana.grammar (parse),
-- dana.analyze (scopes) and dana.codegen (line-aligned Lua).
--
--     local lua_src, linemap = translate(source, "file.na")
--     -- or nil, errors (a list of records {kind, code, file, line, col, msg, message, ...})
--
-- `linemap[i]` is the Dana line of Lua line i (the output is line-aligned, so it is i;
-- `linemap.warnings` lists names that are neither locals nor builtins).
-- Set DANA_TIME=1 in the environment to print parse/codegen timings to stderr.
-- @module dana.translate
local grammar = require("dana.grammar")
local analyze = require("dana.analyze")
local codegen = require("dana.codegen")

local M = {}

local KNOWN = {}
for n in ([[print log log_level len sum max min abs round int float bool str type sorted reversed
  enumerate all any range list set isinstance dict tuple zip basic_sum basic_max basic_min reason
  llm context_aware_reason Exception BaseException ValueError TypeError KeyError IndexError NameError
  ZeroDivisionError AttributeError AssertionError RuntimeError NotImplementedError LookupError
  ArithmeticError RecursionError ImportError StopIteration OverflowError SandboxError
  UnboundLocalError eval exec compile open input globals locals vars dir hash getattr setattr
  delattr hasattr callable repr id memoryview pow issubclass iter next ascii divmod format bin oct
  hex object slice property classmethod staticmethod super __import__]]):gmatch("%S+") do
  KNOWN[n] = true
end

local timing = os.getenv and os.getenv("DANA_TIME")
local clock = os.clock
local find = string.find

--- Translates Dana source. Returns lua_source, linemap or nil, errors.
function M.translate(source, chunkname)
  chunkname = chunkname or "main.na"
  local t0 = timing and clock()
  -- The AST and the output are garbage the moment we return: collecting while we
  -- build them costs a fifth of the time, so the collector waits (bounded by the
  -- parser's source cap) and catches up afterwards.
  local pause = collectgarbage("setpause", 1000)
  local module, errs = grammar.parse(source, chunkname, { gc = false })
  if not module then
    collectgarbage("setpause", pause)
    return nil, errs
  end
  local t1 = timing and clock()
  -- a translator bug must come out as a typed error, never as a Lua error in the host
  local warnings
  local ok, lua_src = pcall(function()
    warnings = analyze.analyze(module, KNOWN)
    return codegen.generate(module)
  end)
  collectgarbage("setpause", pause)
  if not ok then
    local e = type(lua_src) == "table" and lua_src.dana_syntax_error and lua_src
      or { line = 1, col = 1, msg = "cannot translate: " .. tostring(lua_src) }
    return nil, { grammar.error_record(source, chunkname, e.line, e.col, e.msg) }
  end
  if timing then
    io.stderr:write(string.format("dana.translate %s: parse %.2f ms, analyze+codegen %.2f ms\n",
      chunkname, (t1 - t0) * 1000, (clock() - t1) * 1000))
  end
  local linemap = { warnings = warnings }
  local n, p = 1, 1
  while true do -- count the lines (plain find: memchr, not a pattern iterator)
    local q = find(lua_src, "\n", p, true)
    if not q then break end
    n = n + 1
    p = q + 1
  end
  for i = 1, n do linemap[i] = i end
  return lua_src, linemap
end

setmetatable(M, { __call = function(_, ...) return M.translate(...) end })

return M
