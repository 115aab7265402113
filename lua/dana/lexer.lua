--- The line-oriented pre-pass of the Dana front end.
--
-- `scan(source, opts)` works out indentation, brackets, comments and string extents
-- before LPeg sees the text, and returns a *transformed text* in which:
--
-- * every comment is replaced by spaces and every newline inside `()`, `[]`, `{}` by a
--   space (so byte offsets inside a line never move);
-- * each logical line starts with its indentation markers: `"\1"` for INDENT and one
--   `"\2"` per DEDENT, inserted before the line's first byte (only these insertions
--   shift offsets, so a position maps back to a line and column through `ls`);
-- * the text ends with a newline and the DEDENTs that close every open block;
-- * at the first lexical error the text is cut and `"\3"` appended; `err` describes it.
--
-- Tab policy (Python 3's): a tab advances the indentation to the next multiple of 8;
-- indentation is also measured with tabs as one column, and when the two measures
-- disagree about the order of two lines the error is "inconsistent use of tabs and
-- spaces in indentation". There is no backslash continuation (Dana has none).
--
-- `scan` first tries `dana.core.lex_scan` (src/lexer.c, a port of `scan_lua` below that
-- returns the same table for a valid source and false at any lexical error); on false,
-- or when the C module is not loaded, the Lua scan runs and builds the error.
-- @module dana.lexer
local M = {}

local lpeg = require("lpeg")
local byte, sub, find = string.byte, string.sub, string.find
local match = lpeg.match
local core_scan -- dana.core.lex_scan when the C module is loadable
do
  local ok, core = pcall(require, "dana.core")
  if ok and type(core) == "table" and type(core.lex_scan) == "function" then core_scan = core.lex_scan end
end
-- Offset of the next byte that matters inside a logical line (newline, comment, quote,
-- bracket, backslash, control or non-ASCII byte), or #s + 1: an LPeg charset test is
-- about twice as fast as string.find with the equivalent class.
local TO_SPECIAL = (1 - (lpeg.S("\n#'\"()[]{}\\") + lpeg.R("\0\8", "\11\11", "\14\31", "\127\255")))
  ^ 0 * lpeg.Cp()
local B_NL, B_HASH, B_SQ, B_DQ = 10, 35, 39, 34
local B_BSL, B_COLON, B_TAB, B_FF = 92, 58, 9, 12

local OPEN = { [40] = ")", [91] = "]", [123] = "}" }
local CLOSEOF = { [41] = "(", [93] = "[", [125] = "{" }
local WS = { [32] = true, [9] = true, [12] = true, [13] = true }

local function isidc(c)
  return c and ((c >= 97 and c <= 122) or (c >= 65 and c <= 90) or (c >= 48 and c <= 57) or c == 95)
end

local KWHEAD = {
  ["if"] = "'if' statement", ["elif"] = "'elif' statement", ["else"] = "'else' statement",
  ["while"] = "'while' statement", ["for"] = "'for' statement", ["try"] = "'try' statement",
  ["except"] = "'except' statement", ["finally"] = "'finally' statement",
  ["with"] = "'with' statement", ["def"] = "function definition", ["sync"] = "function definition",
  ["struct"] = "struct definition", ["resource"] = "resource definition",
  ["agent_blueprint"] = "agent_blueprint definition", ["workflow"] = "workflow definition",
  ["interface"] = "interface definition", ["agent"] = "agent definition",
}

--- Describe the character at `p` for an "invalid character" message.
local function badchar(s, p)
  local c = byte(s, p)
  if c == 0 then return "source code cannot contain null bytes" end
  if c < 32 or c == 127 then return string.format("invalid non-printable character U+%04X", c) end
  local ok, cp = pcall(utf8.codepoint, s, p)
  if ok and cp then
    local len = #utf8.char(cp)
    return string.format("invalid character '%s' (U+%04X)", sub(s, p, p + len - 1), cp)
  end
  return string.format("invalid byte 0x%02X (the source is not valid UTF-8)", c)
end

--- Scan a source text with the Lua code only (`scan` is the same, faster).
-- @tparam string s the Dana source
-- @tparam[opt] table opts as for `scan`
-- @treturn table as for `scan`
local function scan_lua(s, opts)
  opts = opts or {}
  local max_depth = opts.max_depth or 200
  local max_fdepth = opts.max_fstring_depth or 16
  local n = #s
  local lstart = { 1 }
  do
    local p = 1
    while true do
      local q = find(s, "\n", p, true)
      if not q then break end
      lstart[#lstart + 1] = q + 1
      p = q + 1
    end
  end
  local nl = #lstart
  local out, no = {}, 0
  local copied = 1 -- source bytes before this are in `out`
  local shift = 0 -- bytes inserted so far (markers)
  local shiftat = {} -- shiftat[line] = shift from that line on (logical line starts)
  local strs = {}
  local line = 1
  local err
  local bom = sub(s, 1, 3) == "\239\187\191"

  local function emit_upto(p) -- copy source bytes copied .. p-1
    if p > copied then no = no + 1; out[no] = sub(s, copied, p - 1); copied = p end
  end
  local function blank(p, e) -- replace source bytes p .. e-1 by spaces
    emit_upto(p)
    no = no + 1; out[no] = string.rep(" ", e - p)
    copied = e
  end
  local function lineof(p) -- advance `line` so that it contains p
    while line < nl and lstart[line + 1] <= p do line = line + 1 end
    return line
  end
  local function fail(p, msg, at) -- lexical error at source offset `at` (default p)
    at = at or p
    local lo, hi = 1, nl -- binary search for the line of `at`
    while lo < hi do
      local mid = (lo + hi + 1) // 2
      if lstart[mid] <= at then lo = mid else hi = mid - 1 end
    end
    local l = lo
    emit_upto(p)
    err = { line = l, col = at - lstart[l] + 1 - ((bom and l == 1) and 3 or 0), msg = msg,
      tpos = p + shift }
    no = no + 1; out[no] = "\3"
    copied = n + 1
  end

  -- Scan a string literal whose quote is at q and whose token starts at ts (prefix).
  -- Returns the offset after it, or nil, msg, line-of-detection.
  local scanstr
  local function scan_plain(q, triple, ch)
    if triple then
      local p = q + 3
      local pat = ch == B_DQ and '[\\"]' or "[\\']"
      while true do
        local j = find(s, pat, p)
        if not j then
          return nil, "unterminated triple-quoted string literal", lstart[nl] > n and nl - 1 or nl
        end
        if byte(s, j) == B_BSL then p = j + 2
        elseif byte(s, j + 1) == ch and byte(s, j + 2) == ch then return j + 3
        else p = j + 1 end
      end
    else
      local p = q + 1
      local pat = ch == B_DQ and '[\\"\n]' or "[\\'\n]"
      while true do
        local j = find(s, pat, p)
        if not j then return nil, "unterminated string literal", lstart[nl] > n and nl - 1 or nl end
        local c = byte(s, j)
        if c == B_BSL then
          if byte(s, j + 1) == 13 and byte(s, j + 2) == B_NL then p = j + 3 else p = j + 2 end
        elseif c == B_NL then return nil, "unterminated string literal"
        else return j + 1 end
      end
    end
  end
  -- f-string: braces are counted, quotes inside a body start nested strings.
  local function scan_f(q, triple, ch, fdepth, reg)
    local p = q + (triple and 3 or 1)
    local depth = 0
    while true do
      local j = find(s, "[\\'\"{}\n]", p)
      if not j then return nil end
      local c = byte(s, j)
      if c == B_BSL then p = j + 2
      elseif c == 123 then depth = depth + 1; p = j + 1
      elseif c == 125 then if depth > 0 then depth = depth - 1 end; p = j + 1
      elseif c == B_NL then
        if not triple then return nil end
        p = j + 1
      elseif depth > 0 then -- a nested string inside a body
        if fdepth >= max_fdepth then return nil, "f-string nesting too deep" end
        local ts = j
        while ts > q + 1 and isidc(byte(s, ts - 1)) do ts = ts - 1 end
        local pre = sub(s, ts, j - 1)
        if not (pre == "r" or pre == "R" or pre == "f" or pre == "F") then ts = j end
        local e = scanstr(ts, j, fdepth + 1, reg)
        if not e then return nil end
        p = e
      elseif c == ch and (not triple or (byte(s, j + 1) == ch and byte(s, j + 2) == ch)) then
        return j + (triple and 3 or 1)
      else p = j + 1 end
    end
  end
  function scanstr(ts, q, fdepth, reg)
    local prefix = sub(s, ts, q - 1)
    local ch = byte(s, q)
    local triple = byte(s, q + 1) == ch and byte(s, q + 2) == ch
    local e, msg, at
    if prefix == "f" or prefix == "F" then
      local sub_reg = {}
      e, msg = scan_f(q, triple, ch, fdepth, sub_reg)
      if msg then return nil, msg end
      if e then
        for k, v in pairs(sub_reg) do reg[k] = v end
      else -- an unclosed body: the whole thing is a plain literal
        e, msg, at = scan_plain(q, triple, ch)
      end
    else
      e, msg, at = scan_plain(q, triple, ch)
    end
    if not e then return nil, msg, at end
    reg[ts + shift] = e + shift
    return e
  end

  local indents, alts = { 0 }, { 0 }
  local prev_colon, prev_line, prev_kw = false, 0, nil
  local brackets, nb = {}, 0
  local pos = 1
  if bom then -- a UTF-8 byte order mark is dropped (columns of line 1 do not count it)
    copied, shift, pos = 4, -3, 4
    shiftat[1] = shift
  end

  while pos <= n and not err do
    -- at the start of a physical line outside brackets
    line = lineof(pos)
    local e = find(s, "[^ ]", pos) or n + 1
    local c = byte(s, e)
    local tabbed = false
    if c == B_TAB or c == B_FF then
      tabbed = true
      e = find(s, "[^ \t\f]", e) or n + 1
      c = byte(s, e)
    end
    if c == nil then break end
    if c == 13 and byte(s, e + 1) == B_NL then c = B_NL; e = e + 1 end
    if c == B_NL then pos = e + 1; goto continue end
    if c == B_HASH then
      local j = find(s, "\n", e, true) or n + 1
      blank(e, j)
      pos = j + 1
      goto continue
    end
    do -- a logical line: indentation
      local col, alt = e - pos, e - pos
      if tabbed then
        col, alt = 0, 0
        for k = pos, e - 1 do
          local b = byte(s, k)
          if b == B_TAB then col = (col // 8 + 1) * 8; alt = alt + 1
          elseif b == B_FF then col, alt = 0, 0
          else col = col + 1; alt = alt + 1 end
        end
      end
      local top = #indents
      local markers
      if col == indents[top] then
        if alt ~= alts[top] then
          fail(e, "inconsistent use of tabs and spaces in indentation"); break
        end
      elseif col > indents[top] then
        if alt <= alts[top] then
          fail(e, "inconsistent use of tabs and spaces in indentation"); break
        end
        if not prev_colon then fail(e, "unexpected indent"); break end
        if top > max_depth then
          fail(e, string.format("too many levels of indentation (limit %d)", max_depth)); break
        end
        indents[top + 1], alts[top + 1] = col, alt
        markers = "\1"
      else
        local k = 0
        while col < indents[top] do indents[top], alts[top] = nil, nil; top = top - 1; k = k + 1 end
        if col ~= indents[top] then
          fail(e, "unindent does not match any outer indentation level"); break
        end
        if alt ~= alts[top] then
          fail(e, "inconsistent use of tabs and spaces in indentation"); break
        end
        markers = string.rep("\2", k)
      end
      if prev_colon and markers ~= "\1" then
        fail(e, string.format("expected an indented block after %s on line %d",
          KWHEAD[s:match("^[%a_][%w_]*", prev_kw) or ""] or "':'", prev_line))
        break
      end
      if markers then
        emit_upto(pos)
        no = no + 1; out[no] = markers
        shift = shift + #markers
      end
      shiftat[line] = shift
    end
    do -- the logical line's content
      local lstart_line = line
      local p = e
      local content_end
      while true do
        local j = match(TO_SPECIAL, s, p)
        if j > n then content_end = n + 1; pos = n + 1; break end
        local b = byte(s, j)
        if b == B_NL then
          if nb > 0 then
            blank(j, j + 1)
            p = j + 1
          else
            content_end = j; pos = j + 1; break
          end
        elseif b == B_HASH then
          local k = find(s, "\n", j, true) or n + 1
          blank(j, k)
          if nb > 0 then
            if k <= n then blank(k, k + 1) end
            p = k + 1
          else
            content_end = j; pos = k + 1; break
          end
        elseif b == B_SQ or b == B_DQ then
          local ts = j
          while ts > e and isidc(byte(s, ts - 1)) do ts = ts - 1 end
          local prefix = sub(s, ts, j - 1)
          if prefix ~= "" and not (prefix == "r" or prefix == "R" or prefix == "f" or prefix == "F") then
            if prefix:match("^[rRbBuUfF][rRbBuUfF]?$") then
              fail(ts, string.format("string prefix '%s' is not supported (Dana has r and f)", prefix))
              break
            end
            ts = j -- a name directly before a quote: not a prefix
          end
          local q2, msg, at = scanstr(ts, j, 0, strs)
          if not q2 then
            lineof(j)
            if at then msg = string.format("%s (detected at line %d)", msg, at)
            else msg = string.format("%s (detected at line %d)", msg, line) end
            fail(ts, msg)
            break
          end
          p = q2
        elseif OPEN[b] then
          nb = nb + 1
          brackets[nb] = j
          if nb > max_depth then
            fail(j, string.format("too many nested parentheses (limit %d)", max_depth)); break
          end
          p = j + 1
        elseif CLOSEOF[b] then
          if nb == 0 then
            fail(j, string.format("unmatched '%s'", string.char(b))); break
          end
          local o = brackets[nb]
          if OPEN[byte(s, o)] ~= string.char(b) then
            local ol = lineof(o)
            local msg = string.format("closing parenthesis '%s' does not match opening parenthesis '%s'",
              string.char(b), sub(s, o, o))
            lineof(j)
            if ol ~= line then msg = msg .. " on line " .. ol end
            fail(j, msg); break
          end
          brackets[nb] = nil; nb = nb - 1
          p = j + 1
        elseif b == B_BSL then
          local nx = byte(s, j + 1)
          if nx == B_NL or (nx == 13 and byte(s, j + 2) == B_NL) then
            fail(j, "backslash line continuation is not supported in Dana (wrap the expression in parentheses)")
          else
            fail(j, "unexpected character '\\' outside a string")
          end
          break
        else
          fail(j, badchar(s, j)); break
        end
      end
      if err then break end
      if not content_end then break end
      if nb > 0 then -- end of file inside brackets
        local o = brackets[nb]
        fail(n + 1, string.format("'%s' was never closed", sub(s, o, o)), o)
        break
      end
      -- last significant byte of the logical line
      local k = content_end - 1
      while k >= e and WS[byte(s, k)] do k = k - 1 end
      prev_colon = byte(s, k) == B_COLON and byte(s, k - 1) ~= B_COLON
      prev_line = lstart_line
      prev_kw = e
      if content_end > n then -- no final newline
        emit_upto(n + 1)
        no = no + 1; out[no] = "\n"
        shift = shift + 1
      end
    end
    ::continue::
  end
  if not err then
    if prev_colon then
      fail(n + 1, string.format("expected an indented block after %s on line %d",
        KWHEAD[s:match("^[%a_][%w_]*", prev_kw) or ""] or "':'", prev_line))
      -- report it on the line after the header
      err.line = math.min(prev_line + 1, nl)
      err.col = 1
    else
      emit_upto(n + 1)
      if #indents > 1 then no = no + 1; out[no] = string.rep("\2", #indents - 1) end
    end
  end
  -- line table of the transformed text
  local ls = {}
  local sh = 0
  for i = 1, nl do
    if shiftat[i] then sh = shiftat[i] end
    ls[i] = lstart[i] + sh
  end
  if bom then ls[1] = 1 end
  return { text = table.concat(out), ls = ls, lstart = lstart, strs = strs, nlines = nl, err = err }
end
M.scan_lua = scan_lua

--- Scan a source text.
-- @tparam string s the Dana source
-- @tparam[opt] table opts `max_depth` (bracket and indentation nesting, default 200),
--   `max_fstring_depth` (nested f-strings, default 16)
-- @treturn table `{text=, ls=, lstart=, strs=, nlines=, err=}`: `ls[i]` is the offset
--   in `text` of physical line `i`'s first byte, `lstart[i]` the same in the source,
--   `strs[p] = e` says a string literal token occupies `text` bytes `p .. e-1`,
--   `err` is nil or `{line=, col=, msg=, tpos=}` (`tpos` is the `"\3"` in `text`).
function M.scan(s, opts)
  if core_scan then
    local max_depth = opts and opts.max_depth or 200
    local max_fdepth = opts and opts.max_fstring_depth or 16
    if math.type(max_depth) == "integer" and math.type(max_fdepth) == "integer" then
      local r = core_scan(s, max_depth, max_fdepth)
      if r then return r end
    end
  end
  return scan_lua(s, opts)
end

--- Whether `scan` has the C fast path (`dana.core.lex_scan`).
M.has_c = core_scan ~= nil

return M
