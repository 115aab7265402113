--- dana.runtime_methods: native str/list/dict/set methods, method calls and
-- attributes (loaded into the agent after dana.runtime).
local R = require("dana.runtime")

local type, getmetatable, setmetatable, select, tostring = type, getmetatable, setmetatable, select,
  tostring
local mtype = math.type
local sfind, ssub, sbyte, supper, slower, sgsub, srep = string.find, string.sub, string.byte,
  string.upper, string.lower, string.gsub, string.rep
local concat = table.concat
local raise, tyerr, typename, nk, eq, str = R.raise, R.tyerr, R.typename, R.nk, R.eq, R.str
local ListMT, TupleMT, ItemsMT, KeysMT, ValuesMT, BoundMT = R.ListMT, R.TupleMT, R.ItemsMT,
  R.KeysMT, R.ValuesMT, R.BoundMT
local dset, sadd, remove_at, newset, newdict = R.dset, R.sadd, R.remove_at, R.newset, R.newdict
local K = R.K
local ulen, uchars, touched = R.ulen, R.uchars, R.touched

local M = {}
local STR, LIST, DICT, SET, TUPLE, RANGE = {}, {}, {}, {}, {}, {}
M.STR, M.LIST, M.DICT, M.SET = STR, LIST, DICT, SET
local METHODS = {} -- type name -> { method name -> function(self, ...) }
M.METHODS = METHODS

--- Argument binding for natives: `local a, b = args({"a", "b"}, ...)`.
local function args(names, a, ...)
  if a == K then
    local kw = ...
    local n = #names
    local r = {}
    for i = 1, n do
      local v = kw[names[i]]
      if v == nil then v = kw[i] end
      r[i] = v
    end
    return table.unpack(r, 1, n)
  end
  return a, ...
end
M.args = args

--- Positional varargs of a call that may use the K convention: returns a list table.
local function posargs(...)
  local a = ...
  if a == K then
    local kw = select(2, ...)
    local n = kw[0] or 0
    local t = { n = n }
    for i = 1, n do t[i] = kw[i] end
    return t, kw
  end
  return { n = select("#", ...), ... }, nil
end
M.posargs = posargs

local function checkstr(v, what)
  if type(v) ~= "string" then tyerr("%s must be str, not %s", what, typename(v)) end
  return v
end

-- ---------------------------------------------------------------------------
-- str

local WS = "[ \t\n\r\f\v]"
local function strip(s, chars, left, right)
  if chars == nil then
    if left then s = sgsub(s, "^" .. WS .. "+", "") end
    if right then s = sgsub(s, WS .. "+$", "") end
    return s
  end
  checkstr(chars, "strip arg")
  local set = {}
  for _, c in ipairs(uchars(chars)) do set[c] = true end
  local cs, n = uchars(s)
  local i, j = 1, n
  if left then while i <= j and set[cs[i]] do i = i + 1 end end
  if right then while j >= i and set[cs[j]] do j = j - 1 end end
  return concat(cs, "", i, j)
end
function STR.strip(s, chars) return strip(s, chars, true, true) end
function STR.lstrip(s, chars) return strip(s, chars, true, false) end
function STR.rstrip(s, chars) return strip(s, chars, false, true) end
function STR.upper(s) return supper(s) end
function STR.lower(s) return slower(s) end
function STR.casefold(s) return slower(s) end
function STR.swapcase(s)
  return (sgsub(s, "%a", function(c)
    local u = supper(c)
    if u == c then return slower(c) end
    return u
  end))
end
function STR.capitalize(s)
  if s == "" then return s end
  local cs, n = uchars(s)
  return supper(cs[1]) .. slower(concat(cs, "", 2, n))
end
function STR.title(s)
  -- CPython: a letter after a non-letter starts a word (so "world's" -> "World'S").
  local prev = false
  return (sgsub(s, "[%z\1-\127\194-\244][\128-\191]*", function(c)
    local isl = c:match("^%a$") ~= nil or #c > 1
    local r
    if isl then
      if prev then r = slower(c) else r = supper(c) end
    else r = c end
    prev = isl
    return r
  end))
end

