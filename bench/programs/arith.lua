local total = 0
local i = 0
while i < 15000000 do
  total = total + (i * i) % 7
  i = i + 1
end
local acc = 0.0
for k = 1, 4999999 do
  acc = acc + 1.0 / k
end
return { total, acc }
