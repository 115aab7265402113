-- Untrusted Lua, run in an agent: `bin/dana run examples/untrusted.lua`.
-- It sees only the vetted library and the `dana` scope accessors.
local visits = (dana.get("public:visits") or 0) + 1
dana.set("public:visits", visits)
dana.set("private:note", "seen by " .. dana.agent)
print(("hello from agent %s (role %s), visit %d"):format(dana.agent, dana.role, visits))
print("io is", io, "and os is", os)
return visits
