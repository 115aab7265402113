-- §1.9 Output formats, checked against CPython: float repr, round, container repr,
-- struct repr, type names, dict views, range, print's sep/end. Every expected text here
-- was produced by python3.
local H = require("helpers.dana")

describe("§1.9 floats print as CPython's repr", function()
  H.cases {
    { name = "1e+20 and 1e+16", src = [[
        print(1e20, 1e16, 1e22, 1e100)
      ]], out = "1e+20 1e+16 1e+22 1e+100\n" },
    { name = "1e15 prints in full", src = [[
        print(1e15, 9999999999999998.0)
      ]], out = "1000000000000000.0 9999999999999998.0\n" },
    { name = "small numbers", src = [[
        print(0.00001, 0.0001, 0.000123, 1.5e-7, 2.5e-10)
      ]], out = "1e-05 0.0001 0.000123 1.5e-07 2.5e-10\n" },
    { name = "17 significant digits when needed", src = [[
        print(12345678901234568.0)
      ]], out = "1.2345678901234568e+16\n" },
    { name = "shortest round-trip", src = [[
        print(0.1 + 0.2, 100 / 3, 1 / 3, 1.1 * 1.1)
      ]], out = "0.30000000000000004 33.333333333333336 0.3333333333333333 1.2100000000000002\n" },
    { name = "integral floats keep .0", src = [[
        print(80.0, 100.0, float(10), 3e0, 123456789.0 * 1000)
      ]], out = "80.0 100.0 10.0 3.0 123456789000.0\n" },
    { name = "short decimals", src = [[
        print(6.4, 2.5, -2.50, 0.5)
      ]], out = "6.4 2.5 -2.5 0.5\n" },
    { name = "-0.0", src = [[
        print(-0.0)
      ]], out = "-0.0\n" },
    { name = "inf, -inf and nan", src = [[
        inf = float("inf")
        print(inf, -inf, inf - inf, 1e300 * 1e10)
      ]], out = "inf -inf nan inf\n" },
    { name = "str() of floats", src = [[
        print(str(1.0) + "|" + str(0.1) + "|" + str(1e20))
      ]], out = "1.0|0.1|1e+20\n" },
    { name = "floats inside containers", src = [[
        print([0.1, 1e20, 2.0], {"x": 1e-05})
      ]], out = "[0.1, 1e+20, 2.0] {'x': 1e-05}\n" },
  }
end)

describe("§1.9 round is CPython's", function()
  H.cases {
    { name = "half to even", src = [[
        print(round(2.5), round(3.5), round(-1.5), round(-0.5), round(0.5))
      ]], out = "2 4 -2 0 0\n" },
    { name = "round(x) is an int", src = [[
        print(type(round(2.7)), round(2.7), round(7))
      ]], out = "int 3 7\n" },
    { name = "round(x, n) is a float, decimal-exact", src = [[
        print(round(2.675, 2), round(3.14159, 1), round(0.125, 2), round(1.005, 2))
      ]], out = "2.67 3.1 0.12 1.0\n" },
    { name = "round(x, 0) is a float", src = [[
        print(round(2.5, 0), type(round(2.5, 0)))
      ]], out = "2.0 float\n" },
    { name = "round in f-strings", src = [[
        avg = 10 / 3
        print(f"average: {round(avg, 2)}")
      ]], out = "average: 3.33\n" },
  }
end)

