-- The C fast path of the lexer (dana.core.lex_scan, src/lexer.c) against the Lua scan
-- (dana.lexer.scan_lua): on every source, either both report a lexical error (C returns
-- false and the Lua table has `err`) or both return deep-equal tables. Deterministic.
local lexer = require("dana.lexer")
local core = require("dana.core")
local H = require("helpers.dana") -- only its dedent()

local lex_scan = core.lex_scan

-- The first difference between two values, as a path, or nil when they are equal.
local function diff(a, b, path)
  path = path or "result"
  if type(a) ~= type(b) then return path .. ": " .. type(a) .. " vs " .. type(b) end
  if type(a) ~= "table" then
    if a == b and math.type(a) == math.type(b) then return nil end
    return string.format("%s: %q vs %q", path, tostring(a), tostring(b))
  end
  for k, v in pairs(a) do
    local d = diff(v, b[k], path .. "[" .. tostring(k) .. "]")
    if d then return d end
  end
  for k in pairs(b) do
    if a[k] == nil then return path .. "[" .. tostring(k) .. "]: missing vs present" end
  end
  return nil
end

local function show(src)
  return (string.format("%q", #src > 400 and src:sub(1, 400) .. "..." or src))
end

local stats = { ok = 0, err = 0 }

-- Assert parity on one source; returns "ok" or "err".
local function parity(src, max_depth, max_fdepth)
  local opts = { max_depth = max_depth, max_fstring_depth = max_fdepth }
  local want = lexer.scan_lua(src, opts)
  local got = lex_scan(src, max_depth or 200, max_fdepth or 16)
  if want.err then
    if got ~= false then
      error("C accepted a source the Lua scan rejects (" .. want.err.msg .. "): " .. show(src), 0)
    end
    stats.err = stats.err + 1
  else
    if type(got) ~= "table" then
      error("C rejected a source the Lua scan accepts: " .. show(src), 0)
    end
    local d = diff(want, got)
    if d then error("C and Lua differ at " .. d .. " for " .. show(src), 0) end
    stats.ok = stats.ok + 1
  end
  -- and the public entry point gives the Lua scan's answer either way
  local d = diff(want, lexer.scan(src, opts))
  if d then error("lexer.scan differs from scan_lua at " .. d .. " for " .. show(src), 0) end
  return want.err and "err" or "ok"
end

-- xorshift64*, independent of math.random's state
local rng = require("helpers.rng")

local function read(path)
  local h = io.open(path, "rb")
  if not h then return nil end
  local t = h:read("a")
  h:close()
  return t
end

local function na_files()
  local list = {}
  local p = assert(io.popen("find spec/fixtures examples bench/programs -name '*.na' 2>/dev/null"))
  for f in p:lines() do list[#list + 1] = f end
  p:close()
  table.sort(list)
  return list
end

-- Seeds: the .na files, the behaviour specs' sources, the benchmark snippet, the
-- SyntaxError cases and a few dense hand-written ones.
local function corpus()
  local list = {}
  for _, f in ipairs(na_files()) do list[#list + 1] = read(f) end
  local p = assert(io.popen("ls spec/dana/*_spec.lua"))
  for f in p:lines() do
    local text = read(f)
    for _, body in text:gmatch("src = %[(=*)%[\n?(.-)%]%1%]") do list[#list + 1] = H.dedent(body) end
  end
  p:close()
  local snippet = read("bench/parse.lua"):match("local snippet = %[==%[\n(.-)%]==%]")
  list[#list + 1] = snippet
  -- (braces inside its strings are unbalanced: cut the table at its closing line)
  local cases = assert(read("spec/syntax_errors_spec.lua"):match("\nlocal CASES = ({\n.-\n})\n"))
  for _, c in ipairs(assert(load("return " .. cases))()) do list[#list + 1] = c[1] end
  list[#list + 1] = [==[
def f(x: int = 1, *, y) = a | b(2, $$) as z | [c, d]
s = f"{a['k']:>5} {f'{b}'} \{ {c + 1} {x if y else z}" + F'{"q"}' + R"\d" + rf"x"
t = r'a\b' + '''x
y''' + "\x41\u00e9" + f"""{
  "nested"
}""" + 'a\
b'
if x:  # comment :
	pass
elif (y,
      # inside
      z):
    pass
]==]
  list[#list + 1] = "\239\187\191x = 1\nif y:\n    z\n"
  list[#list + 1] = "if a:\r\n    b\r\n\r\n  \r\nc\r\n"
  list[#list + 1] = "if a:\n \t\fb\nc"
  return list
end

local ALPHABET = "()[]{}:;'\"\n\t #\\|$@=,.-+*/%<>!fFrRbBuU0123456789abcdefxyz_ \r\f::  \n\n    "
  .. "\0\1\2\3\11\127\128\195\169\226\130\172\239\187\191\255"
local TOKS = { "if x:", "else:", "elif y:", "def f():", "for i in z:", "while 1:", "pass", "x = 1",
  "(", ")", "[", "]", "{", "}", "'", '"', "'''", '"""', "f'", 'f"', "r'", 'r"', "F\"", "R'",
  "b'", "u\"", "rb'", "fr\"", "xr'", "f'{", "}'", "f\"{x}\"", "f'{'a'}'", "f\"{f'{x}'}\"",
  "\\", "\\\n", "\\\r\n", "#", "# c\n", "\n", "\r\n", "\r", "\n    ", "\n\t", "\n  ", "\n        ",
  "\n \t", "\n\f", ":", "::", "a::", " ", "\t", "\0", "\195\169", "\239\187\191", "{{", "}}" }

local function mutate(src, r)
  local n = #src
  if n == 0 then local k = r(#ALPHABET); return ALPHABET:sub(k, k) end
  local kind = r(9)
  local a = r(n)
  local b = math.min(n, a + r(12) - 1)
  if kind == 1 then
    return src:sub(1, a - 1) .. src:sub(b + 1)
  elseif kind == 2 then
    return src:sub(1, b) .. src:sub(a, b) .. src:sub(b + 1)
  elseif kind <= 4 then
    local ins = {}
    for i = 1, r(4) do local k = r(#ALPHABET); ins[i] = ALPHABET:sub(k, k) end
    return src:sub(1, a - 1) .. table.concat(ins) .. src:sub(a)
  elseif kind == 5 then
    return src:sub(1, a - 1) .. TOKS[r(#TOKS)] .. src:sub(a)
  elseif kind == 6 then
    local lines = {}
    for l in (src .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = l end
    local i = r(#lines)
    local ws = ({ " ", "\t", "  ", "    ", " \t", "\f" })[r(6)]
    lines[i] = string.rep(ws, r(5) - 1) .. lines[i]:gsub("^[ \t\f]*", "")
    return table.concat(lines, "\n")
  elseif kind == 7 then
    return src:sub(1, a)
  elseif kind == 8 then
    return src:sub(1, a - 1) .. string.char(r(256) - 1) .. src:sub(a + 1)
  else
    local c = r(n)
    if c < a then a, c = c, a end
    return src:sub(1, a - 1) .. src:sub(c, c + 5) .. src:sub(a + 6, c - 1) .. src:sub(a, a + 5)
      .. src:sub(c + 6)
  end
end

describe("dana.core.lex_scan agrees with dana.lexer.scan_lua", function()
  local seeds = corpus()

  it("is the fast path of dana.lexer.scan", function()
    assert.is_function(lex_scan)
    assert.is_true(lexer.has_c)
  end)

  it("on every .na file and corpus source", function()
    assert(#na_files() >= 10, "too few .na files")
    assert(#seeds > 150, "corpus too small: " .. #seeds)
    local ok = 0
    for _, src in ipairs(seeds) do if parity(src) == "ok" then ok = ok + 1 end end
    assert(ok > 100, "only " .. ok .. " valid sources")
  end)

  it("on the sources with small nesting limits", function()
    for _, src in ipairs(seeds) do
      parity(src, 1, 0)
      parity(src, 2, 1)
      parity(src, 0, 2)
    end
  end)

  it("on 4000 mutated sources", function()
    local r = rng(0x1e3a5c7b)
    local res = { ok = 0, err = 0 }
    for i = 1, 4000 do
      local src = seeds[(i - 1) % #seeds + 1]
      for _ = 1, r(4) do src = mutate(src, r) end
      local k = parity(src, r(4) == 1 and r(4) - 1 or nil, r(4) == 1 and r(3) - 1 or nil)
      res[k] = res[k] + 1
    end
    -- both outcomes are well represented, so both directions are tested
    assert(res.ok > 500 and res.err > 500, res.ok .. " valid, " .. res.err .. " errors")
  end)

  it("on 4000 random byte strings and token soups", function()
    local r = rng(0x0badcafe)
    local res = { ok = 0, err = 0 }
    for i = 1, 4000 do
      local parts = {}
      if i % 3 == 0 then
        for j = 1, r(80) do local k = r(#ALPHABET); parts[j] = ALPHABET:sub(k, k) end
      elseif i % 3 == 1 then
        for j = 1, r(60) do parts[j] = TOKS[r(#TOKS)] end
      else
        for j = 1, r(40) do parts[j] = r(3) == 1 and string.char(r(256) - 1) or TOKS[r(#TOKS)] end
      end
      local k = parity(table.concat(parts, i % 2 == 0 and "" or " "), r(3) == 1 and r(3) or nil,
        r(3) == 1 and r(3) - 1 or nil)
      res[k] = res[k] + 1
    end
    assert(res.ok > 50 and res.err > 2000, res.ok .. " valid, " .. res.err .. " errors")
  end)

  it("on 3000 generated programs (mostly valid: blocks, brackets, strings, comments)", function()
    local r = rng(0x7e57ab1e)
    local atoms = { "x", "y1", "_z", "1", "2.5", "+", "-", "*", ",", ".", "=", "==", "not", "and",
      "'s'", '"d"', [[r'\d']], 'f"{x}"', "f'{a[1]}:{b!r}'", [[f"{f'{x}'}"]], "'''t\nu'''",
      '"""q"""', "f'''{\n x\n}'''", [['\'']], [["\\\n"]], "$$", "|", ":", "::", "lambda a: a",
      "'{'", "f'{{}}'", "\t", " ", "\f", "\r", "F'{1}'", [[R"r"]], [['a\
b']], [[f"{'}'}"]], [[f"{x:{y}}"]] }
    local function expr(depth)
      local parts = {}
      for i = 1, r(6) do
        if r(10) == 1 and depth < 4 then
          local o = ({ { "(", ")" }, { "[", "]" }, { "{", "}" } })[r(3)]
          local sep = r(4) == 1 and "\n" .. string.rep(" ", r(6) - 1) or ""
          local cmt = r(8) == 1 and "# c ( ' \n" or ""
          parts[i] = o[1] .. sep .. cmt .. expr(depth + 1) .. sep .. o[2]
        else
          parts[i] = atoms[r(#atoms)]
        end
      end
      -- (names at both ends: whitespace or ':' atoms must not change the layout)
      return "v " .. table.concat(parts, r(3) == 1 and "" or " ") .. " w"
    end
    local heads = { "if", "while", "for", "def", "elif", "with" }
    local res = { ok = 0, err = 0 }
    for _ = 1, 3000 do
      local lines, levels = {}, { "" }
      local pending = false
      local mode = r(4) -- 1 tabs, 2 mixed tabs, spaces and form feeds, else spaces
      local steps = { "\t", "        ", "    ", " \t", "\t  ", "\f", "  ", "\t\t" }
      for _ = 1, r(25) do
        local ind = levels[#levels]
        if pending then
          ind = ind .. (mode == 1 and "\t" or mode == 2 and steps[r(#steps)] or string.rep(" ", r(4)))
          levels[#levels + 1] = ind
          pending = false
        elseif #levels > 1 and r(4) == 1 then
          for _ = 1, r(#levels - 1) do levels[#levels] = nil end
          ind = levels[#levels]
        end
        local k = r(12)
        local l
        if k == 1 then l = "# comment ( ' \" :"
        elseif k == 2 then l = ""
        elseif k <= 4 then
          l = heads[r(#heads)] .. " " .. expr(0) .. ":"
          pending = true
        else l = expr(0) end
        if r(6) == 1 then l = l .. "  # trailing :" end
        if mode == 2 and r(4) == 1 then -- respell it: same width with tabs, other width
          ind = ind:gsub("        ", "\t"):gsub("^\t", "        ")
        end
        lines[#lines + 1] = ind .. l
      end
      local src = table.concat(lines, r(5) == 1 and "\r\n" or "\n") .. (pending and "\n    pass" or "")
      if r(3) == 1 then src = src .. "\n" end
      if r(10) == 1 then src = mutate(src, r) end
      local k = parity(src)
      res[k] = res[k] + 1
      if os.getenv("LEXDEBUG") and k == "err" then print(lexer.scan_lua(src).err.msg) end
    end
    assert(res.ok > 1000 and res.err > 100, res.ok .. " valid, " .. res.err .. " errors")
  end)

  it("on pathological inputs", function()
    local cases = {
      "", " ", "\n", "\239\187\191", "\239\187", "\239\187\191\n", "\239\187\191    x\n",
      string.rep("(", 5000), string.rep("[", 300) .. string.rep("]", 300),
      string.rep("{", 199) .. string.rep("}", 199), string.rep("(", 200) .. string.rep(")", 200),
      string.rep("(", 201) .. string.rep(")", 201),
      "f'" .. string.rep("{", 3000) .. "'",
      "f\"" .. string.rep("{f'", 40) .. "x" .. string.rep("'}", 40) .. "\"\n",
      "f\"" .. string.rep("{f'", 16) .. "x" .. string.rep("'}", 16) .. "\"\n",
      "f\"" .. string.rep("{f'", 17) .. "x" .. string.rep("'}", 17) .. "\"\n",
      string.rep("\0", 1000), "'''" .. string.rep("a\n", 1000), "\"" .. string.rep("\\", 999) .. "\"",
      string.rep("x = 1\n", 2000) .. "    y\n", "x = (1,\n# c\n", "x = (1 # c",
      "x = 1\r\n\r\n    \r\n", string.rep("#", 10000), "\t\tx\n", "\f\fx = 1\n", "if x:\n",
      "if x:\n    ", "if x:\n    # c\n", "a::\n    b\n", "a:\n\tb\n        c\n", "x = 'a\\\r\nb'\n",
      "if a:\n\tif b:\n        c\n", "if a:\n    \tif b:\n\t\tc\n", "if a:\n\tb\n    \tc\n",
      "if a:\n  \f  b\n    c\n", "if a:\n\t  \tb\n\t\tc\n",
    }
    local deep = {}
    for i = 1, 201 do deep[i] = string.rep(" ", i - 1) .. "if x:\n" end
    cases[#cases + 1] = table.concat(deep) .. string.rep(" ", 201) .. "pass\n"
    cases[#cases + 1] = table.concat(deep, "", 1, 200) .. string.rep(" ", 200) .. "pass\nz\n"
    for _, src in ipairs(cases) do parity(src) end
  end)

  it("on a large source (the benchmark's 1 MB)", function()
    local snippet = read("bench/parse.lua"):match("local snippet = %[==%[\n(.-)%]==%]")
    assert.are.equal("ok", parity(string.rep(snippet, math.ceil(2 ^ 20 / #snippet))))
  end)

  it("returns false rather than raising for what it leaves to the Lua code", function()
    assert.is_false(lex_scan(42, 200, 16))
    assert.is_false(lex_scan("f'{x}'", 200, 100000))
  end)
end)
