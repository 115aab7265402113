-- Runs the busted specs under this interpreter (lua5.4) and exits non-zero on failure.
-- The last line printed is "N passed, N failed".
local args = { ... }
local cmd = { "lua5.4", "/usr/bin/busted", "-o", "tools/summary_output.lua" }
for _, a in ipairs(args) do cmd[#cmd + 1] = a end
local quoted = {}
for i, a in ipairs(cmd) do quoted[i] = "'" .. a:gsub("'", "'\\''") .. "'" end
local ok, _, code = os.execute(table.concat(quoted, " "))
if not ok then os.exit(code ~= 0 and code or 1) end
