-- Fuzzing the front end: random and mutated sources must give a Module or nil plus
-- SyntaxError records, never a Lua error. Deterministic (own PRNG, fixed seeds).
local grammar = require("dana.grammar")
local ast = require("dana.ast")
local translate = require("dana.translate").translate
local H = require("helpers.dana") -- only its dedent(); it loads "dana" lazily

-- xorshift64*, so that the sequence does not depend on math.random's state
local rng = require("helpers.rng")

-- Seeds: real programs (the behaviour specs' sources, the benchmark's snippet) and a few
-- dense hand-written ones.
local function corpus()
  local list = {}
  local files = { "spec/dana/expressions_spec.lua", "spec/dana/statements_spec.lua",
    "spec/dana/lexical_spec.lua", "spec/dana/types_spec.lua", "spec/dana/scopes_spec.lua",
    "spec/dana/values_spec.lua", "spec/dana/formatting_spec.lua" }
  for _, f in ipairs(files) do
    local h = io.open(f)
    if h then
      local text = h:read("a")
      h:close()
      for _, body in text:gmatch("src = %[(=*)%[\n?(.-)%]%1%]") do list[#list + 1] = H.dedent(body) end
    end
  end
  local h = io.open("bench/parse.lua")
  if h then
    local snippet = h:read("a"):match("local snippet = %[==%[\n(.-)%]==%]")
    h:close()
    list[#list + 1] = snippet
  end
  list[#list + 1] = [==[
def f(x: int = 1, *, y) = a | b(2, $$) as z | [c, d]
@dec(1)
def (p: A | B) m(q) -> dict[str, list[int]]:
    """doc"""
    return {k: v for (k, v) in q.items() if v} if p else [x for x in q]
s = f"{a['k']:>5} {f'{b}'} \{ {c + 1} {x if y else z}"
t = r'a\b' + '''x
y''' + "\x41\u00e9"
try:
    raise E("x") from e
except (A, B) as err:
    pass
finally:
    private:x: int = -2 ** -1 // 3 % 4
]==]
  return list
end

local ALPHABET = "()[]{}:;'\"\n\t #\\|$@=,.-+*/%<>!fr0123456789abcdefxyz_ \r\f"
  .. "\0\1\2\3\127\128\195\169\226\130\172\255"

local function mutate(src, r)
  local n = #src
  local kind = r(8)
  if n == 0 then return ALPHABET:sub(r(#ALPHABET), r(#ALPHABET)) end
  local a = r(n)
  local b = math.min(n, a + r(12) - 1)
  if kind == 1 then -- delete a span
    return src:sub(1, a - 1) .. src:sub(b + 1)
  elseif kind == 2 then -- duplicate a span
    return src:sub(1, b) .. src:sub(a, b) .. src:sub(b + 1)
  elseif kind <= 4 then -- insert interesting characters
    local ins = {}
    for i = 1, r(4) do local k = r(#ALPHABET); ins[i] = ALPHABET:sub(k, k) end
    return src:sub(1, a - 1) .. table.concat(ins) .. src:sub(a)
  elseif kind == 5 then -- replace one byte by a random byte
    return src:sub(1, a - 1) .. string.char(r(256) - 1) .. src:sub(a + 1)
  elseif kind == 6 then -- change the indentation of a line
    local lines = {}
    for l in (src .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = l end
    local i = r(#lines)
    lines[i] = string.rep(r(2) == 1 and " " or "\t", r(9) - 1) .. lines[i]:gsub("^%s*", "")
    return table.concat(lines, "\n")
  elseif kind == 7 then -- truncate
    return src:sub(1, a)
  else -- swap two spans
    local c = r(n)
    if c < a then a, c = c, a end
    return src:sub(1, a - 1) .. src:sub(c, c + 5) .. src:sub(a + 6, c - 1) .. src:sub(a, a + 5)
      .. src:sub(c + 6)
  end
end

local compiler_agent
local function compiler()
  if not compiler_agent then
    local core = require("dana.core")
    compiler_agent = core.sandbox({}):agent({ name = "fuzz", role = "agent" })
  end
  return compiler_agent
end

local function check(src, walk)
  local ok, m, errs = pcall(grammar.parse, src, "fuzz.na")
  if not ok then
    error("parse raised: " .. tostring(m) .. "\n--- source:\n" .. src, 0)
  end
  if m then
    assert(m.tag == "Module" and type(m.body) == "table")
    if walk then
      ast.walk(m, function(n)
        assert(ast.fields[n.tag], "unknown tag " .. tostring(n.tag))
        assert(math.type(n.line) == "integer" and n.line >= 1 and math.type(n.col) == "integer"
          and n.col >= 1, "bad position on " .. n.tag)
      end)
    end
    -- what parses must translate (analyze and codegen never fail on a parsed tree) into
    -- Lua that loads
    local lua, terrs = translate(src, "fuzz.na")
    if not lua then
      assert(terrs[1].kind == "SyntaxError" and not terrs[1].msg:find("cannot translate", 1, true),
        "translate failed: " .. tostring(terrs[1].msg) .. "\n--- source:\n" .. src)
    else
      -- the only load failures allowed are limits of Lua's compiler (deep nesting), which
      -- Agent:run reports as such. It is compiled in an agent, as Agent:run does: a fresh
      -- Lua state (compiled in busted's deep stack, such an overflow loses the test)
      -- compiles it without running it ("do return end" first).
      local _, err = compiler():run_lua("do return end " .. lua, "=fuzz")
      local limit = err == nil or err.message:find("C stack overflow", 1, true)
        or err.message:find("too many registers", 1, true)
      assert(limit, "generated Lua does not load: " .. tostring(err and err.message)
        .. "\n--- source:\n" .. src)
    end
    return true
  end
  assert(type(errs) == "table" and #errs >= 1, "nil without errors")
  local nlines = select(2, src:gsub("\n", "")) + 1
  for _, e in ipairs(errs) do
    assert(e.kind == "SyntaxError" and e.code == "ESYNTAX", "bad kind")
    assert(type(e.msg) == "string" and e.msg ~= "" and e.message == e.msg, "bad message")
    assert(math.type(e.line) == "integer" and e.line >= 1 and e.line <= nlines + 1,
      "bad line " .. tostring(e.line) .. " of " .. nlines .. " for " .. e.msg .. "\n" .. src)
    assert(math.type(e.col) == "integer" and e.col >= 1, "bad col")
    assert(type(e.source_line) == "string")
  end
  return false
end

describe("fuzzing dana.grammar.parse", function()
  local seeds = corpus()

  it("parses every seed of the corpus", function()
    assert(#seeds > 100, "corpus too small: " .. #seeds)
    local ok = 0
    for _, src in ipairs(seeds) do if check(src, true) then ok = ok + 1 end end
    -- a few behaviour specs are syntax-error cases on purpose
    assert(ok >= #seeds - 40, ok .. " of " .. #seeds)
  end)

  it("survives 5000 mutated programs", function()
    local r = rng(0x5eed1234)
    local parsed = 0
    for i = 1, 5000 do
      local src = seeds[(i - 1) % #seeds + 1]
      for _ = 1, r(3) do src = mutate(src, r) end
      if check(src, i % 10 == 0) then parsed = parsed + 1 end
    end
    assert(parsed > 100 and parsed < 5000, "parsed " .. parsed)
  end)

  it("survives 3000 random byte strings and token soups", function()
    local r = rng(0xfacefeed)
    local toks = { "if", "else", "elif", "for", "in", "while", "def", "lambda", "::", ":", "=",
      "(", ")", "[", "]", "{", "}", ",", ".", "|", "$$", "not", "and", "or", "x", "1", "2.5",
      "'s'", 'f"{x}"', "\n", "\n    ", "\n\t", "private:", "struct", "return", "**", "-", "+" }
    for i = 1, 3000 do
      local parts = {}
      if i % 2 == 0 then
        for j = 1, r(60) do parts[j] = string.char(r(256) - 1) end
      else
        for j = 1, r(40) do parts[j] = toks[r(#toks)] end
      end
      check(table.concat(parts, i % 2 == 0 and "" or " "))
    end
  end)

  it("survives pathological inputs", function()
    local cases = {
      string.rep("(", 5000), string.rep("[", 300) .. string.rep("]", 300),
      string.rep("{", 199) .. string.rep("}", 199), "x = " .. string.rep("-", 20000) .. "1\n",
      string.rep("not ", 30000) .. "x\n", "x = " .. string.rep("lambda :: ", 3000) .. "1\n",
      string.rep("if x:\n", 1) .. string.rep(" ", 1000) .. "pass\n", "f'" .. string.rep("{", 3000) .. "'",
      "f\"" .. string.rep("{f'", 40) .. "x" .. string.rep("'}", 40) .. "\"\n",
      string.rep("\0", 1000), "'''" .. string.rep("a\n", 1000), "\"" .. string.rep("\\", 999) .. "\"",
      string.rep("x = 1\n", 2000) .. "    y\n", string.rep("a.", 5000) .. "b\n",
      string.rep("a[", 150) .. "0" .. string.rep("]", 150) .. "\n", "\239\187\191x = 1\n",
      "x = 1\r\n\r\n    \r\n", string.rep("#", 10000), "\t\tx\n", "\f\fx = 1\n",
    }
    for _, src in ipairs(cases) do check(src) end
  end)
end)
