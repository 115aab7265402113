-- §1.2 Statements: assignment targets, typed and compound assignment, expression
-- statements and the program result, assert, if/elif/else, while, for, break/continue/pass.
local H = require("helpers.dana")

describe("§1.2 assignment", function()
  H.cases {
    { name = "to a name", src = [[
        x = 5
        print(x)
      ]], out = "5\n" },
    { name = "rebinding changes the type", src = [[
        x = 5
        x = "five"
        print(x)
      ]], out = "five\n" },
    { name = "to a list item", src = [[
        a = [1, 2, 3]
        a[0] = 10
        a[-1] = 30
        print(a)
      ]], out = "[10, 2, 30]\n" },
    { name = "to a dict key, new and existing", src = [[
        d = {"a": 1}
        d["a"] = 2
        d["b"] = 3
        print(d)
      ]], out = "{'a': 2, 'b': 3}\n" },
    { name = "to a nested item d[k][j]", src = [[
        d = {"k": {"j": 1}}
        d["k"]["j"] = 2
        print(d["k"]["j"])
      ]], out = "2\n" },
    { name = "to an attribute", src = [[
        struct Box:
            v: int = 0
        b = Box()
        b.v = 7
        print(b.v)
      ]], out = "7\n" },
    { name = "to a scoped name", src = [[
        private:x = 1
        public:y = 2
        local:z = 3
        print(private:x + public:y + local:z)
      ]], out = "6\n" },
    { name = "an item out of range raises IndexError", src = [[
        a = [1]
        a[3] = 1
      ]], err = { kind = "IndexError", line = 2 } },
    { name = "a literal is not a target", src = "5 = x\n", err = { kind = "SyntaxError", line = 1 } },
  }
end)

describe("§1.2 typed assignment", function()
  H.cases {
    { name = "keeps a value of the type", src = [[
        x: int = 5
        s: str = "a"
        print(x, s)
      ]], out = "5 a\n" },
    { name = "coerces a float to int", src = [[
        x: int = 3.98
        print(x, type(x))
      ]], out = "3 int\n" },
    { name = "to a scoped name", src = [[
        private:count: int = "5"
        print(private:count + 1)
      ]], out = "6\n" },
    { name = "with a generic type", src = [[
        xs: list[int] = [1, 2]
        d: dict[str, int] = {"a": 1}
        print(xs, d)
      ]], out = "[1, 2] {'a': 1}\n" },
  }
end)

describe("§1.2 compound assignment", function()
  H.cases {
    { name = "+= -= *= /=", src = [[
        x = 10
        x += 5
        x -= 3
        x *= 2
        print(x)
        x /= 4
        print(x)
      ]], out = "24\n6.0\n" },
    { name = "+= on strings and lists", src = [[
        s = "ab"
        s += "c"
        xs = [1]
        xs += [2, 3]
        print(s, xs)
      ]], out = "abc [1, 2, 3]\n" },
    { name = "on an item and an attribute", src = [[
        d = {"n": 1}
        d["n"] += 1
        struct C:
            n: int = 0
        c = C()
        c.n += 5
        print(d["n"], c.n)
      ]], out = "2 5\n" },
    { name = "on a scoped name", src = [[
        private:hits = 1
        private:hits += 2
        print(private:hits)
      ]], out = "3\n" },
    { name = "on an undefined name raises NameError", src = [[
        y = 1
        total += 1
      ]], err = { kind = "NameError", msg = "total", line = 2 } },
  }
end)

describe("§1.2 expression statements and the program result", function()
  H.cases {
    { name = "the last expression is the result", src = [[
        x = 20
        x + 1
      ]], value = 21 },
    { name = "a string result", src = [[
        "hello" + " " + "world"
      ]], value = "hello world" },
    { name = "a list result is an array table", src = [[
        [1, "a", 2.5]
      ]], value = { 1, "a", 2.5 } },
    { name = "a dict result is a table", src = [[
        {"a": 1, "b": [True, False]}
      ]], value = { a = 1, b = { true, false } } },
    { name = "a None result is nil", src = [[
        None
      ]], value_nil = true },
    { name = "a docstring is just an expression", src = [[
        """A module docstring."""
        print("ran")
      ]], out = "ran\n" },
  }
end)

