--- Formatting of Dana SyntaxError records: `file:line:col: SyntaxError: message`, the
-- source line and a caret, plus a hint from a small suggestion table (in the manner of
-- Fennel's friend.fnl).
-- @module dana.diag
local M = {}

-- Hints keyed by a Lua pattern matched against the message.
M.HINTS = {
  { "^Pipe expressions", "pipelines live in declarative defs: def f(x) = step1 | step2" },
  { "^unindent does not match", "indent the line exactly like one of the enclosing blocks" },
  { "^unexpected indent", "only the line after a ':' header starts a deeper block" },
  { "^inconsistent use of tabs", "indent with spaces only (a tab counts as 8 columns)" },
  { "^expected an indented block", "an empty block needs 'pass'" },
  { "inline blocks", "put the block's statements on the following lines, indented" },
  { "^backslash line continuation", "wrap the expression in parentheses to continue it on the next line" },
  { "with dot notation", "scoped names are written scope:name, e.g. private:x" },
  { "^expected '::'", "lambda x, y :: x + y" },
  { "^struct inheritance", "struct B:\n    base: A" },
  { "is a reserved word", "choose another name (e.g. add an underscore)" },
  { "literals are not supported in Dana", "write the number in decimal" },
  { "was never closed", "close the bracket, or remove the extra opening one" },
  { "^unterminated", "close the string with the same quote it starts with" },
  { "^cannot assign to", "the left of '=' must be a name, item (a[i]), attribute (o.f) or scoped name" },
}

--- The hint for a message, or nil.
-- @tparam string msg
-- @treturn string|nil
function M.hint(msg)
  for _, h in ipairs(M.HINTS) do
    if msg:find(h[1]) then return h[2] end
  end
  return nil
end

--- Display column of byte column `col` in `line` (tabs to the next multiple of 8,
-- UTF-8 continuation bytes take no column).
function M.display_col(line, col)
  local dc = 0
  for i = 1, math.min(col - 1, #line) do
    local b = line:byte(i)
    if b == 9 then dc = (dc // 8 + 1) * 8
    elseif b < 0x80 or b >= 0xC0 then dc = dc + 1 end
  end
  return dc + math.max(0, col - 1 - #line) + 1
end

--- Format an error record.
-- @tparam table err `{kind=, file=, line=, col=, msg= or message=, source_line=, hint=}`
-- @treturn string `file:line:col: Kind: message`, then the source line and a caret line
function M.format(err)
  local msg = err.msg or err.message or "?"
  local out = { string.format("%s:%s:%s: %s: %s", tostring(err.file or "?"), tostring(err.line or "?"),
    tostring(err.col or "?"), err.kind or "SyntaxError", msg) }
  local sl = err.source_line
  if sl and sl ~= "" and err.col then
    local shown = sl:gsub("\t", " ")
    -- tabs become one space for display; recompute the caret on the same basis
    local dc = 1
    for i = 1, math.min(err.col - 1, #sl) do
      local b = sl:byte(i)
      if b < 0x80 or b >= 0xC0 then dc = dc + 1 end
    end
    dc = dc + math.max(0, err.col - 1 - #sl)
    out[#out + 1] = "    " .. shown
    out[#out + 1] = "    " .. string.rep(" ", dc - 1) .. "^"
  end
  local hint = err.hint or M.hint(msg)
  if hint then out[#out + 1] = "hint: " .. hint end
  return table.concat(out, "\n")
end

return M
