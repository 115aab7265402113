--- Audit logs: opening (the writer is C, `dana.core.audit_open`), verifying the
-- hash chain, and showing a log as a readable table. See docs/audit.md.
-- @module dana.audit
local core = require("dana.core")
local cjson = require("cjson.safe").new()

cjson.decode_max_depth(4)

local M = {}

--- The fields of an entry, in line order.
M.FIELDS = { "seq", "timestamp", "tenant", "agent", "user", "session", "role", "op",
             "resource", "decision", "value_hash", "detail", "prev", "hash" }

M.OPS = { read = true, write = true, delete = true, call = true, import = true, deny = true,
          limit = true, escalate = true, anomaly = true }

local ZERO = string.rep("0", 64)
local HEX64 = string.rep("%x", 64)
local FIELD_SET = {}
for _, k in ipairs(M.FIELDS) do FIELD_SET[k] = true end

--- Opens a log (see `audit_open` in src/audit.c for the options).
-- @tparam table opts `{path=, fsync=, head=, callback=, ring=, level=, key=, chain_key=, tenant=, public_reads=}`
-- @treturn[1] userdata a `dana.Audit`
-- @treturn[2] nil
-- @treturn[2] string
-- @treturn[2] string `"EAUDIT"`
function M.open(opts)
  return core.audit_open(opts or {})
end

-- Checks the decoded entry's shape; returns an error string or nil.
local function check_shape(e)
  for k in pairs(e) do
    if not FIELD_SET[k] then return "unexpected field '" .. tostring(k) .. "'" end
  end
  for _, k in ipairs(M.FIELDS) do
    local v = e[k]
    if k == "seq" then
      if math.type(v) ~= "integer" and not (type(v) == "number" and v == math.floor(v)) then
        return "seq is not an integer"
      end
    elseif v ~= cjson.null and type(v) ~= "string" then
      return "field '" .. k .. "' is not a string or null"
    end
  end
  if type(e.timestamp) ~= "string"
      or not e.timestamp:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$") then
    return "bad timestamp"
  end
  if not M.OPS[e.op] then return "unknown op" end
  if type(e.resource) ~= "string" or type(e.decision) ~= "string" then
    return "resource and decision are required"
  end
  if e.value_hash ~= cjson.null and not e.value_hash:match("^" .. HEX64 .. "$") then
    return "bad value_hash"
  end
  return nil
end

