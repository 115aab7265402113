--- The sanitizer's Lua front: `dana.sanitize(value, opts)`.
-- The work is done in C (`dana.core.sanitize`, src/sanitize.c); this module only
-- turns LPeg patterns given in `opts.patterns` into range functions.
-- @module dana.sanitize
local core = require "dana.core"
local lpeg = require "lpeg"

local M = {}

local P, Cp, V = lpeg.P, lpeg.Cp, lpeg.V
local pattern_type = lpeg.type

--- Compiles an LPeg pattern into a function `s -> {{start, stop}, ...}` that
-- lists every non-overlapping match (1-based, inclusive), or returns nil when
-- there is none.
-- @param patt an LPeg pattern (or a string, taken literally)
-- @treturn function
function M.ranges(patt)
  patt = P(patt)
  -- the first match at or after the start position (LPeg's "anywhere" idiom)
  local find = P { Cp() * (patt / 0) * Cp() + 1 * V(1) }
  return function(s)
    local a0, b0 = find:match(s)
    if not a0 then return nil end -- the common case: no table is built
    local out, n = {}, #s
    local init = b0 > a0 and b0 or a0 + 1
    if b0 > a0 then out[1] = { a0, b0 - 1 } end
    while init <= n do
      local a, b = find:match(s, init)
      if not a then break end
      if b > a then
        out[#out + 1] = { a, b - 1 }
        init = b
      else
        init = a + 1 -- empty match: step over it
      end
    end
    return out
  end
end

local function compile_patterns(list)
  local out = {}
  for i, p in ipairs(list) do
    if type(p) == "function" then
      out[i] = p
    elseif type(p) == "string" or pattern_type(p) == "pattern" then
      out[i] = M.ranges(p)
    else
      error("opts.patterns[" .. i .. "]: LPeg pattern or function expected, got " .. type(p), 3)
    end
  end
  return out
end

--- Returns a sanitized deep copy of `value`; the input is never changed.
-- @param value any value
-- @tparam[opt] table opts
--  `shared` (default true: drop `private`/`system` of a context-like table),
--  `keep_prefix` (keep a public prefix such as `ghp_` before the mask),
--  `max_depth` (default 64), `keys` (extra key words),
--  `patterns` (LPeg patterns or functions `s -> {{start, stop}, ...}`),
--  `secrets` (list of exact values, or a `dana.SecretSet`, to mask anywhere)
-- @return the sanitized copy
function M.sanitize(value, opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #2 to 'sanitize' (table expected, got " .. type(opts) .. ")", 2)
  end
  if opts and opts.patterns then
    local o = {}
    for k, v in pairs(opts) do o[k] = v end
    o.patterns = compile_patterns(opts.patterns)
    opts = o
  end
  return core.sanitize(value, opts)
end

--- A set of registered secret values (`dana.SecretSet`): `:add(v)`, `:mask(text)`,
-- `:count()`, `:clear()`, `:close()`.
-- @tparam[opt] {string,...} values
M.secretset = core.secretset

--- Sensitivity class of a key name: 0 plain, 1 password, 2 token, 3 auth, 4 cookie.
M.key_class = core.key_class

M.MASK = "[REDACTED]"

return setmetatable(M, { __call = function(_, value, opts) return M.sanitize(value, opts) end })
