-- §1.1 Lexical rules: comments, indentation, identifiers, numbers, bool/None spellings,
-- strings and escapes, f-strings.
local H = require("helpers.dana")

describe("§1.1 comments", function()
  H.cases {
    { name = "# runs to the end of the line", src = [[
        x = 1  # a comment
        # a whole-line comment
        print(x)  # another
      ]], out = "1\n" },
    { name = "// is floor division, not a comment", src = [[
        print(7 // 2)
      ]], out = "3\n" },
    { name = "a # inside a string is not a comment", src = [[
        print("a # b")
      ]], out = "a # b\n" },
    { name = "comments inside brackets and argument lists", src = [[
        xs = [
            1,  # first
            2,  # second
        ]
        print(xs)
      ]], out = "[1, 2]\n" },
    { name = "/* */ is not a comment", src = [[
        x = 1 /* 2 */
      ]], err = { kind = "SyntaxError", line = 1 } },
  }
end)

describe("§1.1 indentation", function()
  H.cases {
    { name = "blocks by indentation", src = [[
        if True:
            print("in")
        print("out")
      ]], out = "in\nout\n" },
    { name = "nested blocks and dedent by several levels", src = [[
        for i in range(2):
            if i == 1:
                print("one")
        print("done")
      ]], out = "one\ndone\n" },
    { name = "blank lines and comment lines inside a block", src = [[
        def f():
            x = 1

            # comment at another indentation
            return x
        print(f())
      ]], out = "1\n" },
    { name = "newlines are ignored inside (), [] and {}", src = [[
        d = {
            "a": 1,
            "b": [1,
                  2],
        }
        print(max(1,
                  5,
                  3))
        print(d)
      ]], out = "5\n{'a': 1, 'b': [1, 2]}\n" },
    { name = "fluent chains inside parentheses span lines", src = [[
        s = ("  Hello World  "
             .strip()
             .lower()
             .replace("world", "dana"))
        print(s)
      ]], out = "hello dana\n" },
    { name = "an inline suite is not allowed", src = [[
        if True: print(1)
      ]], err = { kind = "SyntaxError", line = 1 } },
    { name = "an empty block needs pass", src = [[
        if True:
        print(1)
      ]], err = { kind = "SyntaxError", line = 2 } },
    { name = "pass makes an empty block", src = [[
        if True:
            pass
        print("ok")
      ]], out = "ok\n" },
    { name = "unexpected indent", src = "x = 1\n    y = 2\n",
      err = { kind = "SyntaxError", line = 2 } },
    { name = "a dedent to no outer level", src = "if True:\n        x = 1\n    y = 2\n",
      err = { kind = "SyntaxError", line = 3, msg = "indent" } },
    { name = "there is no backslash continuation", src = "x = 1 + \\\n    2\n",
      err = { kind = "SyntaxError", line = 1 } },
    { name = "a block indented with tabs", src = "if True:\n\tx = 1\n\ty = 2\nprint(x + y)\n",
      out = "3\n" },
  }
end)

describe("§1.1 identifiers and reserved words", function()
  H.cases {
    { name = "names may contain reserved words", src = [[
        is_ok = True
        for_each = 2
        not_done = 3
        print(is_ok, for_each, not_done)
      ]], out = "True 2 3\n" },
    { name = "underscores and digits", src = [[
        _tmp1 = 1
        value_2 = _tmp1 + 1
        print(value_2)
      ]], out = "2\n" },
    { name = "identifiers are case-sensitive", src = [[
        name = "lower"
        Name = "upper"
        print(name, Name)
      ]], out = "lower upper\n" },
    { name = "a reserved word cannot be assigned", src = "while = 1\n",
      err = { kind = "SyntaxError", line = 1 } },
    { name = "`deliver` is reserved", src = "deliver = 5\n",
      err = { kind = "SyntaxError", line = 1 } },
    { name = "Lua keywords are ordinary Dana names", src = [[
        end = 1
        local_var = 2
        goto = 3
        then = 4
        repeat = end + goto + then
        print(repeat, local_var)
      ]], out = "8 2\n" },
    { name = "Lua-only names like _ENV are plain Dana names", src = [[
        _ENV = 5
        _G = 6
        print(_ENV + _G)
      ]], out = "11\n" },
  }
end)

describe("§1.1 numbers", function()
  H.cases {
    { name = "an integer literal is an int", src = [[
        print(42, type(42))
      ]], out = "42 int\n" },
    { name = "a literal with a dot is a float", src = [[
        print(3.0, type(3.0), 0.5)
      ]], out = "3.0 float 0.5\n" },
    { name = "1e10 is a float", src = [[
        print(1e10, type(1e10))
      ]], out = "10000000000.0 float\n" },
    { name = "exponents with a sign and a fraction", src = [[
        print(1.5e3, 2.5e-3, 1E2)
      ]], out = "1500.0 0.0025 100.0\n" },
    { name = "64-bit ints print exactly", src = [[
        print(9007199254740993)
      ]], out = "9007199254740993\n" },
    { name = "no hex literals", src = "x = 0x10\n", err = { kind = "SyntaxError", line = 1 } },
  }
end)

describe("§1.1 bool and None spellings", function()
  H.cases {
    { name = "True/true/TRUE", src = [[
        print(True, true, TRUE)
      ]], out = "True True True\n" },
    { name = "False/false/FALSE", src = [[
        print(False, false, FALSE)
      ]], out = "False False False\n" },
    { name = "None/none/NONE/null/NULL", src = [[
        print(None, none, NONE, null, NULL)
      ]], out = "None None None None None\n" },
    { name = "the spellings are equal", src = [[
        assert true == True
        assert FALSE == False
        assert null is None
        print("ok")
      ]], out = "ok\n" },
  }
end)

describe("§1.1 strings", function()
  H.cases {
    { name = "double and single quotes", src = [[
        print("double", 'single')
      ]], out = "double single\n" },
    { name = "the other quote inside", src = [[
        print("it's", 'say "hi"')
      ]], out = "it's say \"hi\"\n" },
    { name = "triple-quoted strings span lines", src = [[
        s = """line one
        line two"""
        print(s)
      ]], out = "line one\nline two\n" },
    { name = "triple single quotes", src = [[
        s = '''a 'quoted' "word"'''
        print(s)
      ]], out = "a 'quoted' \"word\"\n" },
    { name = "standard escapes are decoded", src = [[
        print("a\tb\nc\\d")
      ]], out = "a\tb\nc\\d\n" },
    { name = "escaped quotes", src = [[
        print("say \"x\"", 'it\'s')
      ]], out = "say \"x\" it's\n" },
    { name = "\\xNN and \\uNNNN escapes", src = [[
        print("\x41\u00e9\u4e16")
      ]], out = "Aé世\n" },
    { name = "\\0 decodes to one character", src = [[
        print(len("a\0b"))
      ]], out = "3\n" },
    { name = "an unknown escape is kept as written", src = [[
        s = "a\dz"
        print(s, len(s))
      ]], out = "a\\dz 4\n" },
    { name = "raw strings keep backslashes", src = [[
        s = r"a\nb"
        print(s, len(s))
      ]], out = "a\\nb 4\n" },
    { name = "a one-line string cannot span lines", src = "s = \"abc\ndef\"\n",
      err = { kind = "SyntaxError", line = 1 } },
    { name = "an unterminated string", src = "x = 1\ns = 'abc\n",
      err = { kind = "SyntaxError", line = 2 } },
    { name = "strings holding Lua long-bracket closers", src = [===[
        s = "]]" + ']=]' + "]==]"
        print(s)
      ]===], out = "]]]=]]==]\n" },
    { name = "adjacent string methods on a literal", src = [[
        print(", ".join(["a", "b"]))
      ]], out = "a, b\n" },
  }
end)

describe("§1.1 f-strings", function()
  H.cases {
    { name = "names and expressions", src = [[
        name = "Ada"
        n = 3
        print(f"{name} has {n * 2} items")
      ]], out = "Ada has 6 items\n" },
    { name = "F prefix and single quotes", src = [[
        x = 1
        print(F'x={x}')
      ]], out = "x=1\n" },
    { name = "triple-quoted f-string", src = [[
        x = 2
        s = f"""x is
        {x}"""
        print(s)
      ]], out = "x is\n2\n" },
    { name = "subscripts with inner quotes", src = [[
        d = {"k": [10, 20]}
        print(f"{d['k'][0]} and {d['k'][1]}")
      ]], out = "10 and 20\n" },
    { name = "inner quotes may match the outer ones", src = [[
        d = {"k": "v"}
        print(f"{d["k"]}")
      ]], out = "v\n" },
    { name = "calls inside", src = [[
        items = [1, 2, 3]
        print(f"count={len(items)} total={sum(items)}")
      ]], out = "count=3 total=6\n" },
    { name = "scoped names inside", src = [[
        private:user = "bob"
        print(f"user={private:user}")
      ]], out = "user=bob\n" },
    { name = "values are formatted with str()", src = [[
        print(f"{[1, 'a']} {None} {True} {3.0} {(1,)}")
      ]], out = "[1, 'a'] None True 3.0 (1,)\n" },
    { name = "{{ is not an escape", src = [[
        v = 3
        print(f"{{v}}")
      ]], out = "{3}\n" },
    { name = "{} produces nothing", src = [[
        print(f"a{}b")
      ]], out = "ab\n" },
    { name = "a body that does not parse is literal text", src = [[
        print(f"{2, 4}")
      ]], out = "2, 4\n" },
    { name = "\\{ is a literal brace", src = [[
        x = 1
        print(f"\{x} {x}")
      ]], out = "{x} 1\n" },
    { name = "nested braces in a dict literal", src = [[
        print(f"{ {'a': 1}['a'] }")
      ]], out = "1\n" },
    { name = "ternary and method calls inside", src = [[
        n = 2
        word = "item"
        print(f"{n} {word + 's' if n > 1 else word} {word.upper()}")
      ]], out = "2 items ITEM\n" },
    { name = "an undefined name inside raises NameError", src = [[
        print(f"{missing_name}")
      ]], err = { kind = "NameError", msg = "missing_name", line = 1 } },
    { name = "escapes inside f-strings", src = [[
        x = 1
        print(f"a\t{x}\n")
      ]], out = "a\t1\n\n" },
  }
end)
