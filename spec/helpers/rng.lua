--- A small deterministic xorshift generator for the property specs: rng(seed) returns
-- r, where r(n) is an integer in 1..n. The same seed gives the same sequence everywhere.
return function(seed)
  local x = seed
  return function(n) -- integer in 1..n
    x = x ~ (x << 13); x = x ~ (x >> 7); x = x ~ (x << 17)
    return (x >> 1) % n + 1
  end
end
