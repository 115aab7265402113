local parts = {}
for i = 0, 599999 do
  parts[#parts + 1] = "item" .. tostring(i)
end
local s = table.concat(parts, ",")
local words = {}
for w in s:gmatch("[^,]+") do words[#words + 1] = w end
local n = 0
for _, w in ipairs(words) do
  if w:sub(1, 5) == "item1" then n = n + 1 end
end
local msg = ""
for i = 0, 1999 do
  msg = msg .. tostring(i) .. ":"
end
return { #s, n, #msg }
