-- §1.6 Runtime semantics: values, keys, arithmetic, the extra coercions, and/or,
-- truthiness (Python rules, Decisions), the semantic bool of bool(), undefined names.
local H = require("helpers.dana")

describe("§1.6 values", function()
  H.cases {
    { name = "len counts code points", src = [[
        print(len("Hello 世界"), len(""), len("é"))
      ]], out = "8 0 1\n" },
    { name = "indexing a string by code point", src = [[
        s = "añb世"
        print(s[1], s[3])
      ]], out = "ñ 世\n" },
    { name = "dicts keep insertion order", src = [[
        d = {"a": 1, "b": 2}
        d["c"] = 3
        d["a"] = 10
        print(list(d.keys()) == ["a", "b", "c"], d)
      ]], out = "True {'a': 10, 'b': 2, 'c': 3}\n" },
    { name = "sets are unordered for ==", src = [[
        print({1, 2, 3} == {3, 2, 1})
      ]], out = "True\n" },
    { name = "sets keep insertion order when listed", src = [[
        evens = [x for x in list(set([1, 2, 2, 3, 4, 4, 5, 6])) if x % 2 == 0]
        print(evens == [2, 4, 6], evens)
      ]], out = "True [2, 4, 6]\n" },
    { name = "tuples never equal lists", src = [[
        print((1, 2) == [1, 2], (1, 2) == (1, 2), [] == ())
      ]], out = "False True False\n" },
    { name = "tuples are immutable", src = [[
        t = (1, 2)
        t[0] = 5
      ]], err = { kind = "TypeError", line = 2 } },
    { name = "strings are immutable", src = [[
        s = "abc"
        s[0] = "x"
      ]], err = { kind = "TypeError", line = 2 } },
    { name = "== is deep", src = [==[
        a = {"k": [1, {"j": (2, 3)}]}
        b = {"k": [1, {"j": (2, 3)}]}
        print(a == b, a is b, [1, [2]] != [1, [3]])
      ]==], out = "True False True\n" },
    { name = "dict == ignores order", src = [[
        print({"a": 1, "b": 2} == {"b": 2, "a": 1})
      ]], out = "True\n" },
    { name = "lists are shared references", src = [[
        a = [1]
        b = a
        b.append(2)
        print(a)
      ]], out = "[1, 2]\n" },
    { name = "1 == 1.0 and True == 1", src = [[
        print(1 == 1.0, True == 1, False == 0, True == 2)
      ]], out = "True True True False\n" },
  }
end)

describe("§1.6 keys", function()
  H.cases {
    { name = "True, 1 and 1.0 are one dict key", src = [[
        print(len({1: "a", "two": 2, 3.14: 3, True: 4}))
      ]], out = "3\n" },
    { name = "True, 1 and 1.0 are one set member", src = [[
        print(len({1, "hello", 3.14, True}))
      ]], out = "3\n" },
    { name = "dict(k=v) keeps the keywords' order and None values", src = [[
        print(dict(zeta=1, alpha=2, mid=None))
        print(dict([("x", 1)], y=2), dict())
      ]], out = "{'zeta': 1, 'alpha': 2, 'mid': None}\n{'x': 1, 'y': 2} {}\n" },
    { name = "a program's own dict is called, not the builtin", src = [[
        def dict(a=0, b=0):
            return a - b
        print(dict(b=1, a=5))
      ]], out = "4\n" },
    { name = "equal keys keep the first key and the last value", src = [[
        print({1: "int", True: "bool", 1.0: "float"})
      ]], out = "{1: 'float'}\n" },
    { name = "lookup by an equal key of another type", src = [[
        d = {1: "one"}
        print(d[1.0], d[True], 1.0 in d)
      ]], out = "one one True\n" },
    { name = "tuples are keys and set members", src = [[
        grid = {(0, 1): "a"}
        grid[(2, 3)] = "b"
        print(grid[(0, 1)], (2, 3) in grid, (1, 2) in {(1, 2), (3, 4)})
      ]], out = "a True True\n" },
    { name = "a missing key raises KeyError", src = [[
        d = {"a": 1}
        print(d["b"])
      ]], err = { kind = "KeyError", msg = "b", line = 2 } },
    { name = "a list is not a valid key", src = [==[
        d = {}
        d[[1]] = 2
      ]==], err = { kind = "TypeError", line = 2 } },
  }
end)

