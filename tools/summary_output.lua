-- busted output handler: busted's plain terminal report, then the closing line this
-- project's CI reads: "N passed, N failed" (errors count as failures).
-- The counts come from each test's own end status, not from the report's error events:
-- busted can end a test with status "error" and publish no error (seen when a C stack
-- overflow inside the test left Lua without an error message), and a test that started
-- but never ended counts as failed too. Either is named, so no test can vanish.
return function(options)
  local busted = require 'busted'
  local plain = require 'busted.outputHandlers.plainTerminal'(options)
  local passed, failed, open, silent = 0, 0, {}, {}
  local reported = {}
  local function name(element)
    local t = element.trace
    return tostring(element.name) .. (t and (" (" .. tostring(t.short_src) .. ":"
      .. tostring(t.currentline) .. ")") or "")
  end
  busted.subscribe({ 'test', 'start' }, function(element)
    open[element] = true
    return nil, true
  end)
  for _, event in ipairs({ 'error', 'failure' }) do
    busted.subscribe({ event }, function(element)
      if element then reported[element] = true end
      return nil, true
    end)
  end
  busted.subscribe({ 'test', 'end' }, function(element, _, status)
    open[element] = nil
    if status == "success" then passed = passed + 1
    elseif status ~= "pending" then
      failed = failed + 1
      if not reported[element] then silent[#silent + 1] = name(element) end
    end
    return nil, true
  end)
  busted.subscribe({ 'suite', 'end' }, function()
    for _, n in ipairs(silent) do io.write("\nFailed without a message: ", n, "\n") end
    for element in pairs(open) do
      failed = failed + 1
      io.write("\nStarted and never ended: ", name(element), "\n")
    end
    io.write(string.format("\n%d passed, %d failed\n", passed, failed))
    io.flush()
    return nil, true
  end)
  return plain
end