describe("§1.2 assert", function()
  H.cases {
    { name = "a true assert passes", src = [[
        assert 1 + 1 == 2
        assert [1], "non-empty list is true"
        print("ok")
      ]], out = "ok\n" },
    { name = "a false assert raises AssertionError", src = [[
        x = 1
        assert x == 2
      ]], err = { kind = "AssertionError", line = 2 } },
    { name = "the message is an f-string evaluated on failure", src = [[
        x = 1
        assert x == 2, f"expected 2, got {x}"
      ]], err = { kind = "AssertionError", msg = "expected 2, got 1", line = 2 } },
    { name = "the message is evaluated only on failure", src = [[
        assert True, undefined_function()
        print("ok")
      ]], out = "ok\n" },
    { name = "without a message: Assertion failed", src = [[
        assert False
      ]], err = { kind = "AssertionError", msg = "Assertion failed" } },
  }
end)

describe("§1.2 if / elif / else", function()
  H.cases {
    { name = "if true", src = [[
        if 1 < 2:
            print("yes")
      ]], out = "yes\n" },
    { name = "else", src = [[
        if 1 > 2:
            print("yes")
        else:
            print("no")
      ]], out = "no\n" },
    { name = "the first matching elif", src = [[
        score = 85
        if score >= 90:
            grade = "A"
        elif score >= 80:
            grade = "B"
        elif score >= 70:
            grade = "C"
        else:
            grade = "F"
        print(grade)
      ]], out = "B\n" },
    { name = "nested if", src = [[
        x = 5
        if x > 0:
            if x % 2 == 1:
                print("positive odd")
            else:
                print("positive even")
      ]], out = "positive odd\n" },
    { name = "names bound in a branch are visible after it", src = [[
        if True:
            found = "yes"
        print(found)
      ]], out = "yes\n" },
  }
end)

describe("§1.2 while", function()
  H.cases {
    { name = "counts", src = [[
        i = 0
        total = 0
        while i < 5:
            total += i
            i += 1
        print(total)
      ]], out = "10\n" },
    { name = "break and continue", src = [[
        i = 0
        seen = []
        while True:
            i += 1
            if i % 2 == 0:
                continue
            if i > 7:
                break
            seen.append(i)
        print(seen)
      ]], out = "[1, 3, 5, 7]\n" },
    { name = "a false condition never runs the body", src = [[
        while False:
            print("never")
        print("after")
      ]], out = "after\n" },
    { name = "there is no loop else", src = "while False:\n    pass\nelse:\n    pass\n",
      err = { kind = "SyntaxError", line = 3 } },
  }
end)

describe("§1.2 for", function()
  H.cases {
    { name = "over a list", src = [[
        for x in [1, 2, 3]:
            print(x)
      ]], out = "1\n2\n3\n" },
    { name = "over range", src = [[
        total = 0
        for i in range(1, 4):
            total += i * i
        print(total)
      ]], out = "14\n" },
    { name = "over a string by code point", src = [[
        out = []
        for ch in "añb":
            out.append(ch)
        print(out)
      ]], out = "['a', 'ñ', 'b']\n" },
    { name = "over a dict gives its keys in insertion order", src = [[
        for k in {"b": 1, "a": 2}:
            print(k)
      ]], out = "b\na\n" },
    { name = "unpacking a, b", src = [[
        for name, age in [("Ada", 36), ("Alan", 41)]:
            print(name, age)
      ]], out = "Ada 36\nAlan 41\n" },
    { name = "unpacking (a, b)", src = [[
        for (k, v) in {"x": 1}.items():
            print(k, v)
      ]], out = "x 1\n" },
    { name = "over dict items", src = [[
        prices = {"apple": 1.5, "pear": 2.0}
        for fruit, price in prices.items():
            print(f"{fruit}: {price}")
      ]], out = "apple: 1.5\npear: 2.0\n" },
    { name = "over a tuple and a set", src = [[
        for x in (1, 2):
            print(x)
        for y in {3}:
            print(y)
      ]], out = "1\n2\n3\n" },
    { name = "break and continue", src = [[
        for i in range(10):
            if i == 1:
                continue
            if i == 4:
                break
            print(i)
      ]], out = "0\n2\n3\n" },
    { name = "the loop variable leaks into the enclosing scope", src = [[
        for i in range(3):
            pass
        print(i)
      ]], out = "2\n" },
    { name = "a nested loop", src = [[
        pairs = []
        for i in range(2):
            for j in range(2):
                pairs.append((i, j))
        print(pairs)
      ]], out = "[(0, 0), (0, 1), (1, 0), (1, 1)]\n" },
    { name = "over a non-iterable raises TypeError", src = [[
        for x in 5:
            pass
      ]], err = { kind = "TypeError", line = 1 } },
  }
end)

