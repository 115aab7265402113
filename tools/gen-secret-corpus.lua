#!/usr/bin/env lua5.4
-- Writes spec/fixtures/secrets/corpus.lua: a labelled corpus for the sanitizer.
--
-- Every secret in it is FAKE: random characters from a seeded generator shaped like
-- the provider formats (checksums, where a format has one, are not valid).  Nothing
-- here was ever a real credential.
--
-- Entries:
--   {text=, category=, secret=true,  value=}  value: the substring that must be masked
--   {text=, category=, secret=false}          the text must come out unchanged
--   {key=,  category=, secret=true/false}     a key name: is a value under it masked?
--
-- Usage: lua5.4 tools/gen-secret-corpus.lua [out] [per-category]
local out_path = arg[1] or "spec/fixtures/secrets/corpus.lua"
local N = tonumber(arg[2]) or 250        -- positives per category
local NNEG = N                           -- negatives per negative-only category
local NNEAR = 60                         -- near misses per provider category

-- xorshift64* PRNG, fixed seed: the corpus is reproducible byte for byte
local state = 0x2545F4914F6CDD1D
local function rnd(n)               -- 1..n
  state = state ~ (state >> 12)
  state = state ~ (state << 25)
  state = state ~ (state >> 27)
  local x = (state * 0x2545F4914F6CDD1D) >> 11
  return (x % n) + 1
