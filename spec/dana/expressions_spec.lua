-- §1.3 Expressions and precedence: ternary, and/or/not, comparisons (left-associative
-- binary operators), arithmetic, **, unary minus, trailers, atoms, slices, comprehensions.
local H = require("helpers.dana")

describe("§1.3 precedence", function()
  H.cases {
    { name = "* binds tighter than +", src = [[
        print(2 + 3 * 4, (2 + 3) * 4)
      ]], out = "14 20\n" },
    { name = "- and / are left-associative", src = [[
        print(10 - 2 - 3, 100 / 10 / 5, 17 // 5 * 2)
      ]], out = "5 2.0 6\n" },
    { name = "% has the level of *", src = [[
        print(2 + 7 % 3, 10 - 4 % 3 * 2)
      ]], out = "3 8\n" },
    { name = "** is right-associative", src = [[
        print(2 ** 3 ** 2)
      ]], out = "512\n" },
    { name = "unary minus binds tighter than **", src = [[
        print(-2 ** 2)
      ]], out = "4\n" },
    { name = "** binds tighter than *", src = [[
        print(2 * 3 ** 2)
      ]], out = "18\n" },
    { name = "a negative exponent", src = [[
        print(2 ** -1, 10 ** -2)
      ]], out = "0.5 0.01\n" },
    { name = "unary plus and double minus", src = [[
        x = 3
        print(+x, -(-x), - -x)
      ]], out = "3 3 3\n" },
    { name = "comparison binds looser than arithmetic", src = [[
        print(1 + 2 == 3, 2 * 3 > 5)
      ]], out = "True True\n" },
    { name = "not binds looser than comparison", src = [[
        print(not 1 == 2, not not True)
      ]], out = "True True\n" },
    { name = "and binds tighter than or", src = [[
        print(True or False and False, (True or False) and False)
      ]], out = "True False\n" },
    { name = "a ternary binds looser than or", src = [[
        x = 0
        print("a" if x or False else "b")
      ]], out = "b\n" },
    { name = "ternaries nest to the right", src = [[
        def grade(n):
            return "high" if n > 10 else "mid" if n > 5 else "low"
        print(grade(11), grade(6), grade(1))
      ]], out = "high mid low\n" },
  }
end)

describe("§1.3 comparisons are left-associative binary operators", function()
  H.cases {
    { name = "1 < 2 < 3 is (1 < 2) < 3", src = [[
        print(1 < 2 < 3)
      ]], out = "True\n" },
    { name = "3 > 2 > 1 is (3 > 2) > 1, False", src = [[
        print(3 > 2 > 1)
      ]], out = "False\n" },
    { name = "2 == 2 == 2 is (2 == 2) == 2, False", src = [[
        print(2 == 2 == 2)
      ]], out = "False\n" },
    { name = "1 == 1 == 1 is True == 1, True", src = [[
        print(1 == 1 == 1)
      ]], out = "True\n" },
    { name = "every operator", src = [[
        print(1 < 2, 2 <= 2, 3 > 4, 4 >= 4, 1 == 1.0, 1 != 2)
      ]], out = "True True False True True True\n" },
    { name = "strings compare lexicographically", src = [[
        print("apple" < "banana", "b" > "abc", "a" == "a")
      ]], out = "True True True\n" },
    { name = "lists compare element-wise", src = [[
        print([1, 2] < [1, 3], [1, 2] == [1, 2])
      ]], out = "True True\n" },
    { name = "in and not in", src = [[
        print(2 in [1, 2], "at" in "cat", "k" in {"k": 1}, 3 not in [1, 2], 1 in (1, 2), 5 in {5})
      ]], out = "True True True True True True\n" },
    { name = "in on dict checks keys, not values", src = [[
        print(1 in {"a": 1})
      ]], out = "False\n" },
    { name = "is and is not", src = [[
        a = [1]
        b = a
        c = [1]
        print(a is b, a is c, a is not c, None is None, 0 is not None)
      ]], out = "True False True True True\n" },
  }
end)

describe("§1.3 and / or / not", function()
  H.cases {
    { name = "or returns the first truthy operand", src = [[
        print(0 or "x", "" or [] or "last", "a" or "b")
      ]], out = "x last a\n" },
    { name = "and returns the first falsy operand", src = [[
        print("" and 5, 1 and 2, None and 1)
      ]], out = " 2 None\n" },
    { name = "or short-circuits", src = [[
        def boom():
            print("called")
            return True
        x = True or boom()
        print(x)
      ]], out = "True\n" },
    { name = "and short-circuits", src = [[
        def boom():
            print("called")
            return True
        x = False and boom()
        print(x)
      ]], out = "False\n" },
    { name = "or guards an undefined name", src = [[
        d = {}
        name = d.get("name") or "anonymous"
        print(name)
      ]], out = "anonymous\n" },
    { name = "not uses Python truthiness", src = [[
        print(not "", not "false", not [], not 0.0, not None, not {})
      ]], out = "True False True True True True\n" },
  }
end)

describe("§1.3 trailers", function()
  H.cases {
    { name = "calls on call results f(a)(b)", src = [[
        def adder(n):
            return lambda x :: x + n
        print(adder(2)(5))
      ]], out = "7\n" },
    { name = "calls on subscripts fs[1](x)", src = [[
        def inc(x):
            return x + 1
        def dbl(x):
            return x * 2
        fs = [inc, dbl]
        print(fs[1](10), fs[0](10))
      ]], out = "20 11\n" },
    { name = "index on a literal", src = [[
        print([10, 20, 30][1], "abc"[0], {"a": 5}["a"])
      ]], out = "20 a 5\n" },
    { name = "method on a string literal", src = [[
        print("-".join(["a", "b", "c"]))
      ]], out = "a-b-c\n" },
    { name = "chained methods", src = [[
        print("  Hi There ".strip().lower().split(" "))
      ]], out = "['hi', 'there']\n" },
    { name = "call with a trailing comma and keywords", src = [[
        def f(a, b=2):
            return a * b
        print(f(3,), f(3, b=4,), f(b=5, a=1))
      ]], out = "6 12 5\n" },
  }
end)

describe("§1.3 atoms", function()
  H.cases {
    { name = "tuples", src = [[
        print((), (1,), (1, 2), type((1,)))
      ]], out = "() (1,) (1, 2) tuple\n" },
    { name = "parenthesised expression is not a tuple", src = [[
        print((5), type((5)))
      ]], out = "5 int\n" },
    { name = "sets and dicts", src = [[
        print({1, 2}, {"k": 1}, {}, type({}), type({1}))
      ]], out = "{1, 2} {'k': 1} {} dict set\n" },
    { name = "nested literals", src = [[
        print([[1, 2], {"a": (1, [2])}])
      ]], out = "[[1, 2], {'a': (1, [2])}]\n" },
  }
end)

describe("§1.3 slices", function()
  H.cases {
    { name = "[a:b]", src = [[
        xs = [0, 1, 2, 3, 4, 5]
        print(xs[1:4], xs[:2], xs[3:])
      ]], out = "[1, 2, 3] [0, 1] [3, 4, 5]\n" },
    { name = "negative bounds", src = [[
        xs = [0, 1, 2, 3, 4, 5]
        print(xs[-2:], xs[:-1], xs[-4:-2])
      ]], out = "[4, 5] [0, 1, 2, 3, 4] [2, 3]\n" },
    { name = "steps", src = [[
        xs = [0, 1, 2, 3, 4, 5]
        print(xs[::2], xs[1::2], xs[1:5:3])
      ]], out = "[0, 2, 4] [1, 3, 5] [1, 4]\n" },
    { name = "negative steps", src = [[
        xs = [0, 1, 2, 3, 4, 5]
        print(xs[::-1], xs[4:1:-1], xs[::-2])
      ]], out = "[5, 4, 3, 2, 1, 0] [4, 3, 2] [5, 3, 1]\n" },
    { name = "[:] copies", src = [[
        xs = [1, 2]
        ys = xs[:]
        ys.append(3)
        print(xs, ys)
      ]], out = "[1, 2] [1, 2, 3]\n" },
    { name = "strings slice by code point", src = [[
        s = "Hello 世界"
        print(s[6:], s[:5], s[::-1], s[-1])
      ]], out = "世界 Hello 界世 olleH 界\n" },
    { name = "tuples slice to tuples", src = [[
        t = (1, 2, 3)
        print(t[1:], t[::-1])
      ]], out = "(2, 3) (3, 2, 1)\n" },
    { name = "negative index", src = [[
        xs = [1, 2, 3]
        print(xs[-1], xs[-3], "abc"[-2])
      ]], out = "3 1 b\n" },
    { name = "index out of range raises IndexError", src = [[
        xs = [1, 2, 3]
        print(xs[3])
      ]], err = { kind = "IndexError", line = 2 } },
  }
end)

describe("§1.3 comprehensions", function()
  H.cases {
    { name = "list comprehension", src = [[
        print([x * x for x in range(5)])
      ]], out = "[0, 1, 4, 9, 16]\n" },
    { name = "list comprehension with if", src = [[
        print([x for x in range(10) if x % 3 == 0])
      ]], out = "[0, 3, 6, 9]\n" },
    { name = "set comprehension", src = [[
        print({len(w) for w in ["a", "bb", "cc", "d"]})
      ]], out = "{1, 2}\n" },
    { name = "dict comprehension", src = [[
        words = ["apple", "kiwi"]
        print({w: len(w) for w in words})
      ]], out = "{'apple': 5, 'kiwi': 4}\n" },
    { name = "dict comprehension with parenthesised pair", src = [[
        print({(k: v * 2) for k, v in {"a": 1, "b": 2}.items()})
      ]], out = "{'a': 2, 'b': 4}\n" },
    { name = "unpacking in a comprehension", src = [[
        pairs = [("a", 1), ("b", 2)]
        print([f"{k}={v}" for k, v in pairs])
      ]], out = "['a=1', 'b=2']\n" },
    { name = "comprehension variables do not leak", src = [==[
        squares = [y * y for y in [1, 2]]
        print(y)
      ]==], err = { kind = "NameError", msg = "y", line = 2 } },
    { name = "a ternary element in parentheses", src = [[
        print([("even" if n % 2 == 0 else "odd") for n in range(3)])
      ]], out = "['even', 'odd', 'even']\n" },
    { name = "a comprehension over a string and with method calls", src = [[
        print([c.upper() for c in "abc" if c != "b"])
      ]], out = "['A', 'C']\n" },
    { name = "a comprehension spanning lines", src = [[
        result = [
            x + 1
            for x in [1, 2, 3]
            if x > 1
        ]
        print(result)
      ]], out = "[3, 4]\n" },
    { name = "comprehension sees enclosing names", src = [==[
        factor = 10
        print([x * factor for x in [1, 2]])
      ]==], out = "[10, 20]\n" },
  }
end)

describe("§1.3 the pipe outside declarative defs", function()
  H.cases {
    { name = "a | b is a SyntaxError", src = [[
        x = 1
        y = x | 2
      ]], err = { kind = "SyntaxError", line = 2, msg = "Pipe expressions" } },
  }
end)
