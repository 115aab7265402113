local function area(w, h, scale)
  h = h or 2
  scale = scale or 1
  return w * h * scale
end
local function clamp(x, lo, hi)
  lo = lo or 0
  hi = hi or 100
  if x < lo then return lo end
  if x > hi then return hi end
  return x
end
local total = 0
for i = 0, 1499999 do
  total = total + area(i) + area(i, nil, 2) + clamp(i, nil, 50)
end
return total
