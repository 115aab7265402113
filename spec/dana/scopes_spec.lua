-- §1.4 Scope syntax and §3 runtime scope semantics as the host API exposes them:
-- local/private/public/system, unscoped fallback reads, trailers on scoped names,
-- sharing of public between agents, isolation of private, role checks.
local H = require("helpers.dana")

describe("§1.4 scoped names", function()
  H.cases {
    { name = "private read and write", src = [[
        private:secret_count = 5
        print(private:secret_count)
      ]], out = "5\n" },
    { name = "public read and write", src = [[
        public:status = "ready"
        print(public:status)
      ]], out = "ready\n" },
    { name = "local: is the unscoped name", src = [[
        local:a = 1
        b = 2
        print(a, local:b)
      ]], out = "1 2\n" },
    { name = "unscoped reads fall back to private", src = [[
        private:k = 3
        print(k)
      ]], out = "3\n" },
    { name = "unscoped reads fall back to public", src = [[
        public:z = 4
        print(z)
      ]], out = "4\n" },
    { name = "a local shadows a private of the same name", src = [[
        private:n = 1
        n = 2
        print(n, private:n)
      ]], out = "2 1\n" },
    { name = "a missing scoped name raises NameError", src = [[
        print(private:nothing_here)
      ]], err = { kind = "NameError", msg = "nothing_here", line = 1 } },
    { name = "subscript trailer on a scoped name", src = [[
        private:cfg = {"k": 1, "j": [1, 2]}
        print(private:cfg["k"], private:cfg["j"][1])
      ]], out = "1 2\n" },
    { name = "item assignment through a scoped name", src = [[
        private:cfg = {"k": 1}
        private:cfg["k"] = 2
        print(private:cfg["k"])
      ]], out = "2\n" },
    { name = "method calls on a scoped value mutate it", src = [[
        private:items = []
        private:items.append("a")
        private:items.append("b")
        print(private:items, len(private:items))
      ]], out = "['a', 'b'] 2\n" },
    { name = "attribute trailer on a scoped struct", src = [[
        struct Conf:
            level: int = 1
        public:conf = Conf(level=3)
        print(public:conf.level)
      ]], out = "3\n" },
    { name = "calling a function held in a scoped name", src = [[
        private:fn = lambda x :: x * 2
        print(private:fn(21))
      ]], out = "42\n" },
    { name = "scoped names in for iterables", src = [[
        private:names = ["a", "b"]
        for n in private:names:
            print(n)
      ]], out = "a\nb\n" },
    { name = "scoped names in f-strings and typed assignment", src = [[
        private:limit: int = "10"
        print(f"limit={private:limit} type={type(private:limit)}")
      ]], out = "limit=10 type=int\n" },
    { name = "functions see and change global scopes", src = [[
        private:calls = 0
        def track():
            private:calls += 1
            return private:calls
        track()
        track()
        print(private:calls)
      ]], out = "2\n" },
    { name = "private.x is a SyntaxError", src = "private.x = 1\n",
      err = { kind = "SyntaxError", line = 1 } },
    { name = "an unknown scope prefix is not a scope", src = [[
        global_x = 1
        print(global_x)
      ]], out = "1\n" },
  }
end)

describe("§3 scopes through the host API", function()
  H.cases {
    { name = "a public write is visible through agent:get and sb:get", src = [[
        public:result = 42
      ]], check = function(_, sb, agent)
        assert.equal(42, agent:get("public:result"))
        assert.equal(42, sb:get("public:result"))
      end },
    { name = "a private write is visible through agent:get", src = [[
        private:note = "kept"
      ]], check = function(_, _, agent)
        assert.equal("kept", agent:get("private:note"))
      end },
    { name = "a host agent:set is read by Dana code", src = [[
        print(private:y + 1)
      ]], setup = function(_, agent) agent:set("private:y", 41) end, out = "42\n" },
    { name = "a host list value is a Dana list", src = [[
        print(private:xs, len(private:xs))
      ]], setup = function(_, agent) agent:set("private:xs", { 1, 2, 3 }) end,
      out = "[1, 2, 3] 3\n" },
    { name = "scoped values persist across runs of one agent", src = [[
        private:n = 1
      ]], check = function(_, _, agent)
        local v, err = agent:run("private:n += 1\nprivate:n\n", "second.na")
        assert(err == nil, H.errtext(err))
        assert.equal(2, v)
      end },
    { name = "public is shared by the agents of a sandbox", src = [[
        public:shared = "hello"
      ]], check = function(_, sb)
        local b = sb:agent { name = "B", role = "agent" }
        local v, err = b:run("public:shared + ' from B'\n", "b.na")
        assert(err == nil, H.errtext(err))
        assert.equal("hello from B", v)
      end },
    { name = "private is not shared between agents", src = [[
        private:mine = "A's secret"
      ]], check = function(_, sb)
        local b = sb:agent { name = "B", role = "agent" }
        local v, err = b:run("private:mine\n", "b.na")
        assert(v == nil and err ~= nil, "agent B read agent A's private value: " .. tostring(v))
        assert.equal("NameError", err.kind)
      end },
    { name = "two sandboxes share no public", src = [[
        public:t = 1
      ]], check = function(_, sb)
        local dana = require("dana")
        local other = dana.sandbox { tenant = "other" }
        assert.is_nil(other:get("public:t"))
        assert.equal(1, sb:get("public:t"))
      end },
    { name = "role agent may not write system:", src = [[
        system:admin_override = True
      ]], err = { kind = "PermissionError", line = 1 } },
    { name = "role user may not write public:", role = "user", src = [[
        public:x = 1
      ]], err = { kind = "PermissionError", line = 1 } },
    { name = "a permission error is not caught by except", src = [[
        try:
            system:admin_override = True
        except:
            print("caught")
      ]], err = { kind = "PermissionError", line = 2 }, lacks = { "caught" } },
    { name = "local values do not reach the host scope store", src = [[
        temp = 5
      ]], check = function(_, _, agent)
        assert.is_nil(agent:get("public:temp"))
        assert.is_nil(agent:get("private:temp"))
      end },
  }
end)
