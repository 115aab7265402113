-- §1.5 Types and the typed-assignment coercions of §1.6; type(x) and isinstance (§1.9).
local H = require("helpers.dana")

describe("§1.5 type syntax", function()
  H.cases {
    { name = "generic, union and None types in hints", src = [[
        def f(a: list[int], b: dict[str, any] = {}, c: int | None = None) -> str | None:
            return f"{a} {b} {c}"
        print(f([1]))
      ]], out = "[1] {} None\n" },
    { name = "struct and arbitrary names as types", src = [[
        struct P:
            x: int
        def g(p: P, fn: function, raw: bytes = None) -> P:
            return p
        print(g(P(x=1), print).x)
      ]], out = "1\n" },
    { name = "parameters are never coerced", src = [[
        def f(x: int) -> int:
            return x
        print(type(f("5")), f("5"))
      ]], out = "str 5\n" },
    { name = "return values are never coerced", src = [[
        def f() -> int:
            return "7"
        print(type(f()))
      ]], out = "str\n" },
    { name = "typed assignment with any keeps the value", src = [[
        x: any = [1]
        print(x)
      ]], out = "[1]\n" },
  }
end)

describe("§1.6 typed assignment coercions", function()
  H.cases {
    { name = "None is always allowed", src = [[
        a: int = None
        b: str = None
        print(a, b)
      ]], out = "None None\n" },
    { name = "a bool counts as an int and is kept", src = [[
        x: int = True
        print(x)
      ]], out = "True\n" },
    { name = "int from a float truncates toward zero", src = [[
        a: int = 3.98
        b: int = -7.9
        print(a, b)
      ]], out = "3 -7\n" },
    { name = "int from strings", src = [[
        a: int = "5"
        b: int = "3.5"
        print(a, b, type(b))
      ]], out = "5 3 int\n" },
    { name = "float from a string", src = [[
        t: float = "98.6"
        print(t, type(t))
      ]], out = "98.6 float\n" },
    { name = "float from an int", src = [[
        t: float = 5
        print(t)
      ]], out = "5.0\n" },
    { name = "bool from strings uses the semantic table", src = [[
        a: bool = "0"
        b: bool = "no way"
        c: bool = "nope"
        d: bool = "1"
        e: bool = "yes please"
        print(a, b, c, d, e)
      ]], out = "False False False True True\n" },
    { name = "str from True is 'true'", src = [[
        s: str = True
        print(s, type(s))
      ]], out = "true str\n" },
    { name = "str from numbers uses str()", src = [[
        a: str = 5
        b: str = 2.5
        print(a + b)
      ]], out = "52.5\n" },
    { name = "list from JSON", src = [[
        xs: list = "[1, 2, 3]"
        print(xs, len(xs))
      ]], out = "[1, 2, 3] 3\n" },
    { name = "dict from JSON", src = [[
        d: dict = '{"a": 1, "b": [true, null]}'
        print(d)
      ]], out = "{'a': 1, 'b': [True, None]}\n" },
    { name = "a failed coercion raises", src = [[
        x: int = "abc"
      ]], err = { kind = { "TypeError", "ValueError" }, msg = "cannot coerce", line = 1 } },
    { name = "the message names the target and the type", src = [[
        y = 1
        count: int = "many"
      ]], err = { kind = { "TypeError", "ValueError" }, msg = { "count", "int" }, line = 2 } },
    { name = "a typed re-assignment coerces again", src = [[
        x: int = 1
        x: int = "2"
        print(x + 1)
      ]], out = "3\n" },
  }
end)

describe("§1.9 type() and isinstance", function()
  H.cases {
    { name = "type names print", src = [[
        print(type(1), type(1.5), type("s"), type(True), type([]), type({}), type((1,)), type({1}), type(None))
      ]], out = "int float str bool list dict tuple set NoneType\n" },
    { name = "type() equals the name string", src = [[
        print(type(5) == "int", type("a") == "str", type(None) == "NoneType", type(5) == "str")
      ]], out = "True True True False\n" },
    { name = "type(a) == type(b)", src = [[
        print(type(1) == type(2), type(1) == type(1.0))
      ]], out = "True False\n" },
    { name = "type(True) is bool", src = [[
        print(type(True) == "bool", type(True) == "int")
      ]], out = "True False\n" },
    { name = "type of a struct", src = [[
        struct Point:
            x: int = 0
        p = Point()
        print(type(p), type(p) == "Struct[Point]")
      ]], out = "Struct[Point] True\n" },
    { name = "type in an f-string", src = [[
        v = 2.5
        print(f"{v} is {type(v)}")
      ]], out = "2.5 is float\n" },
    { name = "isinstance takes type-name strings", src = [[
        print(isinstance(5, "int"), isinstance("a", "str"), isinstance(5, "str"), isinstance([1], "list"))
      ]], out = "True True False True\n" },
    { name = "isinstance(True, 'int') is False", src = [[
        print(isinstance(True, "int"), isinstance(True, "bool"))
      ]], out = "False True\n" },
  }
end)
