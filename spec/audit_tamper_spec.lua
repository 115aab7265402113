-- Tamper evidence: hundreds of random tamperings of a real log (edit, delete,
-- insert, duplicate, reorder, tail truncation, forged entries, head edits)
-- must all be detected by audit.verify, naming the first bad entry.
-- Seeded (DANA_SEED=n to replay).
local core = require("dana.core")
local audit = require("dana.audit")

local SEED = tonumber(os.getenv("DANA_SEED") or "") or 4242
local TRIALS = tonumber(os.getenv("DANA_TRIALS") or "") or 600
local N = 40

local function tmpfile()
  local p = os.tmpname()
  os.remove(p)
  return p
end

local function read_file(p)
  local f = io.open(p, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function write_file(p, s)
  local f = assert(io.open(p, "wb"))
  f:write(s)
  f:close()
end

local function split_lines(text)
  local t = {}
  for l in text:gmatch("([^\n]*)\n") do t[#t + 1] = l end
  return t
end

local function join(lines)
  if #lines == 0 then return "" end
  return table.concat(lines, "\n") .. "\n"
end

-- A real log written by the C writer, with varied (and odd) fields.
local function make_log(path, opts)
  local o = { path = path, tenant = "acme", key = string.rep("t", 32) }
  for k, v in pairs(opts or {}) do o[k] = v end
  local au = assert(core.audit_open(o))
  local ops = { "read", "write", "delete", "call", "import", "deny", "limit", "escalate", "anomaly" }
  for i = 1, N do
    assert(au:record {
      op = ops[(i % #ops) + 1], resource = (i % 3 == 0 and "system:" or "private:") .. "k" .. i,
      decision = i % 4 == 0 and "deny" or "allow", agent = "agent" .. (i % 3) .. (i == 7 and "\0\n\"" or ""),
      user = "u" .. i, session = "s1", role = "agent", value = "v" .. i,
      detail = i % 5 == 0 and "rule \"quoted\" é" or nil,
    })
  end
  au:close()
end

local function rand_other_byte(b)
  local c
  repeat c = math.random(0, 255) until c ~= b
  return string.char(c)
end

-- Each tamper returns the new lines (or text) and the entry verify must name
-- (nil: any "entry N:" or "head:" message is accepted).
local TAMPERS = {
  edit = function(lines)
    local i = math.random(#lines)
    local l = lines[i]
    local pos = math.random(#l)
    lines[i] = l:sub(1, pos - 1) .. rand_other_byte(l:byte(pos)) .. l:sub(pos + 1)
    return lines, i
  end,
  edit_field = function(lines)      -- a plausible edit: flip a decision or a resource
    local i = math.random(#lines)
    local l = lines[i]
    local nl = l:gsub('"decision":"allow"', '"decision":"deny"', 1)
    if nl == l then nl = l:gsub('"decision":"deny"', '"decision":"allow"', 1) end
    lines[i] = nl
    return lines, i
  end,
  delete = function(lines)
    local i = math.random(#lines - 1)        -- not the last: that is truncation
    table.remove(lines, i)
    return lines, i
  end,
  insert_copy = function(lines)
    local i, j = math.random(#lines + 1), math.random(#lines)
    table.insert(lines, i, lines[j])
    return lines, j == i and i + 1 or i      -- a copy right before itself is a duplicate
  end,
  insert_garbage = function(lines)
    local i = math.random(#lines + 1)
    local g = {}
    for k = 1, math.random(0, 80) do g[k] = string.char(math.random(32, 126)) end
    table.insert(lines, i, table.concat(g))
    return lines, i
  end,
  duplicate = function(lines)
    local i = math.random(#lines)
    table.insert(lines, i + 1, lines[i])
    return lines, i + 1
  end,
  reorder = function(lines)
    local i, j
    repeat i, j = math.random(#lines), math.random(#lines) until i ~= j
    if i > j then i, j = j, i end
    lines[i], lines[j] = lines[j], lines[i]
    return lines, i
  end,
  rotate = function(lines)                   -- move one entry elsewhere
    local i = math.random(#lines)
    local l = table.remove(lines, i)
    local j
    repeat j = math.random(#lines + 1) until j ~= i
    table.insert(lines, j, l)
    return lines, math.min(i, j)
  end,
  truncate_tail = function(lines)
    local k = math.random(1, #lines)
    for _ = 1, k do table.remove(lines) end
    return lines, #lines + 1
  end,
  truncate_bytes = function(lines)           -- a torn last line
    local l = lines[#lines]
    lines[#lines] = l:sub(1, math.random(0, #l - 1))
    if lines[#lines] == "" then table.remove(lines) end
    return lines, #lines
  end,
  recompute_one = function(lines)            -- edit an entry and fix up its own hash
    local i = math.random(#lines - 1)
    local prefix = lines[i]:match('^(.*),"hash":"%x+"}$')
    prefix = prefix:gsub('"user":"u%d+"', '"user":"mallory"', 1)
    lines[i] = prefix .. ',"hash":"' .. core.audit_digest(prefix) .. '"}'
    return lines, i + 1                      -- the next entry's prev no longer matches
  end,
}
local NAMES = {}
for k in pairs(TAMPERS) do NAMES[#NAMES + 1] = k end
table.sort(NAMES)

describe("audit tamper evidence", function()
  local path, pristine, head

  setup(function()
    path = tmpfile()
    make_log(path)
    pristine = read_file(path)
    head = read_file(path .. ".head")
  end)

  teardown(function()
    os.remove(path)
    os.remove(path .. ".head")
  end)

  it("the untouched log verifies", function()
    local ok, n = audit.verify(path)
    assert.is_true(ok)
    assert.equal(N, n)
  end)

  it(string.format("detects %d random tamperings (seed %d)", TRIALS, SEED), function()
    math.randomseed(SEED)
    local t = tmpfile()
    local counts = {}
    for trial = 1, TRIALS do
      local kind = NAMES[(trial - 1) % #NAMES + 1]
      local lines = split_lines(pristine)
      local new, want = TAMPERS[kind](lines)
      local text = join(new)
      if kind == "truncate_bytes" then text = text:sub(1, -2) .. (math.random(2) == 1 and "" or "x") end
      write_file(t, text)
      write_file(t .. ".head", head)
      local ok, err, code = audit.verify(t)
      if text == pristine then
        assert.is_true(ok)                    -- e.g. swapping two identical lines (cannot happen here)
      else
        assert(ok == nil, string.format("seed %d trial %d (%s) went undetected", SEED, trial, kind))
        assert.equal("ETAMPER", code)
        local n = tonumber(err:match("^entry (%d+):"))
        assert(n or err:match("^head:"), err)
        if want and kind ~= "truncate_bytes" and kind ~= "edit" then
          assert(n == want, string.format("seed %d trial %d (%s): expected entry %d, got %s",
            SEED, trial, kind, want, err))
        elseif want and kind == "edit" then
          -- a byte edit may turn one line into two (a '\n'), or be caught at that entry
          assert(n and n <= want + 1 and n >= want, string.format("%s: expected entry %d, got %s", kind, want, err))
        end
      end
      counts[kind] = (counts[kind] or 0) + 1
    end
    os.remove(t)
    os.remove(t .. ".head")
    for _, k in ipairs(NAMES) do assert(counts[k] and counts[k] > 0, k) end
  end)

  it("detects a deleted log and head edits", function()
    local t = tmpfile()
    write_file(t, "")
    write_file(t .. ".head", head)
    local ok, err = audit.verify(t)
    assert.is_nil(ok)
    assert.matches("^entry 1: missing", err)
    write_file(t, pristine)
    write_file(t .. ".head", (head:gsub('"seq":%d+', '"seq":' .. (N + 1))))
    ok, err = audit.verify(t)
    assert.is_nil(ok)
    assert.matches("^entry " .. (N + 1) .. ": missing", err)
    write_file(t .. ".head", (head:gsub('"seq":%d+', '"seq":' .. (N - 1))))
    ok, err = audit.verify(t)
    assert.is_nil(ok)
    assert.matches("^entry " .. N .. ": beyond the head", err)
    local flipped = head:gsub('"hash":"(%x)', function(c) return '"hash":"' .. (c == "0" and "1" or "0") end)
    write_file(t .. ".head", flipped)
    ok, err = audit.verify(t)
    assert.is_nil(ok)
    assert.matches("does not match the hash in the head", err)
    os.remove(t .. ".head")
    ok, err = audit.verify(t)
    assert.is_nil(ok)
    assert.matches("^head: .* is missing", err)
    assert.is_true(audit.verify(t, { head = false }))
    write_file(t .. ".head", "garbage")
    assert.matches("not a valid head file", select(2, audit.verify(t)))
    os.remove(t)
    os.remove(t .. ".head")
  end)

  it("with a chain key, a fully recomputed forgery is detected", function()
    local ck = string.rep("K", 32)
    local p = tmpfile()
    make_log(p, { chain_key = ck })
    assert.is_true(audit.verify(p, { chain_key = ck }))
    -- an attacker without the key rewrites entry 5 and recomputes the whole chain and head
    local lines = split_lines(read_file(p))
    local prev = string.rep("0", 64)
    for i, l in ipairs(lines) do
      local prefix = l:match('^(.*),"hash":"%x+"}$')
      prefix = prefix:gsub('"prev":"%x+"$', '"prev":"' .. prev .. '"')
      if i == 5 then prefix = prefix:gsub('"decision":"%a+"', '"decision":"allow"', 1) end
      local h = core.audit_digest(prefix)
      lines[i] = prefix .. ',"hash":"' .. h .. '"}'
      prev = h
    end
    write_file(p, join(lines))
    write_file(p .. ".head", string.format('{"seq":%d,"hash":"%s"}\n', #lines, prev))
    assert.is_true(audit.verify(p))                  -- an unkeyed chain cannot tell
    local ok, err = audit.verify(p, { chain_key = ck })
    assert.is_nil(ok)
    assert.matches("^entry 1:", err)
    -- truncating a keyed log and forging the head without the key
    os.remove(p)
    os.remove(p .. ".head")
    make_log(p, { chain_key = ck })
    lines = split_lines(read_file(p))
    local last = lines[#lines - 1]
    table.remove(lines)
    write_file(p, join(lines))
    local h = last:match('"hash":"(%x+)"}$')
    write_file(p .. ".head", string.format('{"seq":%d,"hash":"%s","mac":"%s"}\n', #lines, h, string.rep("0", 64)))
    ok, err = audit.verify(p, { chain_key = ck })
    assert.is_nil(ok)
    assert.matches("^head: the MAC does not match", err)
    os.remove(p)
    os.remove(p .. ".head")
  end)
end)
