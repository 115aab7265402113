-- luacheck: ignore 631 (table-driven expectations are long lines)
-- Table-driven SyntaxError spec: {source, line, col, message substring}.
-- Positions are 1-based; col counts bytes (a tab is one byte).
local grammar = require("dana.grammar")
local diag = require("dana.diag")

local CASES = {
  -- indentation and layout
  { "x = 1\n    y = 2\n", 2, 5, "unexpected indent" },
  { "    x = 1\n", 1, 5, "unexpected indent" },
  { "if True:\n        x = 1\n    y = 2\n", 3, 5, "unindent does not match any outer indentation level" },
  { "def f():\n    return 1\n  x = 2\n", 3, 3, "unindent does not match" },
  { "if True:\nprint(1)\n", 2, 1, "expected an indented block after 'if' statement on line 1" },
  { "def f():\n\nx = 1\n", 3, 1, "expected an indented block after function definition on line 1" },
  { "while x:\n", 2, 1, "expected an indented block after 'while' statement on line 1" },
  { "if True:\n\tx = 1\n        y = 2\n", 3, 9, "inconsistent use of tabs and spaces in indentation" },
  { "if True:\n        x = 1\n\ty = 2\n", 3, 2, "inconsistent use of tabs and spaces" },
  { "if True: print(1)\n", 1, 10, "inline blocks" },
  { "x = 1 + \\\n    2\n", 1, 9, "backslash line continuation is not supported" },
  { "x = 1 \\ 2\n", 1, 7, "unexpected character '\\'" },
  { "if a:\n" .. string.rep(" ", 4) .. "pass\n" .. "else:\n    pass\nelse:\n    pass\n", 5, 1, "'else' without a matching 'if'" },
  { "while False:\n    pass\nelse:\n    pass\n", 3, 1, "no loop or try else" },
  { "if a:\n    pass\nelif:\n    pass\n", 3, 1, "'elif' without a matching 'if'" },
  { "except:\n    pass\n", 1, 1, "'except' without a matching 'try'" },
  { "try:\n    pass\n", 1, 1, "expected 'except' or 'finally'" },
  -- Python's bare tuples
  { "a, b = b, a\n", 1, 2, "tuple-unpacking assignment (a, b = ...) is not supported in Dana" },
  { "x = 1, 2\n", 1, 6, "a tuple needs parentheses in Dana: (a, b)" },
  { "def f():\n    return 1, 2\n", 2, 13, "a tuple needs parentheses in Dana" },
  { "print(1), print(2)\n", 1, 9, "a tuple needs parentheses in Dana" },
  { "x = 1 ,\n", 1, 7, "a tuple needs parentheses in Dana" },
  -- brackets
  { "x = (1, 2\n", 1, 5, "'(' was never closed" },
  { "x = [1,\n     2,\n     3\n", 1, 5, "'[' was never closed" },
  { "x = [1, 2)\n", 1, 10, "closing parenthesis ')' does not match opening parenthesis '['" },
  { "x = {\n  'a': 1,\n  'b': [1, 2\n}\n", 4, 1, "does not match opening parenthesis '[' on line 3" },
  { "x = 1)\n", 1, 6, "unmatched ')'" },
  { "(" .. string.rep("(", 250) .. string.rep(")", 251) .. "\n", 1, 201, "too many nested parentheses" },
  -- strings
  { "s = \"abc\ndef\"\n", 1, 5, "unterminated string literal (detected at line 1)" },
  { "x = 1\ns = 'abc\n", 2, 5, "unterminated string literal (detected at line 2)" },
  { "s = '''abc\n\nd\n", 1, 5, "unterminated triple-quoted string literal (detected at line 3)" },
  { "x = f'{a\n", 1, 5, "unterminated string literal" },
  { "x = b\"abc\"\n", 1, 5, "string prefix 'b' is not supported" },
  { "x = rf\"abc\"\n", 1, 5, "string prefix 'rf' is not supported" },
  -- characters
  { "x = 1 \226\130\172\n", 1, 7, "invalid character '\226\130\172' (U+20AC)" },
  { "x = 1\0\n", 1, 6, "null bytes" },
  { "x = 1\n\1y = 2\n", 2, 1, "non-printable character U+0001" },
  { "x = \255\n", 1, 5, "invalid byte 0xFF" },
  { "\239\187\191x = (1 +\n", 1, 5, "'(' was never closed" },
  { "x = 1\n\239\187\191y = 2\n", 2, 1, "invalid character" },
  -- numbers
  { "x = 0x10\n", 1, 5, "hexadecimal literals are not supported" },
  { "x = 0o17\n", 1, 5, "octal literals are not supported" },
  { "x = 0b1\n", 1, 5, "binary literals are not supported" },
  { "x = 1_000\n", 1, 5, "underscores in numeric literals" },
  { "x = 1abc\n", 1, 5, "invalid decimal literal" },
  { "x = 99999999999999999999\n", 1, 5, "integer literal too large" },
  -- names, targets, operators
  { "while = 1\n", 1, 1, "'while' is a reserved word" },
  { "deliver = 5\n", 1, 1, "'deliver' is a reserved word" },
  { "5 = x\n", 1, 1, "cannot assign to literal" },
  { "f() = 1\n", 1, 1, "cannot assign to function call" },
  { "a + b = 1\n", 1, 1, "cannot assign to expression" },
  { "private.x = 1\n", 1, 1, "Use colon notation instead: 'private:x'" },
  { "y = public.count\n", 1, 5, "Scope keyword 'public' cannot be used with dot notation" },
  { "x = 1\ny = x | 2\n", 2, 7, "Pipe expressions (|) are only allowed in declarative function definitions" },
  { "f(a | b)\n", 1, 5, "Pipe expressions" },
  { "x //= 2\n", 1, 3, "augmented assignment '//=' is not supported" },
  { "x %= 2\n", 1, 3, "augmented assignment '%=' is not supported" },
  { "x: int\n", 1, 7, "expected '=' and a value after the type annotation" },
  { "x = lambda x: x + 1\n", 1, 17, "expected '::' after the lambda parameters" },
  { "x = 1 /* 2 */\n", 1, 8, "invalid syntax" },
  { "x = \n", 1, 5, "invalid syntax" },
  { "import\n", 1, 7, "unexpected end of line" },
  { "x = y.\n", 1, 7, "unexpected end of line" },
  { "class A:\n    pass\n", 1, 7, "invalid syntax" },
  { "def f(a, *b):\n    pass\n", 1, 10, "invalid syntax" },
  { "x = {1: 2, 3}\n", 1, 13, "expected ':'" },
  -- headers
  { "if x\n    y\n", 1, 5, "expected ':'" },
  { "def f(x)\n    return x\n", 1, 9, "expected ':'" },
  { "for x in xs\n    pass\n", 1, 12, "expected ':'" },
  { "struct A(B):\n    x: int\n", 1, 9, "struct inheritance is not supported" },
  { "struct S:\n    x = 1\n", 2, 5, "only fields" },
  { "interface I:\n    x = 1\n", 2, 5, "only method signatures" },
  { "agent A:\n    print(1)\n", 2, 5, "an agent body may only contain" },
  { "def f(x) = a | lambda y :: y\n", 1, 16, "a pipeline stage must be" },
  { "def f(x) = \n", 1, 12, "unexpected end of line" },
  -- the earliest error wins
  { "x = = 1\n    y = 2\n", 1, 5, "invalid syntax" },
  { "x = 1\ny = (2 +\n", 2, 5, "'(' was never closed" },
}