describe("§1.9 containers print their items with repr", function()
  H.cases {
    { name = "strings in a list are quoted", src = [[
        print(["a", "it's"])
      ]], out = "['a', \"it's\"]\n" },
    { name = "a string with both quote kinds", src = [[
        print(["it's \"quoted\""])
      ]], out = "['it\\'s \"quoted\"']\n" },
    { name = "a lone single quote", src = [[
        print(["'"])
      ]], out = "[\"'\"]\n" },
    { name = "control characters are escaped in repr", src = [[
        print(["a\nb", "tab\there"])
      ]], out = "['a\\nb', 'tab\\there']\n" },
    { name = "nested dict and list", src = [[
        print({"k": [1, 2.5, None, True]})
      ]], out = "{'k': [1, 2.5, None, True]}\n" },
    { name = "tuples", src = [[
        print((1,), (), (1, "a"))
      ]], out = "(1,) () (1, 'a')\n" },
    { name = "sets", src = [[
        print(set(), {1, 2}, {"a"})
      ]], out = "set() {1, 2} {'a'}\n" },
    { name = "empty containers", src = [[
        print([], {}, "")
      ]], out = "[] {} \n" },
    { name = "a dict with mixed keys", src = [[
        print({1: "a", "b": 2, (1, 2): None, 2.5: [True]})
      ]], out = "{1: 'a', 'b': 2, (1, 2): None, 2.5: [True]}\n" },
    { name = "str() of a list is its repr", src = [[
        s = str([1, "a"])
        print(s, len(s))
      ]], out = "[1, 'a'] 8\n" },
    { name = "a top-level string prints without quotes", src = [[
        print("it's", 'x')
      ]], out = "it's x\n" },
    { name = "None, True, False", src = [[
        print(None, True, False, [None, False])
      ]], out = "None True False [None, False]\n" },
    { name = "non-ASCII strings in repr", src = [[
        print(["世界", "é"])
      ]], out = "['世界', 'é']\n" },
  }
end)

describe("§1.9 views, ranges and type names", function()
  H.cases {
    { name = "d.keys() prints dict_keys", src = [[
        d = {"b": 1, "a": 2}
        print(d.keys())
      ]], out = "dict_keys(['b', 'a'])\n" },
    { name = "d.values() and d.items()", src = [[
        d = {"b": 1, "a": 2}
        print(d.values(), d.items())
      ]], out = "dict_values([1, 2]) dict_items([('b', 1), ('a', 2)])\n" },
    { name = "range prints range(start, stop)", src = [[
        print(range(3), range(1, 10, 2))
      ]], out = "range(0, 3) range(1, 10, 2)\n" },
    { name = "types print their names", src = [[
        print([type(1), type("")])
      ]], has = { "int", "str" } },
  }
end)

describe("§1.9 structs print like dataclasses", function()
  H.cases {
    { name = "fields with repr values", src = [[
        struct Person:
            name: str
            age: int
        print(Person(name="Ada", age=36))
      ]], out = "Person(name='Ada', age=36)\n" },
    { name = "nested structs", src = [[
        struct Point:
            x: int
            y: int
        struct Line:
            start: Point
            end: Point
        print(Line(start=Point(x=0, y=0), end=Point(x=1, y=1)))
      ]], out = "Line(start=Point(x=0, y=0), end=Point(x=1, y=1))\n" },
    { name = "structs inside a list", src = [[
        struct P:
            x: int
        print([P(x=1), P(x=2)])
      ]], out = "[P(x=1), P(x=2)]\n" },
    { name = "str() and f-strings of a struct", src = [[
        struct Tag:
            label: str = "t"
        t = Tag()
        print(str(t) + "|" + f"{t}")
      ]], out = "Tag(label='t')|Tag(label='t')\n" },
  }
end)

describe("§1.9 print", function()
  H.cases {
    { name = "several values are separated by a space", src = [[
        print(1, "a", None, 2.5)
      ]], out = "1 a None 2.5\n" },
    { name = "sep", src = [[
        print("a", "b", "c", sep="-")
      ]], out = "a-b-c\n" },
    { name = "end", src = [[
        print("x", end="")
        print("y", end="!\n")
      ]], out = "xy!\n" },
    { name = "print() prints a newline", src = [[
        print()
      ]], out = "\n" },
    { name = "print returns None", src = [[
        r = print("hi")
        print(r)
      ]], out = "hi\nNone\n" },
    { name = "f-strings format with str", src = [[
        price = 19.5
        items = ["pen"]
        print(f"{items} cost {price * 2}")
      ]], out = "['pen'] cost 39.0\n" },
  }
end)

describe("§1.9 str methods that must match CPython", function()
  H.cases {
    { name = "title follows CPython", src = [[
        print("hello world's".title(), "o'neil mcdonald".title())
      ]], out = "Hello World'S O'Neil Mcdonald\n" },
    { name = "''.isdigit() is False", src = [[
        print("".isdigit(), "123".isdigit(), "12a".isdigit())
      ]], out = "False True False\n" },
  }
end)