end
local function pick(t) return t[rnd(#t)] end

local UP, LO, DG = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz", "0123456789"
local ALNUM = UP .. LO .. DG
local B64URL = ALNUM .. "-_"
local B64 = ALNUM .. "+/"
local HEXL = "0123456789abcdef"
local UPNUM = UP .. DG
local function chars(set, n)
  local t = {}
  for i = 1, n do local k = rnd(#set); t[i] = set:sub(k, k) end
  return table.concat(t)
end
-- random strings that mix classes (so a fake key always has upper, lower and digits)
local function mixed(set, n)
  while true do
    local s = chars(set, n)
    if n < 12 or ((s:find("%u") or not set:find("%u")) and (s:find("%l") or not set:find("%l"))
                  and (s:find("%d") or not set:find("%d"))) then return s end
  end
end

local B64CHARS = UP .. LO .. DG .. "+/"
local function b64(s, url)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = (a << 16) | ((b or 0) << 8) | (c or 0)
    local k = #s - i + 1
    for j = 0, 3 do
      if j <= (k >= 3 and 3 or k) then
        local v = (n >> (18 - 6 * j)) & 63
        out[#out + 1] = B64CHARS:sub(v + 1, v + 1)
      elseif not url then
        out[#out + 1] = "="
      end
    end
  end
  local r = table.concat(out)
  if url then r = r:gsub("%+", "-"):gsub("/", "_") end
  return r
end
local function randbytes(n)
  local t = {}
  for i = 1, n do t[i] = string.char(rnd(256) - 1) end
  return table.concat(t)
end

local entries = {}
local function pos(cat, text, value)
  assert(text:find(value, 1, true), "value not in text: " .. cat)
  entries[#entries + 1] = { text = text, category = cat, secret = true, value = value }
end
local function neg(cat, text)
  entries[#entries + 1] = { text = text, category = cat, secret = false }
end
local function keyentry(cat, key, secret)
  entries[#entries + 1] = { key = key, category = cat, secret = secret }
end

-- templates that embed a bare credential in prose, config, logs and code
local WRAP = {
  "%s",
  "my key is %s, keep it safe",
  "export TOKEN_VALUE=%s",
  "curl -s https://api.example.com/v1/items -d 'q=1' # used %s",
  '{"note": "rotated", "value": "%s"}',
  "2026-12-04T10:00:00Z INFO client started with %s (debug)",
  "config:\n  provider: example\n  credential_blob: %s\n",
  "Here it is: %s\nThanks!",
  "local k = \"%s\"",
  "ERROR auth failed for '%s' at line 12",
  "<td>%s</td>",
  "found `%s` in the old commit",
}
local function wrap(secret)
  local t = pick(WRAP)
  return (t:gsub("%%s", function() return secret end))
end

-- ---------------------------------------------------------------- providers
local gens = {}

gens.aws = function()
  if rnd(3) == 1 then
    local v = mixed(B64, 40)
    local t = pick { "aws_secret_access_key = %s", "AWS_SECRET_ACCESS_KEY=%s",
                     '"SecretAccessKey": "%s"', "secret_access_key: %s" }
    return t:gsub("%%s", function() return v end), v
  end
  local v = pick { "AKIA", "ASIA", "AKIA", "ABIA", "ACCA" } .. chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
  return wrap(v), v
end
gens.github = function()
  local v
  if rnd(4) == 1 then
    v = "github_pat_" .. mixed(ALNUM, 22) .. "_" .. mixed(ALNUM, 59)
  else
    v = pick { "ghp_", "gho_", "ghu_", "ghs_", "ghr_" } .. mixed(ALNUM, 36)
  end
  if rnd(5) == 1 then
    local t = "git clone https://x-access-token:%s@github.com/acme/app.git"
    return (t:gsub("%%s", v)), v
  end
  return wrap(v), v
end
gens.gitlab = function()
  local v = pick { "glpat-", "glpat-", "gldt-", "glrt-", "glptt-", "glsoat-", "glft-" } .. mixed(B64URL, 20)
  return wrap(v), v
end
gens.slack = function()
  local r = rnd(4)
  local v
  if r == 1 then
    v = "T" .. chars(UPNUM, 8) .. "/B" .. chars(UPNUM, 10) .. "/" .. mixed(ALNUM, 24)
    return "webhook: https://hooks.slack.com/services/" .. v, v
  elseif r == 2 then
    v = "xapp-1-A" .. chars(UPNUM, 10) .. "-" .. chars(DG, 13) .. "-" .. chars(HEXL, 64)
  else
    v = pick { "xoxb-", "xoxp-", "xoxa-", "xoxr-" } .. chars(DG, 12) .. "-" .. chars(DG, 13) .. "-" .. mixed(ALNUM, 24)
  end
  return wrap(v), v
end
gens.stripe = function()
  local v
  if rnd(5) == 1 then v = "whsec_" .. mixed(ALNUM, 32)
  else v = pick { "sk_live_", "sk_test_", "rk_live_", "rk_test_" } .. mixed(ALNUM, 24 + rnd(75)) end
  return wrap(v), v
end
gens.google = function()
  local r = rnd(3)
  local v
  if r == 1 then v = "AIza" .. mixed(B64URL, 35)
  elseif r == 2 then v = "GOCSPX-" .. mixed(B64URL, 28)
  else v = "ya29." .. mixed(B64URL, 60 + rnd(100)) end
  -- a b64url body may end in '-' or '_'; keep the boundary clean for the check
  return wrap(v), v
end
gens.openai = function()
  local r = rnd(3)
  local v
  if r == 1 then v = "sk-" .. mixed(ALNUM, 20) .. "T3BlbkFJ" .. mixed(ALNUM, 20)
  elseif r == 2 then v = "sk-proj-" .. mixed(B64URL, 74) .. "T3BlbkFJ" .. mixed(B64URL, 74)
  else v = "sk-svcacct-" .. mixed(B64URL, 74) .. "T3BlbkFJ" .. mixed(B64URL, 74) end
  return wrap(v), v
end
gens.anthropic = function()
  local v = pick { "sk-ant-api03-", "sk-ant-api03-", "sk-ant-admin01-" } .. mixed(B64URL, 93) .. "AA"
  return wrap(v), v
end
gens.twilio = function()
  local v = "SK" .. chars(HEXL, 32)
  return wrap(v), v
end
gens.sendgrid = function()
  local v = "SG." .. mixed(B64URL, 22) .. "." .. mixed(B64URL, 43)
  return wrap(v), v
end
gens.npm = function()
  local v = "npm_" .. mixed(ALNUM, 36)
  if rnd(3) == 1 then
    return "//registry.npmjs.org/:_authToken=" .. v, v
  end
  return wrap(v), v
end
gens.pypi = function()
  local v = "pypi-AgEIcHlwaS5vcmc" .. mixed(B64URL, 60 + rnd(120))
  return wrap(v), v
end
gens.other_provider = function()
  local r = rnd(8)
  local v
  if r == 1 then v = "hf_" .. mixed(UP .. LO, 34)
  elseif r == 2 then v = "shpat_" .. chars(HEXL, 32)
  elseif r == 3 then v = "dop_v1_" .. chars(HEXL, 64)
  elseif r == 4 then v = "dapi" .. chars(HEXL, 32)
  elseif r == 5 then v = "PMAK-" .. chars(HEXL, 24) .. "-" .. chars(HEXL, 34)
  elseif r == 6 then v = "lin_api_" .. mixed(ALNUM, 40)
  elseif r == 7 then v = tostring(100000000 + rnd(899999999)) .. ":" .. mixed(B64URL, 35)
  else v = chars(HEXL, 32) .. "-us" .. rnd(20) end
  return wrap(v), v
end

-- ---------------------------------------------------------------- structures
local function jwt()
  local alg = pick { "HS256", "RS256", "ES256", "HS512" }
  local h = '{"alg":"' .. alg .. '","typ":"JWT"}'
  if rnd(3) == 1 then h = '{"typ":"JWT","alg":"' .. alg .. '","kid":"' .. chars(HEXL, 16) .. '"}' end
  local p = '{"sub":"' .. chars(DG, 8) .. '","name":"user' .. chars(LO, 5) .. '","iat":' ..
            (1600000000 + rnd(99999999)) .. (rnd(2) == 1 and ',"admin":true' or "") .. "}"
  return b64(h, true) .. "." .. b64(p, true) .. "." .. b64(randbytes(32), true)
end
gens.jwt = function()
  local v = jwt()
  local t = pick { "%s", "id_token=%s", "session cookie was %s", '{"jwt": "%s"}',
                   "decoded %s ok", "token (%s) expired" }
  return (t:gsub("%%s", function() return v end)), v
end
gens.auth_header = function()
  local r = rnd(5)
  local v
  if r == 1 then
    v = b64("user" .. chars(LO, 4) .. ":" .. mixed(ALNUM .. "!@#", 14))
    local t = pick { "Authorization: Basic %s", "curl -H 'Authorization: Basic %s' https://x.example",
                     '{"headers": {"Authorization": "Basic %s"}}', "sent Basic %s to the proxy" }
    return (t:gsub("%%s", function() return v end)), v
  elseif r == 2 then
    v = jwt()
  elseif r == 3 then
    v = mixed(ALNUM .. "-._~", 40)
  else
    v = mixed(ALNUM, 32 + rnd(20))
  end
  local t = pick { "Authorization: Bearer %s", "authorization: bearer %s",
                   "curl -H \"Authorization: Bearer %s\" https://api.example.com",
                   '{"Authorization": "Bearer %s"}', "Proxy-Authorization: Bearer %s",
                   "headers = {Authorization = 'Bearer %s'}", "Authorization: token %s",
                   "used Bearer %s for the call" }
  return (t:gsub("%%s", function() return v end)), v
end
gens.pem = function()
  local kind = pick { "RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY",
                      "ENCRYPTED PRIVATE KEY", "DSA PRIVATE KEY" }
  local lines = {}
  for i = 1, 3 + rnd(8) do lines[i] = chars(B64, 64) end
  local nl = rnd(3) == 1 and "\\n" or "\n"
  local body = nl .. table.concat(lines, nl) .. nl
  local text = "-----BEGIN " .. kind .. "-----" .. body .. "-----END " .. kind .. "-----"
  if rnd(3) == 1 then text = '{"type": "service_account", "private_key": "' .. text .. '"}' end
  return text, body
end
local function password()
  local p = mixed(ALNUM, 8 + rnd(12))
  if rnd(2) == 1 then p = p .. pick { "!", "%21", "_", "-", "~", "*" } .. chars(DG, 2) end
  return p
end
gens.url_password = function()
  local v = password()
  local scheme = pick { "postgres", "postgresql", "mysql", "mongodb+srv", "redis", "amqp",
                        "https", "ftp", "smtp", "mssql" }
  local user = pick { "admin", "app", "root", "svc_" .. chars(LO, 4), "" }
  local t = scheme .. "://" .. user .. ":" .. v .. "@" .. pick { "db", "cache", "mq", "host" } ..
            rnd(9) .. ".example.internal:" .. (1000 + rnd(9000)) .. "/" .. chars(LO, 5)
  local w = pick { "%s", "DATABASE_URL=%s", 'url: "%s"', "connecting to %s ...", "dsn_value=%s" }
  return (w:gsub("%%s", function() return t end)), v
end
gens.conn_string = function()
  local v = password()
  local r = rnd(4)
  if r == 1 then
    return "Server=tcp:" .. chars(LO, 6) .. ".database.windows.net,1433;Database=" .. chars(LO, 5) ..
           ";User ID=" .. chars(LO, 5) .. ";Password=" .. v .. ";Encrypt=true;", v
  elseif r == 2 then
    return "host=localhost port=5432 dbname=" .. chars(LO, 5) .. " user=" .. chars(LO, 4) ..
           " password=" .. v .. " sslmode=require", v
  elseif r == 3 then
    v = mixed(B64, 86) .. "=="
    return "DefaultEndpointsProtocol=https;AccountName=" .. chars(LO, 8) .. ";AccountKey=" .. v ..
           ";EndpointSuffix=core.windows.net", v
  else
    return "jdbc:sqlserver://db.example.com:1433;databaseName=" .. chars(LO, 5) .. ";user=" ..
           chars(LO, 5) .. ";password=" .. v .. ";", v
  end
end
gens.kv_pair = function()
  local v = mixed(ALNUM, 24 + rnd(24))
  local key = pick { "API_KEY", "api_key", "apiKey", "client_secret", "clientSecret", "SECRET_KEY",
                     "secret", "access_token", "refresh_token", "auth_token", "x-api-key",
                     "X-Auth-Token", "session_token", "webhook_secret", "private_token",
                     "DB_PASSWORD", "password", "passwd", "app_secret", "signing_key",
                     "encryption_key", "master_key", "SLACK_SIGNING_SECRET", "credentials" }
  local t = pick { "%k=%v", "%k = \"%v\"", "%k: %v", '"%k": "%v"', "%k: '%v'", "--%k=%v",
                   "?user=1&%k=%v&x=2", "set %k=%v", "%k => '%v'" }
  t = t:gsub("%%k", function() return key end):gsub("%%v", function() return v end)
  return t, v
end

local PROVIDERS = { "aws", "github", "gitlab", "slack", "stripe", "google", "openai", "anthropic",
                    "twilio", "sendgrid", "npm", "pypi", "other_provider", "jwt", "auth_header",
                    "pem", "url_password", "conn_string", "kv_pair" }
for _, cat in ipairs(PROVIDERS) do
  local seen = {}
  local made = 0
  while made < N do
    local text, value = gens[cat]()
    if not seen[value] then
      seen[value] = true
      pos(cat, text, value)
      made = made + 1
    end
  end
end

-- ---------------------------------------------------------------- near misses
local near = {
  aws = function() return pick { "akia" .. chars(UPNUM, 16), "AKIA" .. chars(UPNUM, 10),
    "the AKIA prefix marks long-term keys", "AKIA" .. chars(UPNUM, 24), "arn:aws:iam::" .. chars(DG,
        12) .. ":user/" .. chars(LO, 6) } end,
  github = function() return pick { "ghp_" .. chars(ALNUM, 10), "tokens start with ghp_ or gho_",
    "github_pat_ is the fine-grained prefix", "see https://github.com/" .. chars(LO, 6) .. "/" .. chars(LO,
        6) .. "/pull/" .. rnd(999) } end,
  gitlab = function() return pick { "glpat-" .. chars(ALNUM, 8), "use a glpat- token from settings",
      "gitlab.com/" .. chars(LO, 5) .. "/-/merge_requests/" .. rnd(99) } end,
  slack = function() return pick { "xoxb-" .. chars(DG, 4), "bot tokens look like xoxb-...",
      "https://hooks.slack.com/services/", "join #" .. chars(LO, 6) .. " on slack" } end,
  stripe = function() return pick { "pk_live_" .. mixed(ALNUM, 24), "pk_test_" .. mixed(ALNUM, 24),
      "sk_live_" .. chars(ALNUM, 4), "prices start with price_" .. mixed(ALNUM, 14), "cus_" .. mixed(ALNUM, 14) } end,
  google = function() return pick { "AIza" .. chars(ALNUM, 10), "ya29. tokens expire in an hour",
      "https://www.googleapis.com/auth/" .. chars(LO, 8), "client id " .. chars(DG, 12) .. "-" .. chars(LO .. DG,
      32) .. ".apps.googleusercontent.com" } end,
  openai = function() return pick { "sk-learn is not scikit-learn", "task-" .. mixed(ALNUM, 40), "sk-" .. chars(ALNUM,
      8), "disk-" .. mixed(ALNUM, 36), "model gpt-4o-2024-08-06", "chatcmpl-" .. mixed(ALNUM, 29),
      "asst_" .. mixed(ALNUM, 24) } end,
  anthropic = function() return pick { "sk-ant-" .. chars(ALNUM, 6), "msg_" .. mixed(ALNUM, 24),
      "claude-3-5-sonnet-20241022", "req_" .. mixed(ALNUM, 24) } end,
  twilio = function() return pick { "AC" .. chars(HEXL, 32), "SK" .. chars(HEXL, 20), "MG" .. chars(HEXL, 32),
      "SKU " .. chars(UPNUM, 10) } end,
  sendgrid = function() return pick { "SG." .. chars(ALNUM, 10), "SG.example.com", "SG." .. chars(ALNUM,
      22) .. ".short" } end,
  npm = function() return pick { "npm_" .. chars(ALNUM, 12), "npm_config_registry=https://registry.npmjs.org/",
      "npm_package_version=1.2.3" } end,
  pypi = function() return pick { "pypi-" .. chars(ALNUM, 20), "pip install pypi-simple==1.0", "pypi-AgEI" } end,
  other_provider = function() return pick { "hf_" .. chars(LO, 8), "hf_hub_download(repo_id=\"" .. chars(LO,
      6) .. "\")", "dapi" .. chars(HEXL, 12), "key-value store", "lin_api_ is linear's prefix", chars(DG,
      9) .. ":" .. chars(ALNUM, 12) } end,
  jwt = function()
    -- base64url parts that start like a JWT but do not decode to JSON objects
    local h = b64('{"' .. chars(LO, 10) .. 'x', true)
    local p = b64('{"' .. chars(LO, 20) .. 'y', true)
    return pick { h .. "." .. p .. "." .. chars(B64URL, 20), "eyJ is base64 for {\"",
      "eyJ" .. chars(ALNUM, 30), b64(randbytes(20), true) .. "." .. b64(randbytes(30),
          true) .. "." .. b64(randbytes(16), true) }
  end,
  auth_header = function() return pick { "Authorization: Bearer <token>", "Authorization: Bearer ${TOKEN}",
    "Basic auth is disabled", "The Bearer token goes in the Authorization header", "Authorization: Bearer",
    "bearer of bad news", "Basic " .. chars(LO, 6), "Use Basic authentication over TLS only" } end,
  pem = function()
    local kind = pick { "PUBLIC KEY", "CERTIFICATE", "RSA PUBLIC KEY", "CERTIFICATE REQUEST" }
    local lines = {}
    for i = 1, 2 + rnd(4) do lines[i] = chars(B64, 64) end
    return "-----BEGIN " .. kind .. "-----\n" .. table.concat(lines, "\n") .. "\n-----END " .. kind .. "-----"
  end,
  url_password = function() return pick { "https://user@example.com/path", "https://example.com:8443/a/b?c=d",
    "mailto:" .. chars(LO, 5) .. "@example.com", "git@github.com:" .. chars(LO, 5) .. "/" .. chars(LO, 5) .. ".git",
    "ftp://anonymous@ftp.example.org/pub", "postgres://app:${DB_PASSWORD}@db/app", "redis://localhost:6379/0",
    "https://example.com/@" .. chars(LO, 6) .. "/status/" .. chars(DG, 12), "http://[::1]:8080/health" } end,
  conn_string = function() return pick { "Server=db;Database=app;Trusted_Connection=True;",
    "host=localhost port=5432 dbname=app user=app sslmode=require", "Password=<your password>;",
    "DefaultEndpointsProtocol=https;AccountName=" .. chars(LO, 8) .. ";EndpointSuffix=core.windows.net" } end,
  kv_pair = function() return pick { "max_tokens=" .. rnd(8192), "token_count: " .. rnd(999),
    "tokenizer=cl100k_base", "author: " .. pick { "Jane Doe", "bob", "Ana" }, "key_name=prod-signing-" .. rnd(9),
    "token_type: bearer", "password_min_length=" .. rnd(20), "secret_name: prod/db/" .. chars(LO, 5),
    "api_key_id: " .. rnd(99999), "auth_url=https://auth.example.com/authorize", "session_timeout=3600",
    "token_endpoint: https://oauth2.example.com/token", "password: required", "api_key=YOUR_API_KEY",
    "secret=[REDACTED]", "token: ****", "password = os.getenv(\"DB_PASSWORD\")", "prompt_tokens: " .. rnd(500),
    "\"completion_tokens\": " .. rnd(500), "API_KEY=${API_KEY}", "token_expires_in=3600",
    "public_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" .. chars(B64, 43) .. " me@host",
    "Password: must be at least 12 characters long", "auth: true", "password_policy=strong" } end,
}
for _, cat in ipairs(PROVIDERS) do
  local seen, made, tries = {}, 0, 0
  while made < NNEAR and tries < NNEAR * 20 do
    tries = tries + 1
    local t = near[cat]()
    if not seen[t] then seen[t] = true; neg(cat, t); made = made + 1 end
  end
end

-- ---------------------------------------------------------------- hard negatives
local negs = {
  version = function() return pick { rnd(20) .. "." .. rnd(30) .. "." .. rnd(99),
    "v" .. rnd(9) .. "." .. rnd(40) .. "." .. rnd(9) .. "-rc." .. rnd(5), "lua " .. "5." .. rnd(4) .. "." .. rnd(7),
    "libssl1.1_1.1.1n-0+deb11u" .. rnd(9), "build 2026." .. rnd(12) .. "." .. rnd(28) .. "-r" .. rnd(9),
    "version: " .. rnd(9) .. "." .. rnd(9) .. "." .. rnd(99) .. "+build." .. chars(HEXL, 7),
    "node-v" .. rnd(22) .. "." .. rnd(9) .. ".0-linux-x64.tar.xz", "python3.12.1", "go1.22." .. rnd(9) } end,
  dotted_name = function() return pick { "com." .. chars(LO, 6) .. ".app.MainActivity",
    "org.apache.commons.lang3.StringUtils", "dana.core.sanitize", "api." .. pick { "eu-west-1",
        "us-east-2" } .. ".amazonaws.com",
    chars(LO, 5) .. "." .. chars(LO, 7) .. "." .. chars(LO, 4) .. "." .. chars(LO, 6),
        "java.util.concurrent.ConcurrentHashMap",
    "kubernetes.io/service-account.name", "System.Security.Cryptography.RSA",
        "logging.handlers.RotatingFileHandler" } end,
  git_sha = function() return pick { chars(HEXL, 40), "commit " .. chars(HEXL, 40), "merged " .. chars(HEXL,
      7) .. " into main",
    "git checkout " .. chars(HEXL, 12), "HEAD is now at " .. chars(HEXL, 7) .. " fix typo", "sha=" .. chars(HEXL,
        40) } end,
  digest = function() return pick { "sha256:" .. chars(HEXL, 64), "md5 " .. chars(HEXL, 32), "sha512-" .. chars(B64,
      86) .. "==",
    "sha1=" .. chars(HEXL, 40), "image@sha256:" .. chars(HEXL, 64), "integrity=\"sha384-" .. chars(B64, 64) .. "\"",
    "ETag: \"" .. chars(HEXL, 32) .. "\"", "checksum: " .. chars(HEXL, 64) } end,
  uuid = function()
    local u = chars(HEXL, 8) .. "-" .. chars(HEXL, 4) .. "-4" .. chars(HEXL, 3) .. "-a" .. chars(HEXL,
        3) .. "-" .. chars(HEXL, 12)
    return pick { u, "request_id=" .. u, "user_id: " .. u, '{"id": "' .. u .. '"}', "trace " .. u,
        "order " .. u:upper() }
  end,
  hex_colour = function() return pick { "#" .. chars(HEXL, 6), "color: #" .. chars(HEXL, 3),
      "background: #" .. chars("ABCDEF0123456789", 6) .. ";",
    "rgba(" .. rnd(255) .. "," .. rnd(255) .. "," .. rnd(255) .. ",0.5)", "fill=\"#" .. chars(HEXL, 8) .. "\"" } end,
  base64_image = function() return "data:image/" .. pick { "png", "jpeg", "gif",
      "webp" } .. ";base64," .. b64(randbytes(60 + rnd(400))) end,
  prose = function() return pick {
    "The password must be at least 12 characters and contain a digit.",
    "Use a bearer token in the Authorization header when calling the API.",
    "Set max_tokens to " .. rnd(8192) .. " to limit the answer.",
    "The author of the tokenizer wrote a paper about byte pair encoding.",
    "Rotate your API keys every 90 days and never commit secrets.",
    "Session cookies are marked HttpOnly and Secure.",
    "Private keys stay on the device; only the public key is uploaded.",
    "Token: the smallest unit the model reads.",
    "Basic authentication sends credentials on every request.",
    "Secret Santa is on Friday at 4pm in room " .. rnd(400) .. ".",
    "Her passport number is not stored; the pin is entered on the terminal.",
    "An OTP arrives by SMS and expires after five minutes.",
    "The JWT spec is RFC 7519; see section " .. rnd(9) .. "." .. rnd(9) .. ".",
    "Password: must contain one upper case letter.",
    "We tokenized " .. rnd(99999) .. " documents in " .. rnd(99) .. " minutes.",
    "Credentials are read from the environment, not from this file.",
    "Keep the DSN in the vault, not in the repo.",
  } end,
  identifiers = function() return pick { "user_" .. chars(LO, 8), "order-" .. chars(DG, 10), "INV-" .. chars(DG, 6),
    "s3://my-bucket/" .. chars(LO, 6) .. "/" .. chars(LO .. DG, 12) .. ".parquet",
        "/usr/lib/x86_64-linux-gnu/lua/5.4/lpeg.so",
    "C:\\Users\\" .. chars(LO, 5) .. "\\AppData\\Local\\Temp", "ISBN 978-" .. chars(DG, 10), "+1-555-" .. chars(DG,
        3) .. "-" .. chars(DG, 4),
    chars(LO, 6) .. "@example.com", "2026-12-04T" .. rnd(23) .. ":" .. rnd(59) .. ":00Z",
        "192.168." .. rnd(254) .. "." .. rnd(254),
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" .. chars(B64, 43) .. " user@laptop", "arn:aws:s3:::" .. chars(LO, 10),
    "ami-" .. chars(HEXL, 17), "i-" .. chars(HEXL, 17), "vpc-" .. chars(HEXL, 8), "price_" .. mixed(ALNUM, 24) } end,
  code = function()
    local id = pick { "db", "main", "cache", "svc", "api", "admin" } .. "_" .. chars(LO, 4)
    if rnd(2) == 1 then
      return pick { "local password = read_secret(\"" .. id .. "\")", "password = var." .. id .. "_password",
        "token = get_token(" .. id .. ")", "api_key = settings." .. id .. ".api_key",
        "secret = os.environ[\"" .. id:upper() .. "_SECRET\"]", "if token == nil then return " .. id .. " end",
        "token: ${{ secrets." .. id:upper() .. "_TOKEN }}", "export " .. id:upper() .. "_TOKEN=$(gh auth token)",
        "{\"auth\": \"basic\", \"auth_type\": \"" .. id .. "\"}",
        "self." .. id .. "_max_tokens = max_tokens or " .. rnd(4096) }
    end
    return pick { "local password = read_secret(\"db\")", "if token == nil then return end",
      "def get_api_key(self): return self._key",
      "const apiKey = process.env.API_KEY;", "password := os.Getenv(\"PASS\")",
      "x = a:b(c) + d:e(f)", "for k, v in pairs(t) do print(k, v) end", "SELECT id, name FROM users WHERE id = ?",
      "token_count = token_count + 1", "assert(#secret > 0, 'empty secret')",
      "self.max_tokens = max_tokens or 1024" }
  end,}
local NEGCATS = { "version", "dotted_name", "git_sha", "digest", "uuid", "hex_colour", "base64_image",
                  "prose", "identifiers", "code" }
for _, cat in ipairs(NEGCATS) do
  local seen, made, tries = {}, 0, 0
  while made < NNEG and tries < NNEG * 40 do
    tries = tries + 1
    local t = negs[cat]()
    if not seen[t] then seen[t] = true; neg(cat, t); made = made + 1 end
  end
end

-- ---------------------------------------------------------------- key names
local function style(words)
  local r = rnd(5)
  if r == 1 then return table.concat(words, "_")
  elseif r == 2 then return table.concat(words, "_"):upper()
  elseif r == 3 then return table.concat(words, "-")
  else
    local t = { words[1] }
    for i = 2, #words do t[i] = words[i]:sub(1, 1):upper() .. words[i]:sub(2) end
    if r == 5 then t[1] = t[1]:sub(1, 1):upper() .. t[1]:sub(2) end
    return table.concat(t)
  end
end
local PREFIX = { {}, { "db" }, { "aws" }, { "github" }, { "smtp" }, { "app" }, { "user" }, { "admin" },
                 { "prod" }, { "x" }, { "oauth" }, { "stripe" }, { "mysql" }, { "redis" }, { "new" } }
local SECRET_TAILS = { { "password" }, { "passwd" }, { "pwd" }, { "pass" }, { "passphrase" }, { "secret" },
  { "token" }, { "api", "key" }, { "apikey" }, { "auth" }, { "authorization" }, { "bearer" }, { "jwt" },
  { "cookie" }, { "session", "id" }, { "dsn" }, { "credentials" }, { "private", "key" }, { "pin" },
  { "otp" }, { "access", "token" }, { "refresh", "token" }, { "client", "secret" }, { "secret", "key" },
  { "access", "key" }, { "signing", "key" }, { "session", "token" }, { "auth", "token" },
  { "connection", "string" }, { "master", "key" }, { "encryption", "key" }, { "webhook", "secret" } }
local META_TAILS = { { "count" }, { "type" }, { "name" }, { "url" }, { "id" }, { "length" }, { "expiry" },
  { "expires", "at" }, { "endpoint" }, { "policy" }, { "min", "length" }, { "ttl" }, { "path" }, { "enabled" } }
local PLAIN = { { "max", "tokens" }, { "token", "count" }, { "tokenizer" }, { "author" }, { "key", "name" },
  { "public", "key" }, { "auth", "url" }, { "user", "id" }, { "prompt", "tokens" }, { "completion", "tokens" },
  { "total", "tokens" }, { "authors" }, { "keyword" }, { "primary", "key" }, { "sort", "key" },
  { "passenger" }, { "compass" }, { "pinned" }, { "spin", "rate" }, { "session" }, { "private" },
  { "secretary" }, { "tokenized" }, { "author", "email" }, { "input", "tokens" }, { "cache", "key" },
  { "pass", "rate" }, { "bypass" }, { "key", "id" }, { "client", "id" }, { "region" }, { "username" } }
do
  local seen, made = {}, 0
  while made < N do
    local w = {}
    for _, x in ipairs(pick(PREFIX)) do w[#w + 1] = x end
    for _, x in ipairs(pick(SECRET_TAILS)) do w[#w + 1] = x end
    local k = style(w)
    if not seen[k] then seen[k] = true; keyentry("key_name", k, true); made = made + 1 end
  end
  seen, made = {}, 0
  local tries = 0
  while made < N and tries < N * 50 do
    tries = tries + 1
    local w = {}
    if rnd(2) == 1 then
      for _, x in ipairs(pick(PREFIX)) do w[#w + 1] = x end
      for _, x in ipairs(pick(SECRET_TAILS)) do w[#w + 1] = x end
      for _, x in ipairs(pick(META_TAILS)) do w[#w + 1] = x end
    else
      for _, x in ipairs(pick(PREFIX)) do w[#w + 1] = x end
      for _, x in ipairs(pick(PLAIN)) do w[#w + 1] = x end
    end
    local k = style(w)
    if not seen[k] then seen[k] = true; keyentry("key_name", k, false); made = made + 1 end
  end
end

-- ---------------------------------------------------------------- write
local f = assert(io.open(out_path, "wb"))
f:write("-- GENERATED by tools/gen-secret-corpus.lua; do not edit. All secrets are fake.\n")
f:write("return {\n")
for _, e in ipairs(entries) do
  local parts = {}
  if e.key then parts[#parts + 1] = "key=" .. string.format("%q", e.key) end
  if e.text then parts[#parts + 1] = "text=" .. string.format("%q", e.text) end
  parts[#parts + 1] = "category=" .. string.format("%q", e.category)
  parts[#parts + 1] = "secret=" .. tostring(e.secret)
  if e.value then parts[#parts + 1] = "value=" .. string.format("%q", e.value) end
  f:write("{", table.concat(parts, ", "), "},\n")
end
f:write("}\n")
f:close()
io.stderr:write(("wrote %d entries to %s\n"):format(#entries, out_path))
