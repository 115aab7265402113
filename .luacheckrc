-- luacheck configuration (Debian's lua-check): Lua 5.4 everywhere.
std = "lua54"
max_line_length = 120
exclude_files = { "luarocks-tree/**", "build/**" }
files["spec/**/*.lua"] = { std = "+busted" }
files["spec/fixtures/**/*.lua"] = { std = "lua54", ignore = { "." } }  -- attack scripts: hostile on purpose
files["bin/dana"] = { std = "lua54" }
-- untrusted Lua examples run inside an agent, where `dana` is the scope API
files["examples/untrusted.lua"] = { read_globals = { "dana" } }
-- behaviour specs hold Dana sources verbatim, long lines included
files["spec/dana/*.lua"] = { std = "+busted", max_line_length = false }
