-- Parse-speed benchmark: builds a few MB of typical Dana source and prints MB/s for
-- dana.lexer alone and for the whole dana.grammar.parse.
-- Run from the repository root: lua5.4 bench/parse.lua [megabytes]
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath -- dana.core.lex_scan, the lexer's C fast path
local grammar = require("dana.grammar")
local lexer = require("dana.lexer")

local snippet = [==[
# Inventory helpers
struct Item:
    """One line of the inventory."""
    name: str
    price: float = 0.0
    tags: list[str] = []

def (item: Item) total(qty: int = 1) -> float:
    return item.price * qty

def summarize(items: list, limit: int = 10) -> dict:
    """Group items by their first tag."""
    groups = {}
    for item in items[:limit]:
        key = item.tags[0] if len(item.tags) > 0 else "misc"
        if key not in groups:
            groups[key] = []
        groups[key].append(item.name)
    counts = {k: len(v) for k, v in groups.items()}
    log(f"summarized {len(items)} items into {len(groups)} groups: {counts}", level="INFO")
    return counts

def add_ten(x: int) -> int:
    return x + 10

def multiply_by(x: int, n: int) -> int:
    return x * n

def pipeline(x) = add_ten as base | multiply_by(2) as doubled | [str, float]

private:threshold = 42
public:results = []
i = 0
while i < 20:
    i += 1
    if i % 3 == 0 and not (i % 5 == 0):
        continue
    elif i > 15 or i == 7:
        break
    else:
        public:results.append(i ** 2 - 1)
try:
    value = int("12") // 5 + -3 * 2.5e1
except (ValueError, KeyError) as err:
    value = None
finally:
    done = True
names = [n.upper() for n in ["ada", 'alan', "grace"] if n != "alan"]
squares = {x * x for x in range(10)}
adder = lambda a, b: int = 0 :: a + b
message = f"threshold={private:threshold:>5} results={public:results[-3:]} ok={done}"
assert len(names) == 2, f"expected 2 names, got {len(names)}"
print(message, adder(1, b=2), summarize([Item(name="x", price=1.5, tags=["a"])]))

]==]

local mb = tonumber(arg and arg[1]) or 4
local reps = math.floor(mb * 1024 * 1024 / #snippet)
local src = string.rep(snippet, reps)
local size = #src / (1024 * 1024)

local function bench(name, fn)
  fn() -- warm up
  local best = math.huge
  for _ = 1, 3 do
    collectgarbage("collect")
    local t0 = os.clock()
    fn()
    best = math.min(best, os.clock() - t0)
  end
  print(string.format("%-8s %6.2f MB in %.3f s: %6.2f MB/s", name, size, best, size / best))
  return size / best
end

local m, errs = grammar.parse(src, "bench.na", { max_source = #src + 1 })
assert(m, errs and errs[1] and (errs[1].line .. ":" .. errs[1].col .. ": " .. errs[1].msg))
m = nil -- luacheck: ignore 311 (do not keep a large AST alive while timing it would tax the collector)
bench("lexer", function() lexer.scan(src) end)
if lexer.has_c then bench("lexer/lua", function() lexer.scan_lua(src) end) end
local function parse() assert(grammar.parse(src, "bench.na", { max_source = #src + 1 })) end
-- The collector's mode matters a lot for an allocation-heavy parser: a C host starts in
-- incremental mode, the lua5.4 program switches itself to generational mode.
local prev = collectgarbage("incremental")
local inc = bench("parse/inc", parse)
collectgarbage("generational")
local gen = bench("parse/gen", parse)
if prev == "incremental" then collectgarbage("incremental") end
print(string.format("parse: %.2f MB/s incremental GC, %.2f MB/s generational GC (target >= 5 MB/s)",
  inc, gen))
