local counts = {}
local keys = { "alpha", "beta", "gamma", "delta", "eps" }
for i = 0, 1499999 do
  local k = keys[i % 5 + 1]
  counts[k] = (counts[k] or 0) + 1
end
local xs = {}
for i = 0, 1499999 do
  xs[#xs + 1] = i * 2
end
local total = 0
for i = 1, #xs do
  total = total + xs[i]
end
local evens = {}
for _, x in ipairs(xs) do
  if x % 4 == 0 then evens[#evens + 1] = x end
end
local pairs_ = 0
for _, v in pairs(counts) do pairs_ = pairs_ + v end
return { total, #evens, pairs_, counts.beta }