describe("§1.6 arithmetic", function()
  H.cases {
    { name = "/ gives a float", src = [[
        print(7 / 2, 6 / 3, type(6 / 3))
      ]], out = "3.5 2.0 float\n" },
    { name = "// floors", src = [[
        print(7 // 2, -7 // 2, 7 // -2, 7.5 // 2)
      ]], out = "3 -4 -4 3.0\n" },
    { name = "% floors", src = [[
        print(7 % 3, -7 % 3, 7 % -3, 7.5 % 2)
      ]], out = "1 2 -2 1.5\n" },
    { name = "int ** non-negative int stays an int", src = [[
        print(2 ** 10, 8 ** 2, type(2 ** 3), 0 ** 0)
      ]], out = "1024 64 int 1\n" },
    { name = "** with a float or a negative exponent is a float", src = [[
        print(2 ** 0.5, 4.0 ** 2, 2 ** -2)
      ]], out = "1.4142135623730951 16.0 0.25\n" },
    { name = "int with float gives a float", src = [[
        print(1 + 2.0, 3 * 1.0, 10 - 0.5)
      ]], out = "3.0 3.0 9.5\n" },
    { name = "large ints stay exact", src = [[
        print(2 ** 62, 3 ** 39)
      ]], out = "4611686018427387904 4052555153018976267\n" },
    { name = "bools do arithmetic as ints", src = [[
        print(True + True, True * 3, False - 1)
      ]], out = "2 3 -1\n" },
    { name = "list + concatenates, * repeats", src = [[
        print([1] + [2, 3], [0] * 3, "ab" * 3)
      ]], out = "[1, 2, 3] [0, 0, 0] ababab\n" },
    { name = "division by zero raises ZeroDivisionError", src = [[
        x = 0
        print(1 / x)
      ]], err = { kind = "ZeroDivisionError", line = 2 } },
    { name = "floor division by zero", src = [[
        print(5 // 0)
      ]], err = { kind = "ZeroDivisionError", line = 1 } },
    { name = "modulo by zero", src = [[
        print(5 % 0)
      ]], err = { kind = "ZeroDivisionError", line = 1 } },
    { name = "float division by zero", src = [[
        print(1.5 / 0.0)
      ]], err = { kind = "ZeroDivisionError", line = 1 } },
    { name = "10 + None raises TypeError", src = [[
        print(10 + None)
      ]], err = { kind = "TypeError", line = 1 } },
    { name = "list + int raises TypeError", src = [[
        print([1] + 1)
      ]], err = { kind = "TypeError", line = 1 } },
    { name = "str - str raises TypeError", src = [[
        print("a" - "b")
      ]], err = { kind = "TypeError", line = 1 } },
    { name = "unary minus on a string raises TypeError", src = [[
        print(-"a")
      ]], err = { kind = "TypeError", line = 1 } },
  }
end)

describe("§1.6 extra coercions", function()
  H.cases {
    { name = "str + number concatenates", src = [[
        print("total: " + 5, "pi=" + 3.5)
      ]], out = "total: 5 pi=3.5\n" },
    { name = "number + str concatenates", src = [[
        print(5 + " items")
      ]], out = "5 items\n" },
    { name = "str + bool uses true/false", src = [[
        print("flag=" + True, False + "!")
      ]], out = "flag=true false!\n" },
    { name = "str + None is still a TypeError", src = [[
        print("x" + None)
      ]], err = { kind = "TypeError", line = 1 } },
  }
end)

describe("§1.6 truthiness (Python rules in if/while/not/ternary)", function()
  H.cases {
    { name = "falsy values", src = [[
        for v in [0, 0.0, "", [], {}, None, False, (), set()]:
            if v:
                print("truthy", v)
        print("done")
      ]], out = "done\n" },
    { name = "truthy values", src = [[
        n = 0
        for v in [1, -1, 0.5, "x", [0], {"a": 1}, True, (0,), {0}]:
            if v:
                n += 1
        print(n)
      ]], out = "9\n" },
    { name = "the string 'false' is truthy in if", src = [[
        if "false":
            print("yes")
      ]], out = "yes\n" },
    { name = "the string 'no' is truthy in a ternary", src = [[
        print("t" if "no" else "f")
      ]], out = "t\n" },
    { name = "the string '0' is truthy in while", src = [[
        s = "0"
        n = 0
        while s:
            n += 1
            s = ""
        print(n)
      ]], out = "1\n" },
    { name = "elif uses truthiness", src = [[
        if []:
            print("a")
        elif "0":
            print("b")
      ]], out = "b\n" },
  }
end)

describe("§1.6 semantic bool()", function()
  H.cases {
    { name = "the true table", src = [[
        words = ["true", "yes", "Y", "on", "enabled", "active", "yeah", "yep", "sure", "absolutely", "of course", "certainly", "indeed", "1", "positive", "good", "ok", "okay", "fine", "correct", "right"]
        print([w for w in words if not bool(w)])
      ]], out = "[]\n" },
    { name = "the false table", src = [[
        words = ["false", "no", "N", "off", "disabled", "inactive", "nah", "nope", "never", "definitely not", "no way", "not really", "hardly", "0", "0.0", "0.00", "zero", "none", "null", "empty", "blank"]
        print([w for w in words if bool(w)])
      ]], out = "[]\n" },
    { name = "lower-cased and stripped", src = [[
        print(bool("  YES "), bool(" False\n"), bool("TRUE"))
      ]], out = "True False True\n" },
    { name = "containment rules", src = [[
        print(bool("yes please"), bool("sounds good to me"), bool("nothing"), bool("anon"), bool("that is wrong"))
      ]], out = "True True False False False\n" },
    { name = "second containment rules", src = [[
        print(bool("great"), bool("perfect!"), bool("terrible"), bool("how awful"))
      ]], out = "True True False False\n" },
    { name = "0.000, -0, f and nil are False", src = [[
        print(bool("0.000"), bool("-0"), bool("f"), bool("nil"))
      ]], out = "False False False False\n" },
    { name = "a positive number is True, other text is non-empty", src = [[
        print(bool("42"), bool("3.5"), bool("hello"), bool(""))
      ]], out = "True True True False\n" },
    { name = "non-strings follow Python", src = [[
        print(bool(0), bool(2), bool([]), bool([0]), bool(None), bool({}), bool(0.0))
      ]], out = "False True False True False False False\n" },
  }
end)

describe("§1.6 undefined names (Decisions)", function()
  H.cases {
    { name = "reading an undefined name raises NameError", src = [[
        x = 1
        print(y)
      ]], err = { kind = "NameError", msg = "y", line = 2 } },
    { name = "calling an undefined function raises NameError", src = [[
        result = compute_total(3)
      ]], err = { kind = "NameError", msg = "compute_total", line = 1 } },
    { name = "the message suggests a close name", src = [[
        lenn([1, 2])
      ]], err = { kind = "NameError", msg = { "lenn", "len" }, line = 1 } },
    { name = "a name assigned only later is undefined before", src = [[
        print(later)
        later = 1
      ]], err = { kind = "NameError", msg = "later", line = 1 } },
    { name = "suggestions include the program's own functions", src = [[
        def compute_total(x):
            return x * 2
        print(compute_totl(1))
      ]], err = { kind = "NameError", line = 3, col = 7,
        msg = "name 'compute_totl' is not defined. Did you mean: 'compute_total'?" } },
    { name = "suggestions include structs and module variables", src = [[
        struct Invoice:
            total: int
        item_count = 3
        x = [item_cuont]
      ]], err = { kind = "NameError", line = 4, col = 6,
        msg = "name 'item_cuont' is not defined. Did you mean: 'item_count'?" } },
    { name = "a struct name is suggested", src = [[
        struct Invoice:
            total: int
        i = Invoce(total=1)
      ]], err = { kind = "NameError", line = 3, col = 5, msg = "Did you mean: 'Invoice'?" } },
    { name = "suggestions include the enclosing functions' locals and parameters", src = [[
        def outer(my_param):
            my_value = 3
            def inner():
                return my_valeu + my_param
            return inner()
        outer(1)
      ]], err = { kind = "NameError", line = 4, col = 16,
        msg = "name 'my_valeu' is not defined. Did you mean: 'my_value'?" } },
    { name = "another function's locals are not suggested", src = [[
        def f():
            secret_local = 1
            return secret_local
        print(secret_locl)
      ]], err = { kind = "NameError", line = 4, msg = "name 'secret_locl' is not defined" },
      check = function(r) assert.falsy(r.err.message:find("Did you mean", 1, true)) end },
    { name = "builtins and program names are suggested together", src = [[
        lenn = 1
        print(len2([1]))
      ]], err = { kind = "NameError", line = 2, msg = "Did you mean: 'len', 'lenn'?" } },
    { name = "names of earlier runs (the REPL's entries) are suggested", src = [[
        compute_total = 5
      ]], check = function(_, _, agent)
        local _, err = agent:run("compute_totl + 1\n", "entry2.na")
        assert.equal("NameError", err.kind)
        assert.equal(1, err.line)
        assert.truthy(err.message:find("Did you mean: 'compute_total'?", 1, true), err.message)
      end },
    { name = "a program whose names all resolve gets no suggestion table", src = [[
        def compute_total(x):
            return x
        print(compute_total(1))
      ]], out = "1\n", check = function(r)
        local lua = require("dana.translate").translate(r.src, "t.na")
        assert.falsy(lua:find("_D.cands", 1, true))
      end },
    { name = "a NameError is caught by except", src = [[
        try:
            print(nope)
        except NameError:
            print("caught")
      ]], out = "caught\n" },
  }
end)