describe("§1.2 return / pass", function()
  H.cases {
    { name = "return exits early", src = [[
        def first_even(xs):
            for x in xs:
                if x % 2 == 0:
                    return x
            return None
        print(first_even([1, 3, 4, 6]), first_even([1]))
      ]], out = "4 None\n" },
    { name = "a bare return gives None", src = [[
        def f():
            return
        print(f())
      ]], out = "None\n" },
    { name = "a bare return before a numeric return (translation used to crash)", src = [[
        def f(x):
            if x:
                return
            return 1
        def g(n):
            if n > 3:
                return
            return n * 2
        print(f(True), f(False), g(1), g(5))
      ]], out = "None 1 2 None\n" },
    { name = "pass does nothing", src = [[
        def noop():
            pass
        noop()
        print("ok")
      ]], out = "ok\n" },
  }
end)

describe("§1.7 arguments a def cannot take raise TypeError (Python)", function()
  H.cases {
    { name = "an unknown keyword", src = [[
        def total(price, qty=1):
            return price * qty
        print(total(2, qty=3))
        print(total(2, qt=3))
      ]], out = "6\n", err = { kind = "TypeError", msg = "total() got an unexpected keyword argument 'qt'", line = 4, col = 16 } },
    { name = "a keyword for a position already given", src = [[
        def total(price, qty=1):
            return price * qty
        total(2, price=3)
      ]], err = { kind = "TypeError", msg = "total() got multiple values for argument 'price'", line = 3 } },
    { name = "an unknown keyword after reordered ones", src = [[
        def f(a, b=2):
            return a + b
        print(f(b=1, a=2))
        f(b=1, a=2, c=3)
      ]], out = "3\n", err = { kind = "TypeError", msg = "unexpected keyword argument 'c'", line = 4 } },
    { name = "the arguments are evaluated first", src = [[
        def f(a):
            return a
        def noisy():
            print("evaluated")
            return 1
        f(noisy(), b=2)
      ]], out = "evaluated\n", err = { kind = "TypeError", msg = "unexpected keyword argument 'b'", line = 6 } },
    { name = "the error can be caught like any TypeError", src = [[
        def f(a):
            return a
        try:
            f(1, z=2)
        except TypeError as e:
            print("caught", e)
      ]], out = "caught f() got an unexpected keyword argument 'z'\n" },
  }
end)