local function plainsplit(s, sep, maxsplit)
  local r, n, pos = {}, 0, 1
  local ls = #sep
  while true do
    if maxsplit and maxsplit >= 0 and n >= maxsplit then break end
    local a = sfind(s, sep, pos, true)
    if not a then break end
    n = n + 1
    r[n] = ssub(s, pos, a - 1)
    pos = a + ls
  end
  n = n + 1
  r[n] = ssub(s, pos)
  r.n = n
  return setmetatable(r, ListMT)
end
function STR.split(s, ...)
  local sep, maxsplit = args({ "sep", "maxsplit" }, ...)
  if maxsplit ~= nil and mtype(maxsplit) ~= "integer" then tyerr("maxsplit must be an integer") end
  if sep == nil then
    local r, n = {}, 0
    local pos = 1
    while true do
      local a, b = sfind(s, "[^ \t\n\r\f\v]+", pos)
      if not a then break end
      if maxsplit and maxsplit >= 0 and n >= maxsplit then
        n = n + 1
        r[n] = sgsub(ssub(s, a), WS .. "+$", "")
        break
      end
      n = n + 1
      r[n] = ssub(s, a, b)
      pos = b + 1
    end
    r.n = n
    return setmetatable(r, ListMT)
  end
  checkstr(sep, "separator")
  if sep == "" then raise("ValueError", "empty separator") end
  return plainsplit(s, sep, maxsplit)
end
function STR.rsplit(s, ...)
  local sep, maxsplit = args({ "sep", "maxsplit" }, ...)
  if maxsplit == nil or maxsplit < 0 then return STR.split(s, sep) end
  local parts = STR.split(s, sep)
  if parts.n <= maxsplit + 1 then return parts end
  local keep = parts.n - maxsplit
  local head = {}
  for i = 1, keep do head[i] = parts[i] end
  local r = { n = maxsplit + 1, concat(head, sep or " ") }
  for i = keep + 1, parts.n do r[i - keep + 1] = parts[i] end
  return setmetatable(r, ListMT)
end
function STR.splitlines(s)
  local r, n = {}, 0
  for line in (s .. "\n"):gmatch("(.-)\r?\n") do
    n = n + 1
    r[n] = line
  end
  if s == "" or ssub(s, -1) == "\n" then r[n] = nil; n = n - 1 end
  r.n = n
  return setmetatable(r, ListMT)
end
function STR.join(s, it)
  local parts, n = {}, 0
  for _, v in R.iter(it) do
    if type(v) ~= "string" then
      tyerr("sequence item %d: expected str instance, %s found", n, typename(v))
    end
    n = n + 1
    parts[n] = v
  end
  return concat(parts, s)