local function read_head(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a") or ""
  f:close()
  return text
end

--- Verifies a log's hash chain and its head file.
-- @tparam string path the log
-- @tparam[opt] table opts `{chain_key=, head=true}`: the chain key the log was written
--   with (nil: plain SHA-256); `head = false` skips the FILE.head check (tail truncation
--   then goes unnoticed)
-- @treturn[1] true intact
-- @treturn[1] integer number of entries
-- @treturn[2] nil
-- @treturn[2] string `"entry N: reason"` naming the first bad entry, or `"head: reason"`
-- @treturn[2] string `"ETAMPER"` (or `"EAUDIT"` when the file cannot be read)
function M.verify(path, opts)
  opts = opts or {}
  local key = opts.chain_key
  local f, ferr = io.open(path, "rb")
  if not f then return nil, "cannot open " .. tostring(ferr), "EAUDIT" end
  local n, prev = 0, ZERO
  local function bad(i, why)
    f:close()
    return nil, string.format("entry %d: %s", i, why), "ETAMPER"
  end
  for raw in f:lines("L") do
    n = n + 1
    if raw:sub(-1) ~= "\n" then return bad(n, "incomplete line (no final newline)") end
    local line = raw:sub(1, -2)
    local prefix, hash = line:match("^(.*),\"hash\":\"(" .. HEX64 .. ")\"}$")
    if prefix == nil then return bad(n, "not an audit entry (no hash)") end
    if core.audit_digest(prefix, key) ~= hash then
      return bad(n, "hash mismatch (the entry was changed" .. (key and "" or ", or needs a chain key") .. ")")
    end
    local e = cjson.decode(line)
    if type(e) ~= "table" then return bad(n, "not valid JSON") end
    local shape = check_shape(e)
    if shape then return bad(n, shape) end
    if e.seq ~= n then
      return bad(n, string.format("seq is %s, expected %d (entries deleted, inserted, duplicated or reordered)",
        tostring(math.tointeger(e.seq) or e.seq), n))
    end
    if e.prev ~= prev then return bad(n, "prev does not match the hash of the entry before") end
    if e.hash ~= hash then return bad(n, "hash field mismatch") end
    prev = hash
  end
  f:close()
  if opts.head ~= false then
    local hpath = path .. ".head"
    local text = read_head(hpath)
    if text == nil then
      return nil, "head: " .. hpath .. " is missing (tail truncation cannot be ruled out)", "ETAMPER"
    end
    local h = cjson.decode(text)
    if type(h) ~= "table" or math.tointeger(h.seq) == nil or type(h.hash) ~= "string" then
      return nil, "head: " .. hpath .. " is not a valid head file", "ETAMPER"
    end
    local hseq = math.tointeger(h.seq)
    if key then
      local want = core.audit_digest(string.format("dana-audit-head:%d:%s", hseq, h.hash), key)
      if h.mac ~= want then return nil, "head: the MAC does not match (tampered head or wrong key)", "ETAMPER" end
    end
    if n < hseq then
      return nil, string.format("entry %d: missing (the log ends at seq %d but its head says seq %d: truncated)",
        n + 1, n, hseq), "ETAMPER"
    elseif n > hseq then
      return nil, string.format("entry %d: beyond the head (its head says seq %d)", hseq + 1, hseq), "ETAMPER"
    elseif h.hash ~= prev then
      return nil, string.format("entry %d: does not match the hash in the head", n), "ETAMPER"
    end
  end
  return true, n
end

-- Printable, one-line, bounded text for a table cell (log fields are untrusted).
local function cell(v, width)
  if v == nil or v == cjson.null then return "-" end
  local s = tostring(v):gsub("[%c\127]", function(c) return string.format("\\x%02x", c:byte()) end)
  if width and #s > width then s = s:sub(1, width - 3) .. "..." end
  return s
end

--- Reads the entries of a log that match the filters.
-- @tparam string path
-- @tparam[opt] table filters `{agent=, op=, decision=, tenant=, role=, resource=}` (exact matches)
-- @treturn[1] table array of entries (decoded; `bad = true, line = N` for unparseable lines)
-- @treturn[2] nil
-- @treturn[2] string
-- @treturn[2] string `"EAUDIT"`
function M.entries(path, filters)
  filters = filters or {}
  local f, err = io.open(path, "rb")
  if not f then return nil, "cannot open " .. tostring(err), "EAUDIT" end
  local out, n = {}, 0
  for line in f:lines() do
    n = n + 1
    local e = cjson.decode(line)
    if type(e) ~= "table" then
      out[#out + 1] = { bad = true, line = n }
    else
      local keep = true
      for k, want in pairs(filters) do
        if e[k] ~= want then keep = false break end
      end
      if keep then
        for k, v in pairs(e) do if v == cjson.null then e[k] = nil end end
        e.seq = math.tointeger(e.seq) or e.seq
        out[#out + 1] = e
      end
    end
  end
  f:close()
  return out
end

local COLUMNS = {
  { "seq", 6 }, { "timestamp", 24 }, { "tenant", 12 }, { "agent", 12 }, { "role", 10 },
  { "op", 8 }, { "resource", 30 }, { "decision", 8 }, { "detail", 40 },
}

--- Formats a log as a readable table.
-- @tparam string path
-- @tparam[opt] table filters as for `entries`
-- @treturn[1] string the table (header, rule, one row per entry, then a count)
-- @treturn[2] nil
-- @treturn[2] string
-- @treturn[2] string `"EAUDIT"`
function M.show(path, filters)
  local list, err, code = M.entries(path, filters)
  if not list then return nil, err, code end
  local rows = {}
  local widths = {}
  for i, c in ipairs(COLUMNS) do widths[i] = #c[1] end
  for _, e in ipairs(list) do
    local row = {}
    for i, c in ipairs(COLUMNS) do
      local v = e.bad and (c[1] == "detail" and ("unparseable line " .. e.line) or nil) or e[c[1]]
      row[i] = cell(v, c[2])
      if #row[i] > widths[i] then widths[i] = #row[i] end
    end
    rows[#rows + 1] = row
  end
  local out = {}
  local function emit(row)
    local parts = {}
    for i, v in ipairs(row) do
      parts[i] = i == #row and v or (v .. string.rep(" ", widths[i] - #v))
    end
    out[#out + 1] = table.concat(parts, "  ")
  end
  local header, rule = {}, {}
  for i, c in ipairs(COLUMNS) do header[i] = c[1]; rule[i] = string.rep("-", widths[i]) end
  emit(header)
  emit(rule)
  for _, row in ipairs(rows) do emit(row) end
  out[#out + 1] = string.format("%d entr%s", #rows, #rows == 1 and "y" or "ies")
  return table.concat(out, "\n") .. "\n"
end

return M
