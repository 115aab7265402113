-- Specs for the sanitizer: dana.sanitize (lua/dana/sanitize.lua) over dana.core.sanitize
-- (src/sanitize.c).  Every secret below is fake.
local san = require "dana.sanitize"
local lpeg = require "lpeg"
local sanitize = san.sanitize
local MASK = "[REDACTED]"

local function deepcopy(v, seen)
  if type(v) ~= "table" then return v end
  seen = seen or {}
  if seen[v] then return seen[v] end
  local t = {}
  seen[v] = t
  for k, x in pairs(v) do t[deepcopy(k, seen)] = deepcopy(x, seen) end
  return t
end

-- no 6-character window of the secret may survive anywhere in the output
local function assert_gone(out, secret)
  local w = math.min(6, #secret)
  for i = 1, #secret - w + 1 do
    local piece = secret:sub(i, i + w - 1)
    assert(not out:find(piece, 1, true),
      ("secret piece %q survived in %q"):format(piece, out))
  end
end

local GH = "ghp_" .. "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
local AWS = "AKIA" .. "QX7RTUV2WZ4YB6NM"
local JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." ..
            "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4iLCJpYXQiOjE1MTYyMzkwMjJ9." ..
            "c2lnbmF0dXJlLW5vdC1yZWFsLTEyMzQ1Njc4OTA"

describe("sanitize: structure", function()
  it("returns a new structure and never changes the input", function()
    local input = { user = { name = "ann", password = "Hunter2!x", tags = { "a", "b" } },
                    note = "key " .. GH, list = { 1, 2, 3, { api_key = "zzz9Kq2LmX8v" } } }
    local before = deepcopy(input)
    local out = sanitize(input)
    assert.are.same(before, input)
    assert.are_not.equal(input, out)
    assert.are_not.equal(input.user, out.user)
    assert.are_not.equal(input.list, out.list)
    assert.equal("ann", out.user.name)
    assert.equal(MASK, out.user.password)
    assert.are.same({ "a", "b" }, out.user.tags)
    assert.equal("key " .. MASK, out.note)
    assert.equal(3, out.list[3])
    assert.equal(MASK, out.list[4].api_key)
  end)

  it("keeps arrays, numbers, booleans and key sets", function()
    local out = sanitize({ 1, "two", true, false, 4.5, { x = { y = { z = "ok" } } } })
    assert.are.same({ 1, "two", true, false, 4.5, { x = { y = { z = "ok" } } } }, out)
  end)

  it("passes scalars through (strings are sanitized)", function()
    assert.equal(42, sanitize(42))
    assert.equal(true, sanitize(true))
    assert.is_nil(sanitize(nil))
    assert.equal("plain text", sanitize("plain text"))
    assert.equal("id " .. MASK, sanitize("id " .. AWS))
  end)

  it("is cycle-safe and keeps shared sub-tables single", function()
    local t = { name = "loop" }
    t.self = t
    t.child = { parent = t }
    local out = sanitize(t)
    assert.equal("loop", out.name)
    assert.equal("[CYCLE]", out.self)
    assert.equal("[CYCLE]", out.child.parent)
    -- a DAG of 2^60 paths is copied in linear time
    local d = { leaf = "x" }
    for _ = 1, 60 do d = { a = d, b = d } end
    local o = sanitize(d)
    assert.equal(o.a, o.b)
  end)

  it("caps the depth", function()
    local t = { v = "bottom" }
    for _ = 1, 100 do t = { t } end
    local out = sanitize(t)
    local d, cur = 0, out
    while type(cur) == "table" do cur = cur[1]; d = d + 1 end
    assert.equal("[TRUNCATED]", cur)
    assert.equal(64, d)
    local o2 = sanitize({ { { "x" } } }, { max_depth = 2 })
    assert.are.same({ { "[TRUNCATED]" } }, o2)
    assert.has_error(function() sanitize({}, { max_depth = 0 }) end)
  end)

  it("does not run metamethods of the input and drops metatables", function()
    local called = false
    local mt = { __index = function() called = true end, __pairs = function() called = true end }
    local t = setmetatable({ password = "Secr3tValue", x = 1 }, mt)
    local out = sanitize(t)
    assert.is_false(called)
    assert.is_nil(getmetatable(out))
    assert.equal(MASK, out.password)
  end)

  it("replaces functions, userdata and threads with a type marker", function()
    local out = sanitize({ f = print, co = coroutine.create(function() end) })
    assert.equal("[function]", out.f)
    assert.equal("[thread]", out.co)
  end)
end)

describe("sanitize: contexts", function()
  local ctx = {
    ["local"] = { draft = "x" },
    public = { topic = "weather", api_key = "k9Xz2LmQ7vB4" },
    private = { password = "Hunter2!x", notes = "mine" },
    system = { root_token = "Zq1" },
  }
  it("drops private and system of a context when shared (the default)", function()
    local out = sanitize(ctx)
    assert.is_nil(out.private)
    assert.is_nil(out.system)
    assert.are.same({ draft = "x" }, out["local"])
    assert.equal("weather", out.public.topic)
    assert.equal(MASK, out.public.api_key)
  end)
  it("keeps them, masked, when shared = false", function()
    local out = sanitize(ctx, { shared = false })
    assert.equal("mine", out.private.notes)
    assert.equal(MASK, out.private.password)
    assert.equal(MASK, out.system.root_token)
  end)
  it("drops flat private:/system: keys when shared", function()
    local out = sanitize({ ["public:topic"] = "t", ["private:notes"] = "n", ["system:cfg"] = "c" })
    assert.are.same({ ["public:topic"] = "t" }, out)
  end)
  it("leaves a table that only has a 'private' field alone", function()
    local out = sanitize({ private = true, name = "repo" })
    assert.are.same({ private = true, name = "repo" }, out)
  end)
end)

describe("sanitize: keys", function()
  local SENSITIVE = {
    "password", "Password", "PASSWORD", "db_password", "dbPassword", "PGPASSWORD", "passwd", "pwd",
    "pass", "db_pass", "passphrase", "secret", "client_secret", "clientSecret", "token",
    "access_token", "accessToken", "refresh_token", "id_token", "x-auth-token", "X-Auth-Token",
    "apikey", "api_key", "apiKey", "APIKey", "ApiKey", "x-api-key", "API_KEY", "auth",
    "authorization", "Authorization", "bearer", "jwt", "cookie", "set-cookie", "session_id",
    "sessionId", "sessionID", "dsn", "sentry_dsn", "credential", "credentials", "private_key",
    "privateKey", "pin", "otp", "totp_code", "aws_secret_access_key", "secret_key",
    "connection_string", "ConnectionString", "AccountKey", "signing_key", "master_key",
    "webhook_secret", "password_hash", "new_session_token", "config.password",
  }
  local METADATA = {
    "max_tokens", "maxTokens", "token_count", "tokenCount", "tokenizer", "author", "authors",
    "key_name", "keyName", "public_key", "publicKey", "auth_url", "token_url", "token_uri",
    "user_id", "token_id", "prompt_tokens", "completion_tokens", "total_tokens", "tokens",
    "password_min_length", "token_type", "secret_name", "api_key_id", "aws_access_key_id",
    "session_timeout", "token_expires_in", "password_policy", "author_email", "passenger",
    "compass", "pinned", "spin", "opinion", "keyword", "primary_key", "sort_key", "key",
    "private", "session", "bypass", "pass_rate", "secretary", "client_id", "authority",
    "cookie_name", "otp_length", "pin_enabled", "jwt_alg", "dsn_path",
  }
  it("masks values under sensitive keys", function()
    for _, k in ipairs(SENSITIVE) do
      local out = sanitize({ [k] = "v4lue-Xy" })
      assert.are.equal(MASK, out[k], "key " .. k)
      assert.is_true(san.key_class(k) > 0, k)
    end
  end)
  it("keeps metadata keys beside them", function()
    for _, k in ipairs(METADATA) do
      local out = sanitize({ [k] = "v4lue-Xy" })
      assert.are.equal("v4lue-Xy", out[k], "key " .. k)
      assert.equal(0, san.key_class(k), k)
    end
  end)
  it("masks every leaf of a table under a sensitive key, keeping its shape", function()
    local out = sanitize({ credentials = { user = "bob", list = { "a1", 22, true } }, n = 5 })
    assert.are.same({ credentials = { user = MASK, list = { MASK, MASK, true } }, n = 5 }, out)
  end)
  it("masks numbers under sensitive keys", function()
    assert.are.same({ pin = MASK, max_tokens = 4096 }, sanitize({ pin = 1234, max_tokens = 4096 }))
  end)
  it("takes extra key words from opts.keys", function()
    local out = sanitize({ employee_ssn = "123-45-6789", ssn_type = "us", internalCode = "q1",
                           other = "x" }, { keys = { "ssn", "internal_code" } })
    assert.equal(MASK, out.employee_ssn)
    assert.equal("us", out.ssn_type)
    assert.equal(MASK, out.internalCode)
    assert.equal("x", out.other)
    assert.has_error(function() sanitize({}, { keys = { 1 } }) end)
  end)
  it("keep_prefix keeps the public prefix of a masked value", function()
    local out = sanitize({ token = GH, password = "Hunter2!x" }, { keep_prefix = true })
    assert.equal("ghp_" .. MASK, out.token)
    assert.equal(MASK, out.password)
  end)
end)

describe("sanitize: value shapes", function()
  local CASES = {
    { "aws", "creds " .. AWS .. " ok", AWS },
    { "github", "push with " .. GH, GH },
    { "github pat", "github_pat_11ABCDEFG0123456789abc_" .. ("Xy9" ):rep(20),
        "github_pat_11ABCDEFG0123456789abc_" .. ("Xy9"):rep(20) },
    { "gitlab", "glpat-Ab3De5Gh7Jk9Mn1Pq3St", "glpat-Ab3De5Gh7Jk9Mn1Pq3St" },
    { "slack", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx" },
    { "stripe", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39HqLyjWDarjtT1zdp7dc" },
    { "google", "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q" },
    { "openai", "sk-abcdEFGH1234ijklMNOPT3BlbkFJqrstUVWX5678yzabCDEF",
        "sk-abcdEFGH1234ijklMNOPT3BlbkFJqrstUVWX5678yzabCDEF" },
    { "anthropic", "sk-ant-api03-" .. ("aB3-"):rep(23) .. "AA", "sk-ant-api03-" .. ("aB3-"):rep(23) .. "AA" },
    { "twilio", "SK0123456789abcdef0123456789abcdef", "SK0123456789abcdef0123456789abcdef" },
    { "sendgrid", "SG." .. ("aB3"):rep(7) .. "x." .. ("Cd5"):rep(14) .. "e",
        "SG." .. ("aB3"):rep(7) .. "x." .. ("Cd5"):rep(14) .. "e" },
    { "npm", "npm_" .. ("aB3"):rep(12), "npm_" .. ("aB3"):rep(12) },
    { "pypi", "pypi-AgEIcHlwaS5vcmc" .. ("Xy9_"):rep(15), "pypi-AgEIcHlwaS5vcmc" .. ("Xy9_"):rep(15) },
    { "jwt", "tok=" .. JWT, JWT },
    { "bearer", "Authorization: Bearer abc123DEF456ghi789JKL", "abc123DEF456ghi789JKL" },
    { "basic", "Authorization: Basic dXNlcjpwYXNzd29yZDEyMw==", "dXNlcjpwYXNzd29yZDEyMw==" },
    { "url", "postgres://app:S3cr3t-P4ss@db:5432/x", "S3cr3t-P4ss" },
    { "kv", "client_secret=Zm9vYmFyYmF6cXV4MTIz", "Zm9vYmFyYmF6cXV4MTIz" },
    { "json kv", '{"password": "correct horse battery"}', "correct horse battery" },
    { "escaped json", '{\\"password\\": \\"Hunter2!x\\"}', "Hunter2!x" },
    { "conn string", "Server=db;User Id=u;Password=Pa55w0rd!;", "Pa55w0rd!" },
    { "percent-encoded", "cb?state=1&token%3D" .. GH .. "%26a=1", GH },
    { "env file", "STRIPE_SECRET_KEY=sk_test_51Hq4eC39HqLyjWDarjtT1zdp7dc\nDEBUG=1",
        "sk_test_51Hq4eC39HqLyjWDarjtT1zdp7dc" },
    { "yaml", "db:\n  password: 'Sup3r$ecret'\n  host: db", "Sup3r$ecret" },
    { "docker config auth", '{"auths": {"r.example.com": {"auth": "dXNlcjpwYXNzd29yZA=="}}}', "dXNlcjpwYXNzd29yZA==" },
    { "set-cookie", "Set-Cookie: sid=31d4d96e407aad42; Path=/; Secure", "sid=31d4d96e407aad42; Path=/; Secure" },
    { "oauth response", '{"token_type": "Bearer", "access_token": "ya29.a0AfB_byC' .. ("xY9z"):rep(12) .. '"}',
      "ya29.a0AfB_byC" .. ("xY9z"):rep(12) },
    { "url userinfo token", "https://x-access-token:" .. GH .. "@github.com/o/r.git", GH },
  }
  it("masks each shape, only the matched part, revealing nothing", function()
    for _, c in ipairs(CASES) do
      local name, text, secret = c[1], c[2], c[3]
      local out = sanitize(text)
      assert_gone(out, secret)
      local a, b = text:find(secret, 1, true)
      assert.are.equal(text:sub(1, a - 1) .. MASK .. text:sub(b + 1), out, name)
    end
  end)

  it("masks PEM private key bodies but keeps the armour lines", function()
    local body = "\nMIIEowIBAAKCAQEAx1y2z3" .. ("Ab3+"):rep(16) .. "\n" .. ("Cd5/"):rep(16) .. "\n"
    local pem = "-----BEGIN RSA PRIVATE KEY-----" .. body .. "-----END RSA PRIVATE KEY-----"
    local out = sanitize("key:\n" .. pem)
    assert.equal("key:\n-----BEGIN RSA PRIVATE KEY-----" .. MASK .. "-----END RSA PRIVATE KEY-----", out)
    local cert = "-----BEGIN CERTIFICATE-----\nMIIB" .. ("Ab3+"):rep(16) .. "\n-----END CERTIFICATE-----"
    assert.equal(cert, sanitize(cert))
  end)

  it("leaves nested JSON structure under a sensitive key to the inner keys", function()
    local j = '{"password": {"hash": "x"}, "auth": {"type": "oauth", "client_secret": "Q2x9vLm4Kp8Zr7"}}'
    assert.equal('{"password": {"hash": "x"}, "auth": {"type": "oauth", "client_secret": "' .. MASK .. '"}}',
                 sanitize(j))
  end)

  it("checks JWTs structurally", function()
    -- base64url parts that do not decode to JSON objects stay
    local fake = "eyJub3QganNvbiBhdCBhbGw.eyJhbHNvIG5vdCBqc29u.c2ln"
    assert.equal(fake, sanitize(fake))
  end)

  it("keep_prefix keeps public provider prefixes", function()
    assert.equal("use ghp_" .. MASK, sanitize("use " .. GH, { keep_prefix = true }))
    assert.equal("AKIA" .. MASK, sanitize(AWS, { keep_prefix = true }))
  end)

  it("masks several secrets in one string and stays idempotent", function()
    local text = "a=" .. GH .. " b " .. AWS .. " c=" .. JWT .. " end"
    local out = sanitize(text)
    assert.equal("a=" .. MASK .. " b " .. MASK .. " c=" .. MASK .. " end", out)
    assert.equal(out, sanitize(out))
  end)

  it("never masks on entropy alone", function()
    local KEEP = {
      "version 1.24.3-rc.2+build.5f3a9c1", "com.example.app.MainActivity",
      "commit 3f786850e387550fdab836ed7e6dc881de23001b", "sha256:" .. ("9f86d081884c7d65"):rep(4),
      "id 550e8400-e29b-41d4-a716-446655440000", "color: #ff00aa; background: #FFF",
      "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA" ..
        "60e6kgAAAABJRU5ErkJggg==",
      "The password must be at least 12 characters long.", "max_tokens=4096 token_count: 17",
      "Password: must contain a digit", "pk_live_51HqLyjWDarjtT1zdp7dc0123",
          "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@host",
      "https://user@example.com/path?x=1", "password = os.getenv('DB_PASSWORD')",
      "API_KEY=${API_KEY}", "token: ****", "Bearer tokens expire after an hour",
      '{"auth": "basic", "auth_type": "oauth"}', "password = var.db_password",
      'token: ${{ secrets.GITHUB_TOKEN }}', "export GITHUB_TOKEN=$(gh auth token)",
      '"node_id": "MDQ6VXNlcjE=", "gravatar_id": "", "avatar_url": "https://a.example/u/1?v=4"',
      "user=bob action=login status=ok latency_ms=12", "risk-averse tasks and whisk-y",
    }
    for _, s in ipairs(KEEP) do assert.are.equal(s, sanitize(s)) end
  end)
end)

describe("sanitize: cost", function()
  it("stays linear on adversarial strings", function()
    local units = { "glpat-", "SG.x-", "eyJ-", "-----BEGIN PRIVATE KEY-----!", "auth:", "auth: ",
                    "token=", "token:\"", "Basic ", "Bearer a/", "a://", "pwd=>", "=cookieZ\"" }
    for _, u in ipairs(units) do
      local s = u:rep(100000 // #u) .. "\n"
      local t0 = os.clock()
      sanitize(s)
      local dt = os.clock() - t0
      assert.is_true(dt < 2, ("%q took %.2fs"):format(u, dt))
    end
  end)
end)

describe("sanitize: extra patterns", function()
  it("compiles LPeg patterns to ranges and masks them", function()
    local emp = lpeg.P "EMP-" * lpeg.R "09" ^ 4
    local out = sanitize({ note = "ask EMP-12345 or EMP-9999, not EMP-1" }, { patterns = { emp } })
    assert.equal("ask " .. MASK .. " or " .. MASK .. ", not EMP-1", out.note)
  end)
  it("accepts range functions and merges overlaps with built-in shapes", function()
    local f = function(s)
      local a = s:find("zz", 1, true)
      return a and { { a, a + 5 } } or {}
    end
    assert.equal("x " .. MASK .. " y", sanitize("x zzzzzz y", { patterns = { f } }))
    assert.equal("[REDACTED] y", sanitize(GH .. " y", { patterns = { function() return { { 3, 8 } } end } }))
  end)
  it("empty-matching patterns do not loop", function()
    assert.equal("abc", sanitize("abc", { patterns = { lpeg.P(0) } }))
  end)
  it("rejects bad pattern entries", function()
    assert.has_error(function() sanitize("x", { patterns = { 42 } }) end)
    assert.has_error(function() sanitize("x", { patterns = { function() return 1 end } }) end)
  end)
end)

describe("registered secrets (the C text API)", function()
  it("masks every occurrence, overlapping ones included", function()
    local set = san.secretset()
    assert.is_true(set:add("s3cret-value"))
    assert.is_false(set:add("s3cret-value"))      -- duplicate
    assert.is_false(set:add("short"))             -- under 6 bytes: ignored
    set:add("value-two")
    assert.equal(2, set:count())
    local out, n = set:mask("a s3cret-value b s3cret-valuevalue-two c s3cret-value")
    assert.equal("a " .. MASK .. " b " .. MASK .. " c " .. MASK, out)
    assert.equal(3, n)
    -- overlapping registered values are masked as one run
    local s2 = san.secretset { "abcdef123", "123xyz789" }
    assert.equal("<" .. MASK .. ">", (s2:mask("<abcdef123xyz789>")))
    -- shapes too
    assert.equal("k " .. MASK, (set:mask("k " .. GH)))
    set:clear()
    assert.equal(0, set:count())
    set:close()
    set:close()                                    -- safe twice
    assert.has_error(function() set:add("another") end)
  end)
  it("is used by sanitize through opts.secrets", function()
    local out = sanitize({ msg = "the code is Tr0ub4dor&3 today", other = "Tr0ub4dor&3" },
                         { secrets = { "Tr0ub4dor&3" } })
    assert.are.same({ msg = "the code is " .. MASK .. " today", other = MASK }, out)
  end)
  it("handles many values and long texts", function()
    local set = san.secretset()
    for i = 1, 2000 do set:add(("registered-%05d-x"):format(i)) end
    local text = ("lorem ipsum registered-01234-x dolor "):rep(2000)
    local out = set:mask(text)
    assert.is_nil(out:find("registered-01234-x", 1, true))
    assert.equal(select(2, text:gsub("registered%-01234%-x", "")), select(2, out:gsub("%[REDACTED%]", "")))
  end)
end)

describe("sanitize: labelled corpus", function()
  local eval = dofile("spec/fixtures/secrets/eval.lua")
  local corpus = dofile("spec/fixtures/secrets/corpus.lua")
  local stats = eval.score(sanitize, corpus)
  -- the levels reached (docs/security.md); never lower them
  local FLOOR = { recall = 1.0, precision = 1.0 }
  it("has several hundred secrets per category", function()
    for cat, st in pairs(stats) do
      if st.tp + st.fn > 0 then assert.is_true(st.tp + st.fn >= 250, cat) end
    end
  end)
  for _, cat in ipairs({ "aws", "github", "gitlab", "slack", "stripe", "google", "openai",
                         "anthropic", "twilio", "sendgrid", "npm", "pypi", "other_provider",
                         "jwt", "auth_header", "pem", "url_password", "conn_string", "kv_pair",
                         "key_name" }) do
    it("recall and precision for " .. cat, function()
      local st = stats[cat]
      assert.is_truthy(st, cat)
      assert.is_true(st.recall >= FLOOR.recall, ("%s recall %.4f"):format(cat, st.recall))
      assert.is_true(st.precision >= FLOOR.precision, ("%s precision %.4f"):format(cat, st.precision))
    end)
  end
  it("no false positive on the hard negatives", function()
    for _, cat in ipairs({ "version", "dotted_name", "git_sha", "digest", "uuid", "hex_colour",
                           "base64_image", "prose", "identifiers", "code" }) do
      assert.equal(0, stats[cat].fp, cat)
    end
  end)
end)
