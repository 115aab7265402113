-- busted output handler: busted's plain terminal report, then the closing line this
-- project's CI reads: "N passed, N failed" (errors count as failures).
return function(options)
  local busted = require 'busted'
  local plain = require 'busted.outputHandlers.plainTerminal'(options)
  busted.subscribe({ 'suite', 'end' }, function()
    local passed = plain.successesCount or 0
    local failed = (plain.failuresCount or 0) + (plain.errorsCount or 0)
    io.write(string.format("\n%d passed, %d failed\n", passed, failed))
    io.flush()
    return nil, true
  end)
  return plain
end