describe("dana.grammar: SyntaxErrors", function()
  for i, case in ipairs(CASES) do
    local src, line, col, msg = case[1], case[2], case[3], case[4]
    it(string.format("#%d %s", i, (src:gsub("\n", "\\n"):sub(1, 50))), function()
      local m, errs = grammar.parse(src, "bad.na")
      assert(m == nil, "expected a SyntaxError for:\n" .. src)
      assert.is_table(errs)
      local e = errs[1]
      local where = string.format("got %s:%s: %s", tostring(e.line), tostring(e.col), tostring(e.msg))
      assert.are.equal("SyntaxError", e.kind)
      assert.are.equal("ESYNTAX", e.code)
      assert.are.equal("bad.na", e.file)
      assert(e.msg:find(msg, 1, true), "message lacks '" .. msg .. "': " .. where)
      assert.are.equal(e.msg, e.message)
      assert(e.line == line, "line: expected " .. line .. ", " .. where)
      assert(e.col == col, "col: expected " .. col .. ", " .. where)
      assert.is_string(e.source_line)
    end)
  end
end)

describe("dana.grammar: limits", function()
  it("max_source", function()
    local m, errs = grammar.parse(string.rep("x = 1\n", 100), "big.na", { max_source = 50 })
    assert.is_nil(m)
    assert.matches("source too large", errs[1].msg)
  end)

  it("max_depth for brackets", function()
    local src = "x = " .. string.rep("[", 11) .. string.rep("]", 11) .. "\n"
    local m, errs = grammar.parse(src, "d.na", { max_depth = 10 })
    assert.is_nil(m)
    assert.matches("too many nested parentheses %(limit 10%)", errs[1].msg)
    assert(grammar.parse(src, "d.na", { max_depth = 11 }))
  end)

  it("max_depth for blocks", function()
    local lines = {}
    for d = 0, 12 do lines[#lines + 1] = string.rep(" ", d) .. "if x:" end
    lines[#lines + 1] = string.rep(" ", 13) .. "pass"
    local m, errs = grammar.parse(table.concat(lines, "\n") .. "\n", "d.na", { max_depth = 10 })
    assert.is_nil(m)
    assert.matches("too many levels of indentation", errs[1].msg)
  end)

  it("200 nested brackets of every kind parse", function()
    for _, pair in ipairs({ { "(", ")" }, { "[", "]" }, { "f(", ")" }, { "{'a': ", "}" } }) do
      local src = "x = " .. string.rep(pair[1], 199) .. "1" .. string.rep(pair[2], 199) .. "\n"
      assert(grammar.parse(src, "deep.na"), pair[1])
    end
  end)

  it("long operator and lambda chains give a SyntaxError, not a crash", function()
    for _, src in ipairs({
      "x = " .. string.rep("not ", 100000) .. "x\n",
      "x = " .. string.rep("-", 100000) .. "x\n",
      "x = " .. string.rep("lambda :: ", 50000) .. "x\n",
      "x = " .. string.rep("2 ** ", 50000) .. "2\n",
      "x = " .. string.rep("a if b else ", 50000) .. "c\n",
    }) do
      local ok, m, errs = pcall(grammar.parse, src, "chain.na")
      assert(ok, m)
      assert(m or (errs and errs[1].kind == "SyntaxError"))
    end
  end)
end)

-- Statements Python rejects where they stand: found by dana.translate's scope pass (Lua
-- would reject the generated code in its own words).
local PLACEMENT = {
  { "return\n", 1, 1, "'return' outside function" },
  { "x = 1\nif x:\n    return x\n", 3, 5, "'return' outside function" },
  { "break\n", 1, 1, "'break' outside loop" },
  { "while True:\n    def f():\n        break\n", 3, 9, "'break' outside loop" },
  { "continue\n", 1, 1, "'continue' not properly in loop" },
  { "def f():\n    if True:\n        continue\n", 3, 9, "'continue' not properly in loop" },
  { "for i in range(3):\n    try:\n        pass\n    finally:\n        x = 1\nbreak\n", 6, 1, "'break' outside loop" },
}

describe("dana.translate: statements out of place", function()
  local translate = require("dana.translate").translate
  for i, c in ipairs(PLACEMENT) do
    local src, line, col, msg = c[1], c[2], c[3], c[4]
    it(string.format("#%d %s", i, (src:gsub("\n", "\\n"):sub(1, 50))), function()
      local lua, errs = translate(src, "bad.na")
      assert.is_nil(lua)
      local e = errs[1]
      assert.are.same({ "SyntaxError", "ESYNTAX", line, col }, { e.kind, e.code, e.line, e.col })
      assert.are.equal(msg, e.msg)
      assert.truthy(e.source_line and #e.source_line > 0)
    end)
  end
  it("leaves nothing behind for the next translation", function()
    local src = "def f(xs):\n    t = 0\n    for x in xs:\n        t += x\n    return t\nprint(f([1, 2]))\n"
    local before = assert(translate(src, "ok.na"))
    assert.is_nil(translate("for i in range(3):\n    pass\nbreak\n", "bad.na"))
    assert.are.equal(before, assert(translate(src, "ok.na")))
  end)
  it("accepts them where they belong", function()
    assert(translate("def f(xs):\n    for x in xs:\n        if x:\n            continue\n        break\n    return 1\n", "ok.na"))
    assert(translate("while True:\n    try:\n        break\n    finally:\n        pass\n", "ok.na"))
  end)
end)

describe("dana.diag", function()
  it("formats file:line:col, the source line and a caret", function()
    local _, errs = grammar.parse("x = 1\nif a\n    b\n", "demo.na")
    assert.are.equal("demo.na:2:5: SyntaxError: expected ':'\n    if a\n        ^", diag.format(errs[1]))
  end)

  it("adds a hint when the suggestion table has one", function()
    local _, errs = grammar.parse("if a:\nb\n", "demo.na")
    local text = diag.format(errs[1])
    assert.matches("hint: an empty block needs 'pass'", text, 1, true)
    assert.are.equal("an empty block needs 'pass'", errs[1].hint)
  end)
end)