end
function STR.replace(s, old, new, count)
  checkstr(old, "replace() argument 1")
  checkstr(new, "replace() argument 2")
  if old == "" then
    local cs, n = uchars(s)
    local r = { new }
    for i = 1, n do r[#r + 1] = cs[i]; r[#r + 1] = new end
    return concat(r)
  end
  local r, pos, done = {}, 1, 0
  while true do
    if count and count >= 0 and done >= count then break end
    local a = sfind(s, old, pos, true)
    if not a then break end
    r[#r + 1] = ssub(s, pos, a - 1)
    r[#r + 1] = new
    pos = a + #old
    done = done + 1
  end
  r[#r + 1] = ssub(s, pos)
  return concat(r)
end
local function cpindex(s, bytepos) -- byte position -> code point index (0-based)
  if R.is_ascii(s) then return bytepos - 1 end
  return (utf8.len(s, 1, bytepos - 1) or bytepos - 1)
end
local function bytepos_of(s, i) -- code point index (0-based, may be negative) -> byte pos
  local n = ulen(s)
  if i < 0 then i = i + n; if i < 0 then i = 0 end end
  if i > n then i = n end
  if R.is_ascii(s) then return i + 1 end
  return utf8.offset(s, i + 1) or #s + 1
end
function STR.find(s, sub, start, stop)
  checkstr(sub, "find() argument")
  local p = start and bytepos_of(s, start) or 1
  local hay = s
  if stop then hay = ssub(s, 1, bytepos_of(s, stop) - 1) end
  local a = sfind(hay, sub, p, true)
  if not a then return -1 end
  return cpindex(s, a)
end
function STR.rfind(s, sub)
  checkstr(sub, "rfind() argument")
  local last = -1
  local pos = 1
  while true do
    local a = sfind(s, sub, pos, true)
    if not a then break end
    last = a
    pos = a + 1
  end
  if last < 0 then return -1 end
  return cpindex(s, last)
end
function STR.index(s, sub, ...)
  local r = STR.find(s, sub, ...)
  if r < 0 then raise("ValueError", "substring not found") end
  return r
end
function STR.count(s, sub)
  checkstr(sub, "count() argument")
  if sub == "" then return ulen(s) + 1 end
  local n, pos = 0, 1
  while true do
    local a = sfind(s, sub, pos, true)
    if not a then return n end
    n = n + 1
    pos = a + #sub
  end
end
local function prefixes(p)
  if type(p) == "table" and getmetatable(p) == "tuple" then return p end
  return { n = 1, checkstr(p, "startswith arg") }
end
function STR.startswith(s, p)
  local ps = prefixes(p)
  for i = 1, ps.n do if ssub(s, 1, #ps[i]) == ps[i] then return true end end
  return false
end
function STR.endswith(s, p)
  local ps = prefixes(p)
  for i = 1, ps.n do
    local x = ps[i]
    if x == "" or ssub(s, -#x) == x then return true end
  end
  return false
end
function STR.isdigit(s) return s ~= "" and not sfind(s, "%D") end
STR.isnumeric, STR.isdecimal = STR.isdigit, STR.isdigit
function STR.isalpha(s)
  if s == "" then return false end
  if R.is_ascii(s) then return not sfind(s, "%A") end
  for _, c in ipairs(uchars(s)) do
    if #c == 1 and not c:match("%a") then return false end
  end
  return true
end
function STR.isalnum(s) return s ~= "" and not sfind(s, "%W") end
function STR.isspace(s) return s ~= "" and not sfind(s, "%S") end
function STR.isupper(s) return sfind(s, "%u") ~= nil and not sfind(s, "%l") end
function STR.islower(s) return sfind(s, "%l") ~= nil and not sfind(s, "%u") end
function STR.center(s, w, fill)
  fill = fill or " "
  local n = ulen(s)
  if w <= n then return s end
  local total = w - n
  local left = total // 2
  if total % 2 == 1 and n % 2 == 1 then left = left + 1 end
  return srep(fill, left) .. s .. srep(fill, total - left)
end
function STR.ljust(s, w, fill)
  local n = ulen(s)
  if w <= n then return s end
  return s .. srep(fill or " ", w - n)
end
function STR.rjust(s, w, fill)
  local n = ulen(s)
  if w <= n then return s end
  return srep(fill or " ", w - n) .. s
end
function STR.zfill(s, w)
  local n = ulen(s)
  if w <= n then return s end
  local sign = ""
  if ssub(s, 1, 1) == "-" or ssub(s, 1, 1) == "+" then sign, s = ssub(s, 1, 1), ssub(s, 2) end
  return sign .. srep("0", w - n) .. s
end
function STR.format(s, ...)
  local pos, kw = posargs(...)
  local auto = 0
  return (sgsub(s, "{([^{}]*)}", function(field)
    local name, spec = field:match("^([^:]*):?(.*)$")
    local v
    if name == "" then
      v = pos[auto + 1]
      auto = auto + 1
    elseif name:match("^%d+$") then v = pos[tonumber(name) + 1]
    else v = kw and kw[name] end
    if spec ~= "" then return R.format_spec(v, spec) end
    return str(v)
  end))
end
function STR.encode(s) return s end

-- ---------------------------------------------------------------------------
-- list

function LIST.append(l, v)
  local n = l.n + 1
  l[n] = v
  l.n = n
  touched(l)
end
function LIST.extend(l, it)
  local n = l.n
  for _, v in R.iter(it) do
    n = n + 1
    l[n] = v
  end
  l.n = n
  touched(l)
end
function LIST.insert(l, i, v)
  local n = l.n
  i = R.rint(i)
  if i < 0 then i = i + n; if i < 0 then i = 0 end end
  if i > n then i = n end
  for x = n, i + 1, -1 do l[x + 1] = l[x] end
  l[i + 1] = v
  l.n = n + 1
  touched(l)
end
function LIST.pop(l, i)
  local n = l.n
  if n == 0 then raise("IndexError", "pop from empty list") end
  if i == nil then i = n - 1 else
    i = R.rint(i)
    if i < 0 then i = i + n end
    if i < 0 or i >= n then raise("IndexError", "pop index out of range") end
  end
  local v = l[i + 1]
  for x = i + 1, n - 1 do l[x] = l[x + 1] end
  l[n] = nil
  l.n = n - 1
  touched(l)
  return v
end
local function seqindex(l, v)
  for i = 1, l.n do if eq(l[i], v) then return i end end
end
function LIST.remove(l, v)
  local i = seqindex(l, v)
  if not i then raise("ValueError", "list.remove(x): x not in list") end
  LIST.pop(l, i - 1)
end
function LIST.index(l, v)
  local i = seqindex(l, v)
  if not i then raise("ValueError", R.repr(v) .. " is not in list") end
  return i - 1
end
function LIST.count(l, v)
  local c = 0
  for i = 1, l.n do if eq(l[i], v) then c = c + 1 end end
  return c
end
function LIST.reverse(l)
  local n = l.n
  for i = 1, n // 2 do l[i], l[n - i + 1] = l[n - i + 1], l[i] end
  touched(l)
end
function LIST.copy(l)
  local r = { n = l.n }
  for i = 1, l.n do r[i] = l[i] end
  return setmetatable(r, ListMT)
end
function LIST.clear(l)
  for i = 1, l.n do l[i] = nil end
  l.n = 0
  touched(l)
end

--- Stable merge sort of t[1..n] by less(a, b).
local function msort(t, n, less)
  if n < 2 then return t end
  local src, dst = t, {}
  local width
  -- insertion sort runs of 8
  local RUN = 8
  for lo = 1, n, RUN do
    local hi = lo + RUN - 1
    if hi > n then hi = n end
    for i = lo + 1, hi do
      local v = src[i]
      local j = i - 1
      while j >= lo and less(v, src[j]) do
        src[j + 1] = src[j]
        j = j - 1
      end
      src[j + 1] = v
    end
  end
  width = RUN
  while width < n do
    local i = 1
    while i <= n do
      local mid = i + width
      local hi = i + 2 * width - 1
      if hi > n then hi = n end
      local a, b, k = i, mid, i
      if mid > n then
        for x = i, n do dst[x] = src[x] end
      else
        while a < mid and b <= hi do
          if less(src[b], src[a]) then
            dst[k] = src[b]; b = b + 1
          else
            dst[k] = src[a]; a = a + 1
          end
          k = k + 1
        end
        while a < mid do dst[k] = src[a]; a = a + 1; k = k + 1 end
        while b <= hi do dst[k] = src[b]; b = b + 1; k = k + 1 end
      end
      i = i + 2 * width
    end
    src, dst = dst, src
    width = width * 2
  end
  if src ~= t then for i = 1, n do t[i] = src[i] end end
  return t
end
M.msort = msort

local lt = R.lt
--- Sorts list l in place (key, reverse as Python).
local function sortlist(l, key, reverse)
  local n = l.n
  for i = 1, n do
    if l[i] == nil then tyerr("'<' not supported between instances of 'NoneType' and 'NoneType'") end
  end
  if key ~= nil then
    local dec = {}
    for i = 1, n do dec[i] = { key(l[i]), l[i] } end
    if reverse then msort(dec, n, function(a, b) return lt(b[1], a[1]) end)
    else msort(dec, n, function(a, b) return lt(a[1], b[1]) end) end
    for i = 1, n do l[i] = dec[i][2] end
  elseif reverse then
    msort(l, n, function(a, b) return lt(b, a) end)
  else
    local allnum = true
    for i = 1, n do if not mtype(l[i]) then allnum = false break end end
    if allnum then table.sort(l) else msort(l, n, lt) end
    -- table.sort is not stable, but equal numbers are indistinguishable (1 vs 1.0 aside)
  end
  return l
end
M.sortlist = sortlist
function LIST.sort(l, ...)
  local key, reverse = args({ "key", "reverse" }, ...)
  sortlist(l, key, R.truth(reverse))
  touched(l)
end

TUPLE.index = LIST.index
TUPLE.count = LIST.count

-- ---------------------------------------------------------------------------
-- dict

local function dview(d, mt, which)
  local r = { n = d.n }
  if which == "k" then for i = 1, d.n do r[i] = d.k[i] end
  elseif which == "v" then for i = 1, d.n do r[i] = d.v[i] end
  else
    for i = 1, d.n do r[i] = setmetatable({ n = 2, d.k[i], d.v[i] }, TupleMT) end
  end
  return setmetatable(r, mt)
end
function DICT.keys(d) return dview(d, KeysMT, "k") end
function DICT.values(d) return dview(d, ValuesMT, "v") end
function DICT.items(d) return dview(d, ItemsMT, "i") end
function DICT.get(d, ...)
  local k, default = args({ "key", "default" }, ...)
  local j = d.i[nk(k)]
  if j then return d.v[j] end
  return default
end
function DICT.pop(d, k, ...)
  local j = d.i[nk(k)]
  if j then
    local v = d.v[j]
    remove_at(d, j)
    touched(d)
    return v
  end
  if select("#", ...) > 0 then return (...) end
  raise("KeyError", R.repr(k))
end
function DICT.popitem(d)
  if d.n == 0 then raise("KeyError", "popitem(): dictionary is empty") end
  local k, v = d.k[d.n], d.v[d.n]
  remove_at(d, d.n)
  touched(d)
  return setmetatable({ n = 2, k, v }, TupleMT)
end
function DICT.setdefault(d, k, default)
  local j = d.i[nk(k)]
  if j then return d.v[j] end
  dset(d, k, default)
  touched(d)
  return default
end
function DICT.update(d, other, ...)
  if other == K then
    local kw = ...
    for k2, v in pairs(kw) do if type(k2) == "string" then dset(d, k2, v) end end
    other = kw[1]
  end
  if other ~= nil then
    if type(other) == "table" and getmetatable(other) == "dict" then
      for i = 1, other.n do dset(d, other.k[i], other.v[i]) end
    else
      for _, item in R.iter(other) do
        local k2, v = R.unpack(item, 2)
        dset(d, k2, v)
      end
    end
  end
  touched(d)
end
function DICT.copy(d)
  local r = newdict()
  for i = 1, d.n do dset(r, d.k[i], d.v[i]) end
  return r
end
function DICT.clear(d)
  d.n, d.k, d.v, d.i = 0, {}, {}, {}
  touched(d)
end

-- ---------------------------------------------------------------------------
-- set

function SET.add(s, v) sadd(s, v); touched(s) end
function SET.remove(s, v)
  local j = s.i[nk(v)]
  if not j then raise("KeyError", R.repr(v)) end
  remove_at(s, j)
  touched(s)
end
function SET.discard(s, v)
  local j = s.i[nk(v)]
  if j then remove_at(s, j); touched(s) end
end
function SET.pop(s)
  if s.n == 0 then raise("KeyError", "pop from an empty set") end
  local v = s.k[1]
  remove_at(s, 1)
  touched(s)
  return v
end
function SET.clear(s)
  s.n, s.k, s.i = 0, {}, {}
  touched(s)
end
function SET.copy(s)
  local r = newset()
  for i = 1, s.n do sadd(r, s.k[i]) end
  return r
end
local function toset(it)
  if type(it) == "table" and getmetatable(it) == "set" then return it end
  local r = newset()
  for _, v in R.iter(it) do sadd(r, v) end
  return r
end
function SET.union(s, ...)
  local r = SET.copy(s)
  for i = 1, select("#", ...) do
    for _, v in R.iter(select(i, ...)) do sadd(r, v) end
  end
  return r
end
function SET.update(s, ...)
  for i = 1, select("#", ...) do
    for _, v in R.iter(select(i, ...)) do sadd(s, v) end
  end
  touched(s)
end
function SET.intersection(s, o)
  o = toset(o)
  local r = newset()
  for i = 1, s.n do if o.i[nk(s.k[i])] then sadd(r, s.k[i]) end end
  return r
end
function SET.difference(s, o)
  o = toset(o)
  local r = newset()
  for i = 1, s.n do if not o.i[nk(s.k[i])] then sadd(r, s.k[i]) end end
  return r
end
function SET.issubset(s, o)
  o = toset(o)
  for i = 1, s.n do if not o.i[nk(s.k[i])] then return false end end
  return true
end
function SET.issuperset(s, o) return SET.issubset(toset(o), s) end

RANGE.index = function(r, v)
  if not R.contains(r, v) then raise("ValueError", R.repr(v) .. " is not in range") end
  return (v - r.start) // r.step
end
RANGE.count = function(r, v) return R.contains(r, v) and 1 or 0 end

local NATIVE = {
  list = LIST, dict = DICT, set = SET, tuple = TUPLE, range = RANGE,
  dict_keys = {}, dict_values = {}, dict_items = {},
}
M.NATIVE = NATIVE

-- ---------------------------------------------------------------------------
-- Method calls and attributes

local function noattr(o, name)
  raise("AttributeError", "'" .. typename(o) .. "' object has no attribute '" .. tostring(name) .. "'")
end

--- Calls a user function as a method: f(o, ...). A keyword call (o, K, kw) becomes
-- f(K, kw') with o as the first positional argument.
local function ucall(f, o, ...)
  local a = ...
  if a == K then
    local kw = select(2, ...)
    local n = kw[0] or 0
    local w = { [0] = n + 1, o }
    for i = 1, n do w[i + 1] = kw[i] end
    for k, v in pairs(kw) do
      if type(k) == "string" then w[k] = v end
    end
    local j = -1 -- names of keywords given as None (R.kwn)
    while kw[j] ~= nil do
      w[j] = kw[j]
      j = j - 1
    end
    return f(K, w)
  end
  return f(o, ...) -- exactly the arguments given: a passed None is not a missing one
end
M.ucall = ucall

local function callmethod(o, name, ...)
  local t = type(o)
  if t == "string" then
    local f = STR[name]
    if f then return f(o, ...) end
  elseif t == "table" then
    local tag = getmetatable(o)
    if tag == "struct" then
      if sbyte(name) == 95 then noattr(o, name) end
      local v = o[name]
      if v ~= nil then return v(...) end
      local m = METHODS[o[1]]
      if m then
        local f = m[name]
        if f then return ucall(f, o, ...) end
      end
      local b = M.AGENT_METHODS and o.__agent and M.AGENT_METHODS[name]
      if b then return b(o, ...) end
      noattr(o, name)
    end
    local nat = NATIVE[tag]
    if nat then
      local f = nat[name]
      if f then return f(o, ...) end
      if tag == "dict" and sbyte(name) ~= 95 then
        local j = o.i[name]
        if j then return o.v[j](...) end
      end
    elseif tag == "exception" then
      noattr(o, name)
    end
  end
  if sbyte(name) == 95 then noattr(o, name) end
  local m = METHODS[typename(o)]
  if m then
    local f = m[name]
    if f then return ucall(f, o, ...) end
  end
  noattr(o, name)
end
M.callmethod = callmethod
R.callmethod = callmethod

-- Fast paths for common method calls (codegen emits `_D.m_NAME(o, ...)`).
local FAST = {}
M.FAST = FAST
FAST.m_append, FAST.m_get = R.m_append, R.m_get
for _, name in ipairs({ "items", "keys", "values", "upper", "lower", "strip", "startswith",
  "endswith", "join", "add", "pop", "split", "replace" }) do
  FAST["m_" .. name] = function(o, ...) return callmethod(o, name, ...) end
end

BoundMT.__call = function(b, ...) return callmethod(b.obj, b.name, ...) end

local EXC_ATTRS = { message = true, kind = true }
function M.getattr(o, name)
  if sbyte(name) == 95 then noattr(o, name) end
  if type(o) == "table" then
    local tag = getmetatable(o)
    if tag == "struct" then
      local v = o[name]
      if v ~= nil then return v end
      local st = R.STRUCTS[o[1]]
      if st and st.fieldset[name] then return nil end
      if o.__agent and o.__fields and o.__fields[name] then return nil end
      local m = METHODS[o[1]]
      if m and m[name] then return setmetatable({ obj = o, name = name }, BoundMT) end
      noattr(o, name)
    elseif tag == "dict" then
      local j = o.i[name]
      if j then return o.v[j] end
      if DICT[name] then return setmetatable({ obj = o, name = name }, BoundMT) end
      noattr(o, name)
    elseif tag == "exception" then
      if EXC_ATTRS[name] then
        if name == "kind" then return o.kind end
        return o.message
      end
      if name == "args" then return setmetatable({ n = 1, o.message }, TupleMT) end
      noattr(o, name)
    end
    local nat = NATIVE[tag]
    if nat and nat[name] then return setmetatable({ obj = o, name = name }, BoundMT) end
  elseif type(o) == "string" and STR[name] then
    return setmetatable({ obj = o, name = name }, BoundMT)
  end
  local m = METHODS[typename(o)]
  if m and m[name] then return setmetatable({ obj = o, name = name }, BoundMT) end
  noattr(o, name)
end

function M.setattr(o, name, v)
  if sbyte(name) == 95 then noattr(o, name) end
  if type(o) == "table" and getmetatable(o) == "struct" then
    local st = R.STRUCTS[o[1]]
    if st and not st.fieldset[name] then
      raise("AttributeError", "'" .. o[1] .. "' object has no attribute '" .. name .. "'")
    end
    if st then v = M.fieldcheck(st, name, v) end
    o[name] = v
    touched(o)
    return
  end
  raise("AttributeError", "'" .. typename(o) .. "' object attribute '" .. name .. "' is read-only")
end

--- Registers fn as method `name` of type `tname` (receivers and first-parameter defs).
function M.method(tname, name, fn)
  local m = METHODS[tname]
  if not m then
    m = {}
    METHODS[tname] = m
  end
  m[name] = fn
  return fn
end

--- Field type check of struct constructors and attribute writes.
function M.fieldcheck(st, name, v)
  if v == nil then return nil end
  local ty = st.types[name]
  if ty == "float" then
    if mtype(v) == "integer" then return v + 0.0 end
    if mtype(v) ~= "float" then
      tyerr("field '%s' of %s expects float, got %s", name, st.name, typename(v))
    end
  elseif ty == "int" then
    if mtype(v) ~= "integer" and type(v) ~= "boolean" then
      tyerr("field '%s' of %s expects int, got %s", name, st.name, typename(v))
    end
  elseif ty == "str" then
    if type(v) ~= "string" then
      tyerr("field '%s' of %s expects str, got %s", name, st.name, typename(v))
    end
  elseif ty == "bool" then
    if type(v) ~= "boolean" then
      tyerr("field '%s' of %s expects bool, got %s", name, st.name, typename(v))
    end
  end
  return v
end

--- Defines a struct type; returns its keyword constructor.
-- defaults: field name -> function returning a fresh default value.
function M.struct(name, fields, types, defaults)
  local fieldset = {}
  for _, f in ipairs(fields) do fieldset[f] = true end
  local st = { name = name, fields = fields, types = types, defaults = defaults, fieldset = fieldset }
  R.STRUCTS[name] = st
  -- Explicit None is not a missing field (Python dataclasses): a nil given by position,
  -- or by a keyword listed in the keyword table (R.kwn), is None.
  local ctor = function(...)
    local a = ...
    local inst = { name }
    local kw, pos, npos
    if a == K then
      kw = select(2, ...)
      pos = kw
      npos = kw[0] or 0
      for k in pairs(kw) do
        if type(k) == "string" and not fieldset[k] then
          tyerr("%s() got an unexpected keyword argument '%s'", name, k)
        end
      end
    else
      pos = { ... }
      npos = select("#", ...)
      kw = pos -- no string keys
    end
    for i, f in ipairs(fields) do
      local v = kw[f]
      if v == nil then v = pos[i] end
      if v == nil and i > npos and not (a == K and R.kwn(kw, i, f)) then
        local d = defaults[f]
        if d then v = d()
        else tyerr("%s() missing required argument: '%s'", name, f) end
      end
      inst[f] = M.fieldcheck(st, f, v)
    end
    return setmetatable(inst, R.StructMT)
  end
  st.ctor = ctor
  M.CTORS[ctor] = st
  return ctor
end
M.CTORS = {}

return M