describe("§1.7 arguments: an explicit None is not a missing argument (Python)", function()
  H.cases {
    { name = "positional None, keyword None and a missing argument", src = [[
        def f(x, limit=10):
            return limit
        print(f(1, None), f(1, limit=None), f(1), f(1, 5), f(1, limit=6))
      ]], out = "None None 10 5 6\n" },
    { name = "a variable holding None, passed by position and by keyword", src = [[
        def f(x, limit=10):
            return limit
        v = None
        print(f(1, v), f(1, limit=v), f(x=1, limit=v))
      ]], out = "None None None\n" },
    { name = "the only parameter", src = [[
        def one(x=5):
            return x
        print(one(), one(None), one(x=None), one(1))
      ]], out = "5 None None 1\n" },
    { name = "several defaults, keywords skipping positions", src = [[
        def k(a=1, b=2, c=3):
            return [a, b, c]
        print(k(c=None), k(None, c=4), k(b=None), k())
      ]], out = "[1, 2, None] [None, 2, 4] [1, None, 3] [1, 2, 3]\n" },
    { name = "defaults that are expressions", src = [[
        base = 4
        def g(a, b=base * 2, c=len("abc"), d=[0]):
            return [b, c, d]
        print(g(1), g(1, None), g(1, c=None), g(1, d=None))
      ]], out = "[8, 3, [0]] [None, 3, [0]] [8, None, [0]] [8, 3, None]\n" },
    { name = "a default spread over lines keeps the lines", src = [[
        def g(a, b=[1,
                   2], c="x"):
            return [a, b, c]
        print(g(1, None), g(1, c=None))
        x = {}["k"]
      ]], out = "[1, None, 'x'] [1, [1, 2], None]\n", err = { kind = "KeyError", line = 5 } },
    { name = "a lambda with a default", src = [[
        add = lambda a, b: int = 0 :: [a, b]
        print(add(1), add(1, None), add(1, b=None), add(1, 2))
      ]], out = "[1, 0] [1, None] [1, None] [1, 2]\n" },
    { name = "a struct method", src = [[
        struct Dog:
            name: str
            def bark(self, times: int = 1, mark: str = "!"):
                return [self.name, times, mark]
        d = Dog(name="Rex")
        print(d.bark(), d.bark(None), d.bark(times=None), d.bark(2, mark=None))
      ]], out = "['Rex', 1, '!'] ['Rex', None, '!'] ['Rex', None, '!'] ['Rex', 2, None]\n" },
    { name = "a receiver method, called as a method and as a function", src = [[
        struct Dog:
            name: str
        def (p: Dog) wag(n=3):
            return n
        d = Dog(name="Rex")
        print(d.wag(), d.wag(None), d.wag(n=None), wag(d), wag(d, None))
      ]], out = "3 None None 3 None\n" },
    { name = "a function called through a variable and passed as an argument", src = [[
        def f(x, limit=10):
            return limit
        g = f
        def call_it(fn, v):
            return fn(1, v)
        print(g(1, None), g(1), g(1, limit=None), call_it(f, None), call_it(f, 2))
      ]], out = "None 10 None None 2\n" },
    { name = "nested defs and recursion", src = [[
        def outer(a, k=3):
            def inner(b, m="m"):
                return m
            return [inner(1), inner(1, None), inner(1, m=None), k]
        def rec(n, acc=0):
            if n == 0:
                return acc
            return rec(n - 1, acc + n)
        print(outer(1), outer(1, None), rec(4), rec(0, None))
      ]], out = "['m', None, None, 3] ['m', None, None, None] 10 None\n" },
    { name = "a None default is unchanged", src = [[
        def f(x, y=None):
            return y
        print(f(1), f(1, None), f(1, 2), f(1, y=None))
      ]], out = "None None 2 None\n" },
    { name = "later runs call the def the same way", src = [[
        def f(x, limit=10):
            return limit
      ]], check = function(_, _, agent)
        local v, err = agent:run("[f(1, None), f(1), f(1, limit=None)]\n", "second.na")
        assert.is_nil(err)
        assert.same({ nil, 10, nil, n = nil }, { v[1], v[2], v[3] })
        assert.equal(10, v[2])
      end },
    { name = "a struct field given None explicitly (dataclasses)", src = [[
        struct Point:
            x: int
            y: int = 5
        print(Point(x=1, y=None), Point(x=1), Point(x=None), Point(y=None, x=2))
        v = None
        print(Point(x=1, y=v))
      ]], out = "Point(x=1, y=None) Point(x=1, y=5) Point(x=None, y=5) Point(x=2, y=None)\n"
        .. "Point(x=1, y=None)\n" },
    { name = "a missing required struct field still raises", src = [[
        struct Point:
            x: int
            y: int = 5
        p = Point(y=1)
      ]], err = { kind = "TypeError", msg = "missing required argument: 'x'", line = 4 } },
  }
end)
