/*
** sanitize.c: the secret sanitizer of dana.core.
**
** dana.core.sanitize(value, opts) returns a new, masked copy of value; the C
** API in sanitize.h masks text (shapes and registered secrets) for the other
** C files.  See docs/security.md ("Sanitizer") for the rules.
**
** No C globals: the tables below are static const; per-call state lives on
** the C stack or the Lua stack, registered secrets in a DanaSecretSet.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dana_internal.h"
#include "sanitize.h"

#define MASK DANA_SANITIZE_MASK
#define MASKLEN (sizeof(MASK) - 1)
#define SECRETSET_MT "dana.SecretSet"
#define MAX_XKEYS 64
#define KEY_SCAN_MAX 96   /* bytes of a key name looked at */

/* =====================================================================
** character classes (locale independent)
** ===================================================================== */

static int is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
static int is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_alpha(unsigned char c) { return is_lower(c) || is_upper(c); }
static int is_alnum(unsigned char c) { return is_alpha(c) || is_digit(c); }
static int is_hex(unsigned char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static int is_b64url(unsigned char c) { return is_alnum(c) || c == '-' || c == '_'; }
static int is_b64(unsigned char c) { return is_alnum(c) || c == '+' || c == '/'; }
static int is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
static unsigned char to_lower(unsigned char c) {
  return is_upper(c) ? (unsigned char)(c - 'A' + 'a') : c;
}
/* characters of a key name in text (x-api-key, config.password, DB_PASS) */
static int is_ident(unsigned char c) {
  return is_alnum(c) || c == '_' || c == '-' || c == '.';
}

enum { CS_ALNUM, CS_B64URL, CS_WORD, CS_HEX, CS_HEXL, CS_UPNUM, CS_ALPHA,
       CS_SLACK, CS_B64URLDOT, CS_B64, CS_TOKEN68, CS_KV, CS_AUTHLINE, CS_AUTHEQ,
       CS_PEMBODY, CS_NONSPACE };

static int in_cs(int cs, unsigned char c) {
  switch (cs) {
    case CS_ALNUM: return is_alnum(c);
    case CS_B64URL: return is_b64url(c);
    case CS_WORD: return is_alnum(c) || c == '_';
    case CS_HEX: return is_hex(c);
    case CS_HEXL: return is_digit(c) || (c >= 'a' && c <= 'f');
    case CS_UPNUM: return is_upper(c) || is_digit(c);
    case CS_ALPHA: return is_alpha(c);
    case CS_SLACK: return is_alnum(c) || c == '-';
    case CS_B64URLDOT: return is_b64url(c) || c == '.';
    case CS_B64: return is_b64(c);
    case CS_TOKEN68:
      return is_alnum(c) || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '-';
    case CS_KV:     /* an unquoted value after a sensitive key */
      return !is_space(c) && c != ',' && c != ';' && c != '&' && c != '"' && c != '\'' &&
             c != '<' && c != '>' && c != ')' && c != ']' && c != '}' && c != '\\' &&
             c != '`' && c != '(';
    case CS_AUTHLINE: return c != '\n' && c != '\r' && c != '"' && c != '\'';
    case CS_AUTHEQ:
      return c != '\n' && c != '\r' && c != '"' && c != '\'' && c != '&' && c != ' ' && c != ',';
    case CS_PEMBODY:
      return is_b64(c) || c == '=' || is_space(c) || c == '\\' || c == ':' || c == '-' || c == ',';
    case CS_NONSPACE: return !is_space(c);
    default: return 0;
  }
}

static int ci_prefix(const unsigned char *s, size_t n, const char *lit) {
  size_t i;
  for (i = 0; lit[i]; i++)
    if (i >= n || to_lower(s[i]) != (unsigned char)lit[i]) return 0;
  return 1;
}

/* =====================================================================
** key names
** ===================================================================== */

#define MAXWORDS 16
#define MAXWLEN 40

typedef struct Words {
  int n;
  unsigned char len[MAXWORDS];
  char w[MAXWORDS][MAXWLEN + 1];
} Words;

static void add_word(Words *W, const unsigned char *k, size_t a, size_t b) {
  size_t len = b - a, j;
  if (len == 0 || W->n >= MAXWORDS) return;
  if (len > MAXWLEN) { a = b - MAXWLEN; len = MAXWLEN; }  /* keep the end */
  for (j = 0; j < len; j++) W->w[W->n][j] = (char)to_lower(k[a + j]);
  W->w[W->n][len] = '\0';
  W->len[W->n] = (unsigned char)len;
  W->n++;
}

/* snake_case, kebab-case, dotted and camelCase / PascalCase / APIKey words */
static void split_words(const unsigned char *k, size_t n, Words *W) {
  size_t i = 0, start;
  W->n = 0;
  if (n > KEY_SCAN_MAX) { k += n - KEY_SCAN_MAX; n = KEY_SCAN_MAX; }
  while (i < n) {
    while (i < n && !is_alnum(k[i])) i++;
    start = i;
    while (i < n && is_alnum(k[i])) {
      if (i > start) {
        unsigned char p = k[i - 1], c = k[i];
        int cut = 0;
        if (is_upper(c) && (is_lower(p) || is_digit(p))) cut = 1;       /* aB 2B */
        else if (is_upper(c) && is_upper(p) && i + 1 < n && is_lower(k[i + 1]))
          cut = 1;                                                   /* APIKey */
        if (cut) { add_word(W, k, start, i); start = i; }
      }
      i++;
    }
    add_word(W, k, start, i);
  }
}

static int in_list(const char *w, const char *const *list) {
  size_t i;
  for (i = 0; list[i]; i++)
    if (strcmp(w, list[i]) == 0) return 1;
  return 0;
}

static int ends_with(const char *w, size_t wl, const char *suf) {
  size_t sl = strlen(suf);
  return wl > sl && memcmp(w + wl - sl, suf, sl) == 0;
}

static const char *const PW_WORDS[] = {
  "password", "passwords", "passwd", "pwd", "passphrase", "passcode", "pin",
  "pincode", "otp", "totp", "hotp", "cvv", "cvc", "mnemonic", NULL
};
static const char *const TOKEN_WORDS[] = {
  "secret", "secrets", "token", "apikey", "apikeys", "accesskey", "secretkey",
  "privatekey", "sessionid", "sessid", "sessionkey", "sessiontoken", "jwt",
  "credential", "credentials", "creds", "cred", "dsn", "connstr",
  "connectionstring", "xsrf", "csrf", "xsrftoken", "csrftoken", "apitoken",
  "authtoken", "accesstoken", "refreshtoken", "idtoken", "clientsecret",
  "webhooksecret", "masterkey", "signingkey", "encryptionkey", "authkey",
  "accountkey", "sharedkey", "hmackey", "seedphrase", NULL
};
static const char *const AUTH_WORDS[] = {
  "auth", "authorization", "authentication", "bearer", "proxyauthorization",
  "authn", NULL
};
static const char *const COOKIE_WORDS[] = {
  "cookie", "cookies", "setcookie", NULL
};
/* "<qualifier> key" is a secret key ("private key", "api key") */
static const char *const KEY_QUALIFIERS[] = {
  "api", "private", "secret", "access", "session", "sess", "master", "signing",
  "encryption", "enc", "decryption", "hmac", "shared", "account", "storage",
  "client", "app", "service", "auth", "admin", "root", "deploy", "ssh", "gpg",
  "pgp", "aes", "crypto", "license", "licence", "subscription", "sas", "consumer",
  "webhook", "ingest", "write", "server", NULL
};
/* a word after the secret word that makes the key metadata (token_count) */
static const char *const META_WORDS[] = {
  "count", "counts", "num", "type", "types", "kind", "name", "names", "label",
  "url", "urls", "uri", "uris", "endpoint", "host", "domain", "path", "paths",
  "file", "filename", "dir", "id", "ids", "arn", "ref", "length", "len", "size",
  "limit", "limits", "max", "min", "maximum", "minimum", "expiry", "expires",
  "expiration", "expired", "exp", "ttl", "lifetime", "age", "at", "time",
  "timestamp", "date", "created", "updated", "rotated", "rotation", "last",
  "version", "format", "algorithm", "alg", "scheme", "scope", "scopes",
  "provider", "issuer", "policy", "rules", "required", "enabled", "disabled",
  "mode", "method", "methods", "status", "field", "fields", "env", "var",
  "variable", "strength", "score", "valid", "validity", "prefix", "usage",
  "used", "budget", "rate", "cost", "index", "idx", "position", "pos",
  "description", "desc", "help", "placeholder", "regex", "pattern", "header",
  "headers", "param", "location", "store", "manager", "service", "server",
  "level", "flow", "grant", "audience", "aud", "set", "list", "ids", "source",
  "reset", "changed", "attempts", "retries", "timeout", "interval", "window",
  "style", "color", "colour", "width", "height", "hint", "login", "page",
  "form", "box", "input", "button", "link", "bucket", "estimate", "estimated",
  "ratio", "fingerprint", "thumbprint", "sha", "checksum", NULL
};
/* a word before "token(s)" that makes it a quantity (max_tokens) */
static const char *const QUANT_WORDS[] = {
  "max", "min", "num", "n", "total", "prompt", "completion", "input", "output",
  "cached", "reasoning", "context", "remaining", "used", "reserved",
  "generated", "estimated", "count", "per", NULL
};

/* Extra key words from opts.keys: lowercased, separators removed. */
typedef struct XKeys {
  int n;
  const char *k[MAX_XKEYS];
  size_t len[MAX_XKEYS];
} XKeys;

static int word_class(const Words *W, int i) {
  const char *w = W->w[i];
  size_t wl = W->len[i];
  if (in_list(w, PW_WORDS)) return DANA_KEY_PASSWORD;
  if (in_list(w, AUTH_WORDS)) return DANA_KEY_AUTH;
  if (in_list(w, COOKIE_WORDS)) return DANA_KEY_COOKIE;
  if (in_list(w, TOKEN_WORDS)) return DANA_KEY_TOKEN;
  if (strcmp(w, "pass") == 0 && i == W->n - 1) return DANA_KEY_PASSWORD;
  if (i > 0) {
    const char *p = W->w[i - 1];
    if ((strcmp(w, "key") == 0 || strcmp(w, "keys") == 0) && in_list(p, KEY_QUALIFIERS))
      return DANA_KEY_TOKEN;
    if ((strcmp(p, "session") == 0 || strcmp(p, "sess") == 0) &&
        (strcmp(w, "id") == 0 || strcmp(w, "cookie") == 0))
      return DANA_KEY_TOKEN;
    if ((strcmp(p, "connection") == 0 || strcmp(p, "conn") == 0) &&
        (strcmp(w, "string") == 0 || strcmp(w, "str") == 0))
      return DANA_KEY_TOKEN;
    if (strcmp(p, "pass") == 0 && (strcmp(w, "word") == 0 || strcmp(w, "phrase") == 0 ||
                                  strcmp(w, "code") == 0))
      return DANA_KEY_PASSWORD;
    if (strcmp(p, "seed") == 0 && strcmp(w, "phrase") == 0) return DANA_KEY_TOKEN;
  }
  if (ends_with(w, wl, "password") || ends_with(w, wl, "passwd") ||
      ends_with(w, wl, "passphrase"))
    return DANA_KEY_PASSWORD;
  if (ends_with(w, wl, "secret") || ends_with(w, wl, "token") ||
      ends_with(w, wl, "apikey") || ends_with(w, wl, "credentials") ||
      ends_with(w, wl, "credential") || ends_with(w, wl, "secretkey") ||
      ends_with(w, wl, "privatekey") || ends_with(w, wl, "accesskey"))
    return DANA_KEY_TOKEN;
  return 0;
}

static int is_tokenish(const char *w) {
  return strcmp(w, "token") == 0 || strcmp(w, "tokens") == 0;
}

static int xkey_hit(const Words *W, const XKeys *X, int *end) {
  int a, b, j;
  char buf[MAXWORDS * (MAXWLEN + 1)];
  for (a = 0; a < W->n; a++) {
    size_t len = 0;
    for (b = a; b < W->n; b++) {
      memcpy(buf + len, W->w[b], W->len[b]);
      len += W->len[b];
      for (j = 0; j < X->n; j++)
        if (X->len[j] == len && memcmp(X->k[j], buf, len) == 0) { *end = b; return 1; }
    }
  }
  return 0;
}

static int classify_words(const Words *W, const XKeys *X) {
  int i, j, best = 0;
  for (i = 0; i < W->n; i++) {
    int cls = word_class(W, i), meta = 0;
    if (!cls) continue;
    for (j = i + 1; j < W->n && !meta; j++)
      if (in_list(W->w[j], META_WORDS)) meta = 1;
    if (meta) continue;
    if (is_tokenish(W->w[i]))
      for (j = 0; j < i && !meta; j++)
        if (in_list(W->w[j], QUANT_WORDS)) meta = 1;
    if (meta) continue;
    best = cls;
  }
  if (!best && X && X->n > 0) {
    int end;
    if (xkey_hit(W, X, &end)) {
      int meta = 0;
      for (j = end + 1; j < W->n && !meta; j++)
        if (in_list(W->w[j], META_WORDS)) meta = 1;
      if (!meta) best = DANA_KEY_TOKEN;
    }
  }
  return best;
}

/* Can the key be sensitive at all?  Every word of the lists above contains
** one of these roots, so most keys ("content-type", "user_id") are settled by
** one pass over their bytes. */
static int key_may_be_sensitive(const unsigned char *k, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    const unsigned char *p = k + i;
    size_t m = n - i;
    switch (to_lower(k[i])) {
      case 'p':
        if (ci_prefix(p, m, "pass") || ci_prefix(p, m, "pwd") || ci_prefix(p, m, "pin") ||
            ci_prefix(p, m, "phrase")) return 1;
        break;
      case 's':
        if (ci_prefix(p, m, "secret") || ci_prefix(p, m, "sess")) return 1;
        break;
      case 't': if (ci_prefix(p, m, "token")) return 1; break;
      case 'k': if (ci_prefix(p, m, "key")) return 1; break;
      case 'a': if (ci_prefix(p, m, "auth")) return 1; break;
      case 'b': if (ci_prefix(p, m, "bearer")) return 1; break;
      case 'j': if (ci_prefix(p, m, "jwt")) return 1; break;
      case 'c':
        if (ci_prefix(p, m, "cookie") || ci_prefix(p, m, "cred") || ci_prefix(p, m, "cvv") ||
            ci_prefix(p, m, "cvc") || ci_prefix(p, m, "conn") || ci_prefix(p, m, "csrf")) return 1;
        break;
      case 'd': if (ci_prefix(p, m, "dsn")) return 1; break;
      case 'o': if (ci_prefix(p, m, "otp")) return 1; break;
      case 'm': if (ci_prefix(p, m, "mnemonic")) return 1; break;
      case 'x': if (ci_prefix(p, m, "xsrf")) return 1; break;
      default: break;
    }
  }
  return 0;
}

static int classify_key(const unsigned char *k, size_t n, const XKeys *X) {
  Words W;
  if (n == 0) return 0;
  if (n > KEY_SCAN_MAX) { k += n - KEY_SCAN_MAX; n = KEY_SCAN_MAX; }
  if (!(X && X->n > 0) && !key_may_be_sensitive(k, n)) return 0;
  split_words(k, n, &W);
  return classify_words(&W, X);
}

int dana_sanitize_key_class(const char *k, size_t n) {
  return classify_key((const unsigned char *)k, n, NULL);
}

/* =====================================================================
** value helpers
** ===================================================================== */

static const char *const PLACEHOLDER_WORDS[] = {
  "null", "nil", "none", "true", "false", "undefined", "required", "optional",
  "redacted", "masked", "hidden", "n/a", "na", "empty", "string", "str", "yes",
  "no", "on", "off", "env", "unset", "omitted", "removed", "secret", "password",
  "token", "example", "your_password", "your-password", "your_token",
  "your_api_key", "xxx", NULL
};

static int is_placeholder(const unsigned char *v, size_t n) {
  size_t i;
  int allmask = 1;
  if (n == 0) return 1;
  if (n >= MASKLEN && memcmp(v, MASK, MASKLEN) == 0) return 1;
  if (v[0] == '<' && v[n - 1] == '>') return 1;
  if (n >= 2 && v[0] == '$' && (v[1] == '{' || v[1] == '(' || is_upper(v[1]) || v[1] == '_'))
    return 1;
  if (n >= 2 && v[0] == '{' && v[1] == '{') return 1;
  if (n >= 2 && v[0] == '%' && (v[1] == 's' || v[1] == '(')) return 1;
  if (n >= 4 && ci_prefix(v, n, "your")) return 1;               /* YOUR_API_KEY */
  if (n >= 6 && ci_prefix(v + n - 4, 4, "here")) return 1;       /* paste-key-here */
  for (i = 0; i < n; i++)
    if (!(v[i] == '*' || v[i] == 'x' || v[i] == 'X' || v[i] == '.' || v[i] == '#' ||
          v[i] == '-' || v[i] == '_' || v[i] == '?')) { allmask = 0; break; }
  if (allmask) return 1;
  if (n <= 16) {
    char low[17];
    for (i = 0; i < n; i++) low[i] = (char)to_lower(v[i]);
    low[n] = '\0';
    if (in_list(low, PLACEHOLDER_WORDS)) return 1;
  }
  return 0;
}

/* Secret-looking by itself (used only next to a sensitive key, never alone). */
static int looks_random(const unsigned char *v, size_t n, size_t minlen) {
  size_t i, distinct = 0, need;
  int lo = 0, up = 0, dg = 0, ot = 0, upinner = 0;
  unsigned char seen[32];
  if (n < minlen) return 0;
  memset(seen, 0, sizeof seen);
  if (n > 256) n = 256;          /* bounded work per call */
  for (i = 0; i < n; i++) {
    unsigned char c = v[i];
    if (is_space(c)) return 0;
    if (is_lower(c)) lo = 1;
    else if (is_upper(c)) { up = 1; if (i > 0) upinner = 1; }
    else if (is_digit(c)) dg = 1;
    else ot = 1;
    if (!(seen[c >> 3] & (1u << (c & 7)))) { seen[c >> 3] |= (unsigned char)(1u << (c & 7)); distinct++; }
  }
  if (!lo && !up) return 0;                 /* dates, IPs, phone numbers */
  if (!(dg || (lo && upinner) || (ot && (lo || up) && n >= 16))) return 0;
  need = (n < 16 ? n : 16) / 2;
  return distinct >= need;
}

/* =====================================================================
** shape rules
** ===================================================================== */

typedef struct Range {
  size_t s, e;      /* [s, e) */
  size_t keep;      /* bytes at s that are a public prefix */
} Range;

/* Per-scan memory that keeps every rule linear in the text length: the end of
** a run of one character class is the same from any position inside it, so a
** run scanned once is never scanned again by later attempts (an agent cannot
** make the sanitizer quadratic with "glpat-glpat-glpat-..." or many headers). */
#define NMEMO 8
#define NO_POS ((size_t)-1)
typedef struct RunMemo {
  size_t s, e;
  int cs;
} RunMemo;

typedef struct Shape {
  RunMemo m[NMEMO];
  unsigned used;
  size_t pem_from, pem_end;     /* first "-----END" at/after pem_from (NO_POS: none) */
  int pem_valid;
} Shape;

static size_t run_end(Shape *st, const unsigned char *s, size_t n, size_t from, int cs) {
  unsigned k;
  size_t e;
  for (k = 0; k < st->used; k++)
    if (st->m[k].cs == cs && from >= st->m[k].s && from <= st->m[k].e) return st->m[k].e;
  e = from;
  while (e < n && in_cs(cs, s[e])) e++;
  if (e - from < 64) return e;            /* short runs are cheap to scan again */
  if (st->used < NMEMO) {
    k = st->used++;
  } else {                                /* replace the shortest run */
    unsigned j;
    k = 0;
    for (j = 1; j < NMEMO; j++)
      if (st->m[j].e - st->m[j].s < st->m[k].e - st->m[k].s) k = j;
  }
  st->m[k].s = from; st->m[k].e = e; st->m[k].cs = cs;
  return e;
}

typedef struct PrefixRule {
  const char *prefix;
  unsigned char plen;
  unsigned char cs;
  unsigned short min, max;   /* body length; max 0 = unbounded */
} PrefixRule;

/* Sorted by first byte (binary search); within one first byte, longer
** prefixes of a family come first ("sk-ant-" before "sk-"). */
static const PrefixRule PREFIX_RULES[] = {
  {"AKIA", 4, CS_UPNUM, 16, 16},
  {"ASIA", 4, CS_UPNUM, 16, 16},
  {"ABIA", 4, CS_UPNUM, 16, 16},
  {"ACCA", 4, CS_UPNUM, 16, 16},
  {"AIza", 4, CS_B64URL, 35, 35},
  {"AGE-SECRET-KEY-1", 16, CS_UPNUM, 50, 0},
  {"GOCSPX-", 7, CS_B64URL, 24, 40},
  {"PMAK-", 5, CS_SLACK, 50, 0},
  {"SK", 2, CS_HEX, 32, 32},
  {"dop_v1_", 7, CS_HEXL, 64, 64},
  {"doo_v1_", 7, CS_HEXL, 64, 64},
  {"dor_v1_", 7, CS_HEXL, 64, 64},
  {"dapi", 4, CS_HEXL, 32, 32},
  {"figd_", 5, CS_B64URL, 40, 0},
  {"github_pat_", 11, CS_WORD, 50, 0},
  {"ghp_", 4, CS_ALNUM, 30, 0},
  {"gho_", 4, CS_ALNUM, 30, 0},
  {"ghu_", 4, CS_ALNUM, 30, 0},
  {"ghs_", 4, CS_ALNUM, 30, 0},
  {"ghr_", 4, CS_ALNUM, 30, 0},
  {"glpat-", 6, CS_B64URL, 20, 0},
  {"gldt-", 5, CS_B64URL, 20, 0},
  {"glrt-", 5, CS_B64URL, 20, 0},
  {"glptt-", 6, CS_B64URL, 20, 0},
  {"glsoat-", 7, CS_B64URL, 20, 0},
  {"glft-", 5, CS_B64URL, 20, 0},
  {"glimt-", 6, CS_B64URL, 20, 0},
  {"glcbt-", 6, CS_B64URL, 20, 0},
  {"glagent-", 8, CS_B64URL, 20, 0},
  {"gloas-", 6, CS_B64URL, 20, 0},
  {"glc_", 4, CS_B64URL, 32, 0},
  {"glsa_", 5, CS_WORD, 32, 0},
  {"hf_", 3, CS_ALPHA, 30, 40},
  {"hvs.", 4, CS_B64URL, 24, 0},
  {"hvb.", 4, CS_B64URL, 24, 0},
  {"key-", 4, CS_HEXL, 32, 32},
  {"lin_api_", 8, CS_ALNUM, 40, 0},
  {"npm_", 4, CS_ALNUM, 36, 36},
  {"ntn_", 4, CS_ALNUM, 40, 0},
  {"pypi-AgEIcHlwaS5vcmc", 20, CS_B64URL, 40, 0},
  {"pypi-AgENdGVzdC5weXBpLm9yZw", 27, CS_B64URL, 40, 0},
  {"pul-", 4, CS_HEXL, 40, 40},
  {"rk_live_", 8, CS_ALNUM, 16, 0},
  {"rk_test_", 8, CS_ALNUM, 16, 0},
  {"sk_live_", 8, CS_ALNUM, 16, 0},
  {"sk_test_", 8, CS_ALNUM, 16, 0},
  {"sk-ant-", 7, CS_B64URL, 32, 0},
  {"sk-proj-", 8, CS_B64URL, 32, 0},
  {"sk-svcacct-", 11, CS_B64URL, 32, 0},
  {"sk-admin-", 9, CS_B64URL, 32, 0},
  {"sk-None-", 8, CS_B64URL, 32, 0},
  {"sk-", 3, CS_ALNUM, 32, 0},
  {"shpat_", 6, CS_HEX, 32, 32},
  {"shpss_", 6, CS_HEX, 32, 32},
  {"shpca_", 6, CS_HEX, 32, 32},
  {"shppa_", 6, CS_HEX, 32, 32},
  {"secret_", 7, CS_ALNUM, 43, 43},
  {"sq0atp-", 7, CS_B64URL, 22, 0},
  {"sq0csp-", 7, CS_B64URL, 40, 0},
  {"whsec_", 6, CS_ALNUM, 24, 0},
  {"xoxb-", 5, CS_SLACK, 20, 0},
  {"xoxp-", 5, CS_SLACK, 20, 0},
  {"xoxa-", 5, CS_SLACK, 20, 0},
  {"xoxr-", 5, CS_SLACK, 20, 0},
  {"xoxs-", 5, CS_SLACK, 20, 0},
  {"xoxe-", 5, CS_SLACK, 20, 0},
  {"xoxe.xoxp-", 10, CS_SLACK, 20, 0},
  {"xapp-", 5, CS_SLACK, 20, 0},
  {"xkeysib-", 8, CS_SLACK, 60, 0},
  {"ya29.", 5, CS_B64URLDOT, 20, 0},
  {NULL, 0, 0, 0, 0}
};

/* first characters of PREFIX_RULES */
static int prefix_candidate(unsigned char c) {
  switch (c) {
    case 'A': case 'G': case 'P': case 'S': case 'd': case 'f': case 'g': case 'h':
    case 'k': case 'l': case 'n': case 'p': case 'r': case 's': case 'w': case 'x':
    case 'y':
      return 1;
    default:
      return 0;
  }
}

#define NPREFIX_RULES (sizeof(PREFIX_RULES) / sizeof(PREFIX_RULES[0]) - 1)

static int prefix_rule_at(Shape *st, const unsigned char *s, size_t n, size_t i, Range *r) {
  size_t lo = 0, hi = NPREFIX_RULES, k;
  unsigned char c = s[i];
  while (lo < hi) {                       /* first rule with prefix[0] >= c */
    size_t mid = (lo + hi) / 2;
    if ((unsigned char)PREFIX_RULES[mid].prefix[0] < c) lo = mid + 1; else hi = mid;
  }
  for (k = lo; k < NPREFIX_RULES && (unsigned char)PREFIX_RULES[k].prefix[0] == c; k++) {
    const PrefixRule *p = &PREFIX_RULES[k];
    size_t pl = p->plen, j, blen;
    if (n - i < pl + p->min || memcmp(s + i, p->prefix, pl) != 0) continue;
    j = run_end(st, s, n, i + pl, p->cs);
    blen = j - i - pl;
    if (blen < p->min || (p->max && blen > p->max)) continue;
    if (j < n && (is_alnum(s[j]) || (p->cs == CS_B64URL && s[j] == '.'))) continue;
    r->s = i; r->e = j; r->keep = pl;
    return 1;
  }
  return 0;
}

/* Length of the prefix-rule match at the start of v, for keep_prefix on a
** value masked by its key. */
static size_t public_prefix(const unsigned char *v, size_t n) {
  Range r;
  Shape st;
  memset(&st, 0, sizeof st);
  if (n > 0 && prefix_rule_at(&st, v, n, 0, &r)) return r.keep;
  return 0;
}

static int b64val(unsigned char c) {
  if (is_upper(c)) return c - 'A';
  if (is_lower(c)) return c - 'a' + 26;
  if (is_digit(c)) return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

/* Decodes base64 (url or std, unpadded) s[0..n) into out (cap bytes); returns
** bytes written or (size_t)-1 when invalid or too long. */
static size_t b64_decode(const unsigned char *s, size_t n, unsigned char *out, size_t cap) {
  size_t i, o = 0;
  unsigned long acc = 0;
  int bits = 0;
  while (n > 0 && s[n - 1] == '=') n--;
  if (n % 4 == 1) return (size_t)-1;
  for (i = 0; i < n; i++) {
    int v = b64val(s[i]);
    if (v < 0) return (size_t)-1;
    acc = ((acc << 6) | (unsigned long)v) & 0xFFFFFFul;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (o >= cap) return (size_t)-1;
      out[o++] = (unsigned char)((acc >> bits) & 0xFF);
    }
  }
  return o;
}

/* Does base64url s[0..n) decode to a JSON object?  Checks the first and last
** decoded bytes only, so it is O(1) in n. */
static int b64_json_object(const unsigned char *s, size_t n) {
  unsigned char buf[12];
  size_t got, tail, k;
  if (n < 4 || n % 4 == 1) return 0;
  got = b64_decode(s, 4, buf, sizeof buf);
  if (got != 3) return 0;
  for (k = 0; k < got && is_space(buf[k]); k++) {}
  if (k == got || buf[k] != '{') return 0;
  /* last group plus the full group before it */
  tail = n % 4 ? n % 4 + 4 : 8;
  if (tail > n) tail = n;
  if ((n - tail) % 4 != 0) return 0;
  got = b64_decode(s + n - tail, tail, buf, sizeof buf);
  if (got == (size_t)-1 || got == 0) return 0;
  while (got > 0 && is_space(buf[got - 1])) got--;
  return got > 0 && buf[got - 1] == '}';
}

static int jwt_at(Shape *st, const unsigned char *s, size_t n, size_t i, Range *r) {
  size_t a = i, b, c, d, parts = 1;
  if (n - i < 20 || s[i] != 'e' || s[i + 1] != 'y' || s[i + 2] != 'J') return 0;
  b = run_end(st, s, n, a, CS_B64URL);
  if (b >= n || s[b] != '.') return 0;
  c = run_end(st, s, n, b + 1, CS_B64URL);
  if (c == b + 1) return 0;
  if (!b64_json_object(s + a, b - a) || !b64_json_object(s + b + 1, c - b - 1)) return 0;
  d = c;
  while (d < n && s[d] == '.' && parts < 5) {          /* signature, JWE parts */
    d = run_end(st, s, n, d + 1, CS_B64URL);
    parts++;
  }
  if (parts < 2) return 0;
  r->s = i; r->e = d; r->keep = 0;
  return 1;
}

/* Authorization schemes whose next word is the credential */
static const char *const AUTH_SCHEMES[] = {
  "bearer", "basic", "token", "digest", "negotiate", "ntlm", "bot", "apikey",
  "api-key", "key", "sso-key", "hmac", "otp", "aws4-hmac-sha256", "dpop", "mac",
  "jwt", NULL
};

static size_t scheme_len(const unsigned char *s, size_t n) {
  size_t j = 0;
  char low[24];
  while (j < n && j < 20 && (is_alnum(s[j]) || s[j] == '-')) { low[j] = (char)to_lower(s[j]); j++; }
  if (j == 0 || j >= 20 || j >= n || s[j] != ' ') return 0;
  low[j] = '\0';
  return in_list(low, AUTH_SCHEMES) ? j : 0;
}

/* "Basic <base64 of user:pass>" and "Bearer <token>" outside a header */
static int scheme_word_at(Shape *st, const unsigned char *s, size_t n, size_t i, Range *r) {
  size_t j, k;
  int basic;
  if (ci_prefix(s + i, n - i, "basic ")) { basic = 1; j = i + 6; }
  else if (ci_prefix(s + i, n - i, "bearer ")) { basic = 0; j = i + 7; }
  else return 0;
  while (j < n && s[j] == ' ') j++;
  k = j;
  if (basic) {
    unsigned char buf[512];
    size_t got, q;
    int colon = 0;
    k = run_end(st, s, n, j, CS_B64);
    if (k - j > 680) return 0;
    while (k < n && s[k] == '=' && k - j < 1024) k++;
    if (k - j < 8 || (k - j) % 4 != 0 || (k < n && is_ident(s[k]) && s[k] != '.')) return 0;
    got = b64_decode(s + j, k - j, buf, sizeof buf);
    if (got == (size_t)-1 || got < 3) return 0;
    for (q = 0; q < got; q++) {
      if (buf[q] < 0x20 || buf[q] > 0x7e) return 0;
      if (buf[q] == ':' && q > 0) colon = 1;
    }
    if (!colon) return 0;
  } else {
    int trim = 0;
    k = run_end(st, s, n, j, CS_TOKEN68);
    while (k < n && s[k] == '=' && trim < 4) { k++; trim++; }
    trim = 0;
    while (k > j && s[k - 1] == '.' && trim++ < 8) k--;   /* end of a sentence */
    if (!looks_random(s + j, k - j, 16)) return 0;
  }
  r->s = j; r->e = k; r->keep = 0;
  return 1;
}

/* Telegram bot token: 8-10 digits ':' 35 base64url */
static int telegram_at(Shape *st, const unsigned char *s, size_t n, size_t i, Range *r) {
  size_t j = i, k;
  while (j < n && is_digit(s[j])) j++;
  if (j - i < 8 || j - i > 10 || j >= n || s[j] != ':') return 0;
  k = run_end(st, s, n, j + 1, CS_B64URL);
  if (k - j - 1 != 35 || (k < n && is_alnum(s[k]))) return 0;
  r->s = i; r->e = k; r->keep = 0;
  return 1;
}

/* Mailchimp: 32 lowercase hex "-us" 1-2 digits */
static int mailchimp_at(const unsigned char *s, size_t n, size_t i, Range *r) {
  size_t j = i, k;
  while (j < n && j - i <= 32 && (is_digit(s[j]) || (s[j] >= 'a' && s[j] <= 'f'))) j++;
  if (j - i != 32 || n - j < 4 || memcmp(s + j, "-us", 3) != 0 || !is_digit(s[j + 3])) return 0;
  k = j + 4;
  if (k < n && is_digit(s[k])) k++;
  if (k < n && is_alnum(s[k])) return 0;
  r->s = i; r->e = k; r->keep = 0;
  return 1;
}

/* SendGrid: SG.<22>.<43> */
static int sendgrid_at(Shape *st, const unsigned char *s, size_t n, size_t i, Range *r) {
  size_t j, k;
  if (n - i < 69 || s[i] != 'S' || s[i + 1] != 'G' || s[i + 2] != '.') return 0;
  j = run_end(st, s, n, i + 3, CS_B64URL);
  if (j - i - 3 != 22 || j >= n || s[j] != '.') return 0;
  k = run_end(st, s, n, j + 1, CS_B64URL);
  if (k - j - 1 != 43 || (k < n && is_alnum(s[k]))) return 0;
  r->s = i; r->e = k; r->keep = 3;
  return 1;
}

static int word_rules(Shape *st, const unsigned char *s, size_t n, size_t i, Range *r) {
  unsigned char c = s[i];
  if (c == 'e' && jwt_at(st, s, n, i, r)) return 1;
  if (c == 'S' && sendgrid_at(st, s, n, i, r)) return 1;
  if ((c == 'B' || c == 'b') && scheme_word_at(st, s, n, i, r)) return 1;
  if (prefix_candidate(c) && prefix_rule_at(st, s, n, i, r)) return 1;
  if (is_digit(c) && telegram_at(st, s, n, i, r)) return 1;
  if ((is_digit(c) || (c >= 'a' && c <= 'f')) && mailchimp_at(s, n, i, r)) return 1;
  return 0;
}

/* "-----BEGIN ... PRIVATE KEY-----" body up to "-----END" */
static size_t find_pem_end(Shape *st, const unsigned char *s, size_t n, size_t from) {
  size_t k;
  if (st->pem_valid && from >= st->pem_from && (st->pem_end == NO_POS || from <= st->pem_end))
    return st->pem_end;
  st->pem_valid = 1;
  st->pem_from = from;
  st->pem_end = NO_POS;
  for (k = from; k + 8 <= n; k++) {
    const unsigned char *q = (const unsigned char *)memchr(s + k, '-', n - k);
    if (!q) break;
    k = (size_t)(q - s);
    if (n - k >= 8 && memcmp(s + k, "-----END", 8) == 0) { st->pem_end = k; break; }
  }
  return st->pem_end;
}

static int pem_at(Shape *st, const unsigned char *s, size_t n, size_t i, Range *r) {
  size_t j, hdr_end, k;
  int priv = 0;
  if (n - i < 30 || memcmp(s + i, "-----BEGIN ", 11) != 0) return 0;
  j = i + 11;
  while (j < n && j - i < 80 && s[j] != '-' && s[j] != '\n') {
    if (n - j >= 11 && memcmp(s + j, "PRIVATE KEY", 11) == 0) priv = 1;
    j++;
  }
  if (!priv || n - j < 5 || memcmp(s + j, "-----", 5) != 0) return 0;
  hdr_end = j + 5;
  k = find_pem_end(st, s, n, hdr_end);
  if (k == NO_POS)            /* no END line: mask the base64 run */
    k = run_end(st, s, n, hdr_end, CS_PEMBODY);
  if (k <= hdr_end) return 0;
  r->s = hdr_end; r->e = k; r->keep = 0;
  return 1;
}

/* scheme://user:password@host: masks the password (and the user part when
** it is itself a token).  Also Slack webhook paths. */
static int url_at(const unsigned char *s, size_t n, size_t i, Range *r) {
  Shape local;
  size_t a = i + 3, j, at = 0, colon = 0;
  if (n - i < 4 || s[i + 1] != '/' || s[i + 2] != '/') return 0;
  for (j = a; j < n && j - a < 2048; j++) {
    unsigned char c = s[j];
    if (c == '/' || c == '?' || c == '#' || is_space(c) || c == '"' || c == '\'' ||
        c == '<' || c == '>' || c == '`') break;
    if (c == '@') at = j;
  }
  if (at) {
    size_t q;
    for (q = a; q < at; q++) if (s[q] == ':') { colon = q; break; }
    if (colon && colon + 1 < at) {
      Range t;
      memset(&local, 0, sizeof local);
      if (colon > a && (prefix_rule_at(&local, s, colon, a, &t) ||
                        looks_random(s + a, colon - a, 20)))
        r->s = a;
      else
        r->s = colon + 1;
      r->e = at; r->keep = 0;
      if (is_placeholder(s + colon + 1, at - colon - 1) && r->s != a) return 0;
      return 1;
    }
    return 0;
  }
  if (j - a == 15 && memcmp(s + a, "hooks.slack.com", 15) == 0 && n - j > 10 &&
      memcmp(s + j, "/services/", 10) == 0) {
    size_t k = j + 10;
    while (k < n && (is_alnum(s[k]) || s[k] == '/')) k++;
    if (k - j - 10 >= 20) { r->s = j + 10; r->e = k; r->keep = 0; return 1; }
  }
  return 0;
}

static int kv_at(Shape *st, const unsigned char *s, size_t n, size_t i, const XKeys *X,
                 Range *r) {
  size_t sep_end = i + 1, k, kend, v, ve, spaces = 0;
  int eq, cls, quoted = 0, esc = 0;
  unsigned char q = 0;
  if (s[i] == ':') {
    if (i + 1 < n && s[i + 1] == '=') sep_end = i + 2;
    else if (i + 1 < n && s[i + 1] == ':') return 0;
    else if (i > 0 && s[i - 1] == ':') return 0;
    eq = sep_end == i + 2;
  } else {
    if (i > 0 && (s[i - 1] == '!' || s[i - 1] == '<' || s[i - 1] == '>' ||
                  s[i - 1] == '=' || s[i - 1] == ':' || s[i - 1] == '+' ||
                  s[i - 1] == '-' || s[i - 1] == '*' || s[i - 1] == '/'))
      return 0;
    if (i + 1 < n && s[i + 1] == '=') return 0;
    if (i + 1 < n && s[i + 1] == '>') sep_end = i + 2;
    eq = 1;
  }
  /* the key, backwards */
  k = i;
  while (k > 0 && (s[k - 1] == ' ' || s[k - 1] == '\t') && spaces < 8) { k--; spaces++; }
  if (k > 0 && (s[k - 1] == '"' || s[k - 1] == '\'')) {
    k--;
    if (k > 0 && s[k - 1] == '\\') k--;
  }
  kend = k;
  while (k > 0 && is_ident(s[k - 1]) && kend - k < KEY_SCAN_MAX) k--;
  if (k == kend) return 0;
  cls = classify_key(s + k, kend - k, X);
  if (!cls) return 0;
  /* the value */
  v = sep_end;
  spaces = 0;
  while (v < n && (s[v] == ' ' || s[v] == '\t') && spaces < 16) { v++; spaces++; }
  if (v < n && s[v] == '\\' && v + 1 < n && (s[v + 1] == '"' || s[v + 1] == '\'')) {
    esc = 1; q = s[v + 1]; v += 2; quoted = 1;
  } else if (v < n && (s[v] == '"' || s[v] == '\'' || s[v] == '`')) {
    q = s[v]; v++; quoted = 1;
  }
  if (quoted) {
    ve = v;
    while (ve < n && s[ve] != '\n' && ve - v < 8192) {
      if (esc && s[ve] == '\\' && ve + 1 < n && s[ve + 1] == q) break;
      if (!esc && s[ve] == q) break;
      if (!esc && s[ve] == '\\' && ve + 1 < n) ve++;
      ve++;
    }
    if (ve > n) ve = n;
  } else {
    int trim = 0;
    if (cls == DANA_KEY_AUTH || cls == DANA_KEY_COOKIE) {
      ve = run_end(st, s, n, v, eq ? CS_AUTHEQ : CS_AUTHLINE);
      while (ve > v && (s[ve - 1] == ' ' || s[ve - 1] == '\t') && trim++ < 16) ve--;
    } else {
      ve = run_end(st, s, n, v, CS_KV);
      if (!eq)
        while (ve > v && (s[ve - 1] == '.' || s[ve - 1] == ':') && trim++ < 4) ve--;
    }
  }
  if (ve <= v || is_placeholder(s + v, ve - v)) return 0;
  if (!quoted && (s[v] == '{' || s[v] == '[')) return 0;    /* nested structure */
  if (ve - v >= 10 && memcmp(s + v, "-----BEGIN", 10) == 0) return 0;   /* PEM rule */
  if (!quoted) {
    /* code, not a literal: f(...), a.b.c references */
    size_t d;
    int dotted = 1, dots = 0;
    if (ve < n && s[ve] == '(') return 0;
    for (d = v; d < ve && dotted; d++) {
      if (s[d] == '.') { if (d == v || s[d - 1] == '.') dotted = 0; else dots++; }
      else if (!(is_alpha(s[d]) || s[d] == '_')) dotted = 0;
    }
    if (dotted && dots > 0 && s[ve - 1] != '.') return 0;
  }
  if (cls == DANA_KEY_AUTH) {
    size_t sl = scheme_len(s + v, ve - v);
    if (sl) {
      size_t c = v + sl;
      while (c < ve && s[c] == ' ') c++;
      if (c >= ve || is_placeholder(s + c, ve - c)) return 0;
      r->s = c; r->e = ve; r->keep = 0;
      return 1;
    }
    if (!quoted && !eq) {                        /* "auth: ..." in prose */
      size_t e2 = run_end(st, s, n, v, CS_NONSPACE);
      if (e2 > ve) e2 = ve;
      if (!looks_random(s + v, e2 - v, 8)) return 0;
      ve = e2;
    } else if (!looks_random(s + v, ve - v, 8)) {  /* "auth": "basic" is a setting */
      return 0;
    }
  } else if (cls == DANA_KEY_COOKIE) {
    if (!quoted && !eq && ve - v < 4) return 0;
  } else if (cls == DANA_KEY_PASSWORD) {
    if (!quoted && !eq) {
      /* "Password: hunter2" but not "Password: must be 8 characters long" */
      size_t t = ve, d;
      int dg = 0, sym = 0;
      while (t < n && (s[t] == ' ' || s[t] == '\t')) t++;
      for (d = v; d < ve && d - v < 256; d++) {
        if (is_digit(s[d])) dg = 1;
        else if (!is_alpha(s[d])) sym = 1;
      }
      if (t < n && is_alpha(s[t]) && !looks_random(s + v, ve - v, 8)) return 0;
      if (!(dg || sym) && !looks_random(s + v, ve - v, 8) && ve - v < 12) return 0;
    }
  } else {                                        /* token-like */
    if (quoted || eq) {
      if (!(looks_random(s + v, ve - v, 8) ||
            (ve - v >= 6 && ve - v < 8 && looks_random(s + v, ve - v, 6))))
        return 0;
    } else if (!looks_random(s + v, ve - v, 12)) {
      return 0;
    }
  }
  r->s = v; r->e = ve; r->keep = public_prefix(s + v, ve - v);
  return 1;
}

/* The first shape range starting at or after `from`. */
static int shape_next(Shape *st, const unsigned char *s, size_t n, size_t from,
                      const XKeys *X, Range *r) {
  size_t i = from;
  while (i < n) {
    unsigned char c = s[i];
    if (is_alnum(c)) {
      if (i == 0 || !is_alnum(s[i - 1])) {
        if (word_rules(st, s, n, i, r)) return 1;
        /* a token right after a percent escape: "token%3Dghp_..." */
        if (i > 0 && s[i - 1] == '%' && i + 2 < n && is_hex(s[i]) && is_hex(s[i + 1]) &&
            is_alnum(s[i + 2]) && word_rules(st, s, n, i + 2, r))
          return 1;
      }
      i++;
      while (i < n && is_alnum(s[i])) i++;
      continue;
    }
    if (c == ':') {
      if (i + 2 < n && s[i + 1] == '/' && s[i + 2] == '/') {
        if (url_at(s, n, i, r)) return 1;
      } else if (kv_at(st, s, n, i, X, r)) {
        return 1;
      }
    } else if (c == '=') {
      if (kv_at(st, s, n, i, X, r)) return 1;
    } else if (c == '-') {
      if (pem_at(st, s, n, i, r)) return 1;
    }
    i++;
  }
  return 0;
}

/* =====================================================================
** registered secrets
** ===================================================================== */

typedef struct SecretEntry {
  char *s;
  size_t n;
  size_t next;          /* index + 1 of the next entry in the bucket, 0 = end */
} SecretEntry;

struct DanaSecretSet {
  SecretEntry *e;
  size_t count, cap;
  size_t *heads;        /* nheads buckets (power of two), index + 1 */
  size_t nheads;
  unsigned char filter[8192];   /* one bit per top-16-bit hash of 6 bytes */
};

static uint64_t hash6(const unsigned char *p) {
  uint64_t x = (uint64_t)p[0] | ((uint64_t)p[1] << 8) | ((uint64_t)p[2] << 16) |
               ((uint64_t)p[3] << 24) | ((uint64_t)p[4] << 32) | ((uint64_t)p[5] << 40);
  x *= UINT64_C(0x9E3779B97F4A7C15);
  return x ^ (x >> 29);
}

DanaSecretSet *dana_secretset_new(void) {
  DanaSecretSet *set = (DanaSecretSet *)calloc(1, sizeof *set);
  return set;
}

void dana_secretset_clear(DanaSecretSet *set) {
  size_t i;
  if (!set) return;
  for (i = 0; i < set->count; i++) free(set->e[i].s);
  set->count = 0;
  if (set->heads) memset(set->heads, 0, set->nheads * sizeof *set->heads);
  memset(set->filter, 0, sizeof set->filter);
}

void dana_secretset_free(DanaSecretSet *set) {
  if (!set) return;
  dana_secretset_clear(set);
  free(set->e);
  free(set->heads);
  free(set);
}

size_t dana_secretset_count(const DanaSecretSet *set) {
  return set ? set->count : 0;
}

static size_t bucket_of(uint64_t h, size_t nheads) {
  return (size_t)(h >> 20) & (nheads - 1);
}

/* longest registered value starting at s[0..n) */
static size_t secret_longest(const DanaSecretSet *set, const unsigned char *s, size_t n) {
  uint64_t h;
  unsigned bit;
  size_t idx, best = 0;
  if (n < DANA_SECRET_MIN_LEN) return 0;
  h = hash6(s);
  bit = (unsigned)(h >> 48);
  if (!(set->filter[bit >> 3] & (1u << (bit & 7)))) return 0;
  for (idx = set->heads[bucket_of(h, set->nheads)]; idx; idx = set->e[idx - 1].next) {
    const SecretEntry *e = &set->e[idx - 1];
    if (e->n <= n && e->n > best && memcmp(e->s, s, e->n) == 0) best = e->n;
  }
  return best;
}

static int secretset_rehash(DanaSecretSet *set, size_t nheads) {
  size_t *heads, i;
  if (nheads > SIZE_MAX / sizeof *heads) return -1;
  heads = (size_t *)calloc(nheads, sizeof *heads);
  if (!heads) return -1;
  free(set->heads);
  set->heads = heads;
  set->nheads = nheads;
  for (i = 0; i < set->count; i++) {
    size_t b = bucket_of(hash6((const unsigned char *)set->e[i].s), nheads);
    set->e[i].next = heads[b];
    heads[b] = i + 1;
  }
  return 0;
}

int dana_secretset_add(DanaSecretSet *set, const char *s, size_t n) {
  SecretEntry *e;
  uint64_t h;
  unsigned bit;
  size_t b, idx;
  char *copy;
  if (!set || !s || n < DANA_SECRET_MIN_LEN) return 0;
  if (set->count > 0) {
    h = hash6((const unsigned char *)s);
    for (idx = set->heads[bucket_of(h, set->nheads)]; idx; idx = set->e[idx - 1].next)
      if (set->e[idx - 1].n == n && memcmp(set->e[idx - 1].s, s, n) == 0) return 0;
  }
  if (set->count == set->cap) {
    size_t ncap = set->cap ? set->cap * 2 : 8;
    if (ncap < set->cap || ncap > SIZE_MAX / sizeof *e) return -1;
    e = (SecretEntry *)realloc(set->e, ncap * sizeof *e);
    if (!e) return -1;
    set->e = e;
    set->cap = ncap;
  }
  if (set->nheads < 2 * (set->count + 1)) {
    size_t nh = set->nheads ? set->nheads : 16;
    while (nh < 2 * (set->count + 1)) {
      if (nh > SIZE_MAX / 2) return -1;
      nh *= 2;
    }
    if (secretset_rehash(set, nh) != 0) return -1;
  }
  copy = (char *)malloc(n);
  if (!copy) return -1;
  memcpy(copy, s, n);
  h = hash6((const unsigned char *)s);
  b = bucket_of(h, set->nheads);
  e = &set->e[set->count];
  e->s = copy;
  e->n = n;
  e->next = set->heads[b];
  set->heads[b] = set->count + 1;
  set->count++;
  bit = (unsigned)(h >> 48);
  set->filter[bit >> 3] |= (unsigned char)(1u << (bit & 7));
  return 1;
}

/* The first merged run of registered values starting at or after from. */
static int secret_next(const DanaSecretSet *set, const unsigned char *s, size_t n,
                       size_t from, Range *r) {
  size_t i, end, j;
  if (!set || set->count == 0 || n < DANA_SECRET_MIN_LEN) return 0;
  for (i = from; i + DANA_SECRET_MIN_LEN <= n; i++) {
    size_t L = secret_longest(set, s + i, n - i);
    if (!L) continue;
    end = i + L;
    for (j = i + 1; j < end && j + DANA_SECRET_MIN_LEN <= n; j++) {
      size_t L2 = secret_longest(set, s + j, n - j);
      if (j + L2 > end) end = j + L2;
    }
    r->s = i; r->e = end; r->keep = 0;
    return 1;
  }
  return 0;
}

/* =====================================================================
** merging the producers and writing the masked text
** ===================================================================== */

typedef struct Scan {
  const unsigned char *s;
  size_t n;
  const XKeys *X;
  const DanaSecretSet *reg;
  const Range *extra;        /* sorted, merged custom ranges */
  size_t nextra, xi;
  Range a, b, c;
  int has_a, has_b, has_c;
  Shape st;
  int started;
} Scan;

static void scan_init(Scan *sc, const char *s, size_t n, const XKeys *X,
                      const DanaSecretSet *reg, const Range *extra, size_t nextra) {
  memset(sc, 0, sizeof *sc);
  sc->s = (const unsigned char *)s;
  sc->n = n;
  sc->X = X;
  sc->reg = reg;
  sc->extra = extra;
  sc->nextra = nextra;
}

static void adv_a(Scan *sc, size_t from) {
  sc->has_a = from < sc->n && shape_next(&sc->st, sc->s, sc->n, from, sc->X, &sc->a);
}
static void adv_b(Scan *sc, size_t from) {
  sc->has_b = sc->reg && secret_next(sc->reg, sc->s, sc->n, from, &sc->b);
}
static void adv_c(Scan *sc) {
  sc->has_c = sc->xi < sc->nextra;
  if (sc->has_c) sc->c = sc->extra[sc->xi++];
}

static void scan_start(Scan *sc) {
  if (sc->started) return;
  sc->started = 1;
  adv_a(sc, 0);
  adv_b(sc, 0);
  adv_c(sc);
}

static int scan_dirty(Scan *sc) {
  scan_start(sc);
  return sc->has_a || sc->has_b || sc->has_c;
}

/* Writes the masked text to B; returns the number of masked ranges. */
static size_t scan_emit(Scan *sc, luaL_Buffer *B, int keep_prefix) {
  size_t pos = 0, count = 0;
  scan_start(sc);
  while (sc->has_a || sc->has_b || sc->has_c) {
    Range m;
    int grew;
    /* the earliest range */
    if (sc->has_a && (!sc->has_b || sc->a.s <= sc->b.s) && (!sc->has_c || sc->a.s <= sc->c.s)) {
      m = sc->a; adv_a(sc, m.e);
    } else if (sc->has_b && (!sc->has_c || sc->b.s <= sc->c.s)) {
      m = sc->b; adv_b(sc, m.e); m.keep = 0;
    } else {
      m = sc->c; adv_c(sc); m.keep = 0;
    }
    do {                               /* absorb overlapping ranges */
      grew = 0;
      if (sc->has_a && sc->a.s <= m.e) {
        if (sc->a.e > m.e) m.e = sc->a.e;
        adv_a(sc, sc->a.e);
        grew = 1;
      }
      if (sc->has_b && sc->b.s <= m.e) {
        if (sc->b.e > m.e) m.e = sc->b.e;
        adv_b(sc, sc->b.e);
        grew = 1;
      }
      if (sc->has_c && sc->c.s <= m.e) { if (sc->c.e > m.e) m.e = sc->c.e; adv_c(sc); grew = 1; }
    } while (grew);
    if (m.s < pos) m.s = pos;
    if (m.e <= m.s) continue;
    if (B) {
      luaL_addlstring(B, (const char *)sc->s + pos, m.s - pos);
      if (keep_prefix && m.keep > 0 && m.keep < m.e - m.s)
        luaL_addlstring(B, (const char *)sc->s + m.s, m.keep);
      luaL_addlstring(B, MASK, MASKLEN);
    }
    pos = m.e;
    count++;
  }
  if (B) luaL_addlstring(B, (const char *)sc->s + pos, sc->n - pos);
  return count;
}

size_t dana_sanitize_text_ex(const char *s, size_t n, luaL_Buffer *out,
                             const DanaSecretSet *reg, unsigned flags) {
  Scan sc;
  scan_init(&sc, s, n, NULL, reg, NULL, 0);
  return scan_emit(&sc, out, (flags & DANA_SAN_KEEP_PREFIX) != 0);
}

size_t dana_sanitize_text(const char *s, size_t n, luaL_Buffer *out,
                          const DanaSecretSet *reg) {
  return dana_sanitize_text_ex(s, n, out, reg, 0);
}

int dana_sanitize_text_dirty(const char *s, size_t n, const DanaSecretSet *reg) {
  Scan sc;
  scan_init(&sc, s, n, NULL, reg, NULL, 0);
  return scan_dirty(&sc);
}

size_t dana_sanitize_push_text(lua_State *L, const char *s, size_t n,
                               const DanaSecretSet *reg) {
  Scan sc;
  luaL_Buffer B;
  size_t count;
  scan_init(&sc, s, n, NULL, reg, NULL, 0);
  if (!scan_dirty(&sc)) {
    lua_pushlstring(L, s, n);
    return 0;
  }
  luaL_buffinit(L, &B);
  count = scan_emit(&sc, &B, 0);
  luaL_pushresult(&B);
  return count;
}

/* =====================================================================
** deep copy (dana.core.sanitize)
** ===================================================================== */

/* stack slots used by one sanitize call */
#define SLOT_PATH 1       /* table -> true while being copied */
#define SLOT_DONE 2       /* table -> copy (plain) */
#define SLOT_DONEM 3      /* table -> copy (masked) */
#define SLOT_XKEYS 4      /* normalized extra keys (kept alive) */
#define SLOT_PATTERNS 5   /* list of range functions, or nil */
#define SLOT_SCRATCH 6    /* userdata: Range array for custom ranges */
#define SLOT_SET 7        /* DanaSecretSet box, or nil */
#define NSLOTS 7

typedef struct Cfg {
  int base;                  /* stack index before SLOT_1 */
  int keep_prefix;
  int shared;                /* 1 drop private/system of a context; 0 keep */
  int max_depth;
  int npatterns;
  size_t scratch_cap;
  XKeys X;
  const DanaSecretSet *reg;
} Cfg;

#define SLOT(c, k) ((c)->base + (k))

static int cmp_range(const void *x, const void *y) {
  const Range *a = (const Range *)x, *b = (const Range *)y;
  return (a->s > b->s) - (a->s < b->s);
}

static Range *scratch(lua_State *L, Cfg *c, size_t need) {
  if (need > c->scratch_cap) {
    size_t cap = c->scratch_cap ? c->scratch_cap : 16;
    while (cap < need) {
      if (cap > (SIZE_MAX / sizeof(Range)) / 2) luaL_error(L, "sanitize: too many ranges");
      cap *= 2;
    }
    {
      Range *nr = (Range *)lua_newuserdatauv(L, cap * sizeof(Range), 0);
      const Range *old = (const Range *)lua_touserdata(L, SLOT(c, SLOT_SCRATCH));
      if (old && c->scratch_cap) memcpy(nr, old, c->scratch_cap * sizeof(Range));
      lua_replace(L, SLOT(c, SLOT_SCRATCH));
    }
    c->scratch_cap = cap;
  }
  return (Range *)lua_touserdata(L, SLOT(c, SLOT_SCRATCH));
}

/* Calls the custom range functions on the string at idx; returns the number
** of merged ranges stored in the scratch array. */
static size_t custom_ranges(lua_State *L, Cfg *c, int idx, size_t n) {
  size_t count = 0, out, i;
  int p;
  Range *rs;
  for (p = 1; p <= c->npatterns; p++) {
    lua_Integer m, len;
    lua_rawgeti(L, SLOT(c, SLOT_PATTERNS), p);
    lua_pushvalue(L, idx);
    lua_call(L, 1, 1);
    if (lua_isnil(L, -1)) { lua_pop(L, 1); continue; }
    if (!lua_istable(L, -1)) luaL_error(L, "sanitize: pattern %d must return a list of {start, stop}", p);
    len = (lua_Integer)lua_rawlen(L, -1);
    for (m = 1; m <= len; m++) {
      lua_Integer a, b;
      int ok1, ok2;
      lua_rawgeti(L, -1, m);
      if (!lua_istable(L, -1)) luaL_error(L, "sanitize: pattern %d: range %d is not {start, stop}", p, (int)m);
      lua_rawgeti(L, -1, 1);
      lua_rawgeti(L, -2, 2);
      a = lua_tointegerx(L, -2, &ok1);
      b = lua_tointegerx(L, -1, &ok2);
      lua_pop(L, 3);
      if (!ok1 || !ok2) luaL_error(L, "sanitize: pattern %d: range %d is not {start, stop}", p, (int)m);
      if (a < 1) a = 1;
      if (b > (lua_Integer)n) b = (lua_Integer)n;
      if (b < a) continue;
      rs = scratch(L, c, count + 1);
      rs[count].s = (size_t)(a - 1);
      rs[count].e = (size_t)b;
      rs[count].keep = 0;
      count++;
    }
    lua_pop(L, 1);
  }
  if (count == 0) return 0;
  rs = scratch(L, c, count);
  qsort(rs, count, sizeof *rs, cmp_range);
  out = 0;
  for (i = 0; i < count; i++) {
    if (out > 0 && rs[i].s <= rs[out - 1].e) {
      if (rs[i].e > rs[out - 1].e) rs[out - 1].e = rs[i].e;
    } else {
      rs[out++] = rs[i];
    }
  }
  return out;
}

/* Pushes the sanitized string at idx (the same string when clean). */
static void san_string(lua_State *L, Cfg *c, int idx) {
  size_t n, nextra = 0;
  const char *s = lua_tolstring(L, idx, &n);
  Scan sc;
  luaL_Buffer B;
  if (c->npatterns > 0) nextra = custom_ranges(L, c, idx, n);
  scan_init(&sc, s, n, &c->X, c->reg, nextra ? scratch(L, c, 0) : NULL, nextra);
  if (!scan_dirty(&sc)) { lua_pushvalue(L, idx); return; }
  luaL_buffinit(L, &B);
  scan_emit(&sc, &B, c->keep_prefix);
  luaL_pushresult(&B);
}

static void push_mask_for(lua_State *L, Cfg *c, int idx) {
  if (c->keep_prefix && lua_type(L, idx) == LUA_TSTRING) {
    size_t n, k;
    const char *s = lua_tolstring(L, idx, &n);
    k = public_prefix((const unsigned char *)s, n);
    if (k > 0) {
      lua_pushlstring(L, s, k);
      lua_pushliteral(L, MASK);
      lua_concat(L, 2);
      return;
    }
  }
  lua_pushliteral(L, MASK);
}

static int is_scope_name(const char *k, size_t n, int drop_only) {
  if (n == 7 && (memcmp(k, "private", 7) == 0)) return 1;
  if (n == 6 && (memcmp(k, "system", 6) == 0)) return 1;
  if (drop_only) return 0;
  if (n == 5 && memcmp(k, "local", 5) == 0) return 1;
  if (n == 6 && memcmp(k, "public", 6) == 0) return 1;
  return 0;
}

static void san_value(lua_State *L, Cfg *c, int idx, int masked, int depth);

static void san_table(lua_State *L, Cfg *c, int t, int masked, int depth) {
  int copy, ctx, done = SLOT(c, masked ? SLOT_DONEM : SLOT_DONE);
  lua_Unsigned alen;
  if (depth >= c->max_depth) { lua_pushliteral(L, "[TRUNCATED]"); return; }
  luaL_checkstack(L, 8, "sanitize: value too deep");
  lua_pushvalue(L, t);
  if (lua_rawget(L, SLOT(c, SLOT_PATH)) != LUA_TNIL) {
    lua_pop(L, 1);
    lua_pushliteral(L, "[CYCLE]");
    return;
  }
  lua_pop(L, 1);
  lua_pushvalue(L, t);
  if (lua_rawget(L, done) != LUA_TNIL) return;     /* shared sub-table: same copy */
  lua_pop(L, 1);
  lua_pushvalue(L, t);
  lua_pushboolean(L, 1);
  lua_rawset(L, SLOT(c, SLOT_PATH));
  /* raw view of t: no metamethod of the input runs */
  ctx = 0;
  if (c->shared) {
    int drop = 0, keep = 0;
    lua_pushliteral(L, "private"); drop |= lua_rawget(L, t) != LUA_TNIL; lua_pop(L, 1);
    lua_pushliteral(L, "system"); drop |= lua_rawget(L, t) != LUA_TNIL; lua_pop(L, 1);
    if (drop) {
      lua_pushliteral(L, "local"); keep |= lua_rawget(L, t) != LUA_TNIL; lua_pop(L, 1);
      lua_pushliteral(L, "public"); keep |= lua_rawget(L, t) != LUA_TNIL; lua_pop(L, 1);
    }
    ctx = drop && keep;
  }
  alen = lua_rawlen(L, t);
  lua_createtable(L, alen > 1024 ? 1024 : (int)alen, 0);
  copy = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    int kt = lua_type(L, -2), vmasked = masked;
    int kidx = lua_gettop(L) - 1, vidx = kidx + 1;
    if (kt == LUA_TSTRING) {
      size_t kn;
      const char *k = lua_tolstring(L, kidx, &kn);
      if (c->shared) {
        if (ctx && is_scope_name(k, kn, 1)) { lua_pop(L, 1); continue; }
        if ((kn > 8 && memcmp(k, "private:", 8) == 0) ||
            (kn > 7 && memcmp(k, "system:", 7) == 0)) { lua_pop(L, 1); continue; }
      }
      if (!vmasked && classify_key((const unsigned char *)k, kn, &c->X)) vmasked = 1;
      san_string(L, c, kidx);
    } else if (kt == LUA_TTABLE) {
      san_value(L, c, kidx, masked, depth + 1);
    } else {
      lua_pushvalue(L, kidx);
    }
    san_value(L, c, vidx, vmasked, depth + 1);
    lua_rawset(L, copy);                    /* the copied key is never nil */
    lua_pop(L, 1);                          /* the value; the key stays for next */
  }
  lua_pushvalue(L, t);
  lua_pushnil(L);
  lua_rawset(L, SLOT(c, SLOT_PATH));
  lua_pushvalue(L, t);
  lua_pushvalue(L, copy);
  lua_rawset(L, done);
}

static void san_value(lua_State *L, Cfg *c, int idx, int masked, int depth) {
  switch (lua_type(L, idx)) {
    case LUA_TSTRING:
      if (masked) push_mask_for(L, c, idx);
      else san_string(L, c, idx);
      break;
    case LUA_TNUMBER:
      if (masked) lua_pushliteral(L, MASK);
      else lua_pushvalue(L, idx);
      break;
    case LUA_TNIL: case LUA_TBOOLEAN:
      lua_pushvalue(L, idx);
      break;
    case LUA_TTABLE:
      san_table(L, c, idx, masked, depth);
      break;
    default:
      lua_pushfstring(L, "[%s]", luaL_typename(L, idx));
      break;
  }
}

/* ---- dana.SecretSet userdata ---- */

typedef struct SetBox {
  DanaSecretSet *set;
} SetBox;

static SetBox *check_setbox(lua_State *L, int idx) {
  SetBox *b = (SetBox *)luaL_checkudata(L, idx, SECRETSET_MT);
  luaL_argcheck(L, b->set != NULL, idx, "secret set is closed");
  return b;
}

static SetBox *new_setbox(lua_State *L) {
  SetBox *b = (SetBox *)lua_newuserdatauv(L, sizeof *b, 0);
  b->set = NULL;
  luaL_setmetatable(L, SECRETSET_MT);
  b->set = dana_secretset_new();
  if (!b->set) luaL_error(L, "not enough memory");
  return b;
}

static void setbox_add(lua_State *L, SetBox *b, int idx) {
  size_t n;
  const char *s = lua_tolstring(L, idx, &n);
  if (dana_secretset_add(b->set, s, n) < 0) luaL_error(L, "not enough memory");
}

/***
Registers a secret value; every occurrence is masked afterwards.
@function SecretSet:add
@tparam string value (values shorter than 6 bytes are ignored)
@treturn boolean true when added, false when ignored
*/
static int l_set_add(lua_State *L) {
  SetBox *b = check_setbox(L, 1);
  size_t n;
  const char *s = luaL_checklstring(L, 2, &n);
  int r = dana_secretset_add(b->set, s, n);
  if (r < 0) return luaL_error(L, "not enough memory");
  lua_pushboolean(L, r);
  return 1;
}

static int l_set_count(lua_State *L) {
  SetBox *b = check_setbox(L, 1);
  lua_pushinteger(L, (lua_Integer)dana_secretset_count(b->set));
  return 1;
}

static int l_set_clear(lua_State *L) {
  SetBox *b = check_setbox(L, 1);
  dana_secretset_clear(b->set);
  return 0;
}

/***
Masks registered values and secret shapes in a string (the C text API).
@function SecretSet:mask
@tparam string text
@treturn string masked text
@treturn integer number of masked ranges
*/
static int l_set_mask(lua_State *L) {
  SetBox *b = check_setbox(L, 1);
  size_t n, count;
  const char *s = luaL_checklstring(L, 2, &n);
  count = dana_sanitize_push_text(L, s, n, b->set);
  lua_pushinteger(L, (lua_Integer)count);
  return 2;
}

static int l_set_close(lua_State *L) {
  SetBox *b = (SetBox *)luaL_checkudata(L, 1, SECRETSET_MT);
  dana_secretset_free(b->set);
  b->set = NULL;
  return 0;
}

static int l_set_tostring(lua_State *L) {
  SetBox *b = (SetBox *)luaL_checkudata(L, 1, SECRETSET_MT);
  if (b->set) lua_pushfstring(L, "dana.SecretSet (%d values)", (int)b->set->count);
  else lua_pushliteral(L, "dana.SecretSet (closed)");
  return 1;
}

/***
A new, empty set of registered secret values.
@function secretset
@tparam[opt] {string,...} values
@treturn dana.SecretSet
*/
static int l_secretset(lua_State *L) {
  SetBox *b;
  lua_settop(L, 1);
  b = new_setbox(L);
  if (!lua_isnoneornil(L, 1)) {
    lua_Integer i, len;
    luaL_checktype(L, 1, LUA_TTABLE);
    len = (lua_Integer)lua_rawlen(L, 1);
    for (i = 1; i <= len; i++) {
      lua_rawgeti(L, 1, i);
      if (lua_type(L, -1) != LUA_TSTRING) luaL_argerror(L, 1, "list of strings expected");
      setbox_add(L, b, -1);
      lua_pop(L, 1);
    }
  }
  return 1;
}

/* ---- options ---- */

static void read_opts(lua_State *L, int o, Cfg *c) {
  int t;
  if (lua_isnoneornil(L, o)) return;
  luaL_checktype(L, o, LUA_TTABLE);
  t = lua_getfield(L, o, "keep_prefix");
  if (t != LUA_TNIL) c->keep_prefix = lua_toboolean(L, -1);
  lua_pop(L, 1);
  t = lua_getfield(L, o, "shared");
  if (t != LUA_TNIL) c->shared = lua_toboolean(L, -1);
  lua_pop(L, 1);
  t = lua_getfield(L, o, "max_depth");
  if (t != LUA_TNIL) {
    int ok;
    lua_Integer d = lua_tointegerx(L, -1, &ok);
    luaL_argcheck(L, ok && d >= 1 && d <= 10000, o, "opts.max_depth must be an integer in 1..10000");
    c->max_depth = (int)d;
  }
  lua_pop(L, 1);
  t = lua_getfield(L, o, "keys");
  if (t != LUA_TNIL) {
    lua_Integer i, len;
    luaL_argcheck(L, t == LUA_TTABLE, o, "opts.keys must be a list of strings");
    len = (lua_Integer)lua_rawlen(L, -1);
    luaL_argcheck(L, len <= MAX_XKEYS, o, "opts.keys: too many keys (at most 64)");
    for (i = 1; i <= len; i++) {
      size_t kn, j, m = 0;
      const char *k;
      char buf[KEY_SCAN_MAX];
      lua_rawgeti(L, -1, i);
      luaL_argcheck(L, lua_type(L, -1) == LUA_TSTRING, o, "opts.keys must be a list of strings");
      k = lua_tolstring(L, -1, &kn);
      for (j = 0; j < kn && m < sizeof buf; j++)
        if (is_alnum((unsigned char)k[j])) buf[m++] = (char)to_lower((unsigned char)k[j]);
      lua_pop(L, 1);
      if (m == 0) continue;
      lua_pushlstring(L, buf, m);
      c->X.k[c->X.n] = lua_tostring(L, -1);
      c->X.len[c->X.n] = m;
      c->X.n++;
      lua_rawseti(L, SLOT(c, SLOT_XKEYS), c->X.n);   /* keeps the string alive */
    }
  }
  lua_pop(L, 1);
  t = lua_getfield(L, o, "patterns");
  if (t != LUA_TNIL) {
    lua_Integer i, len;
    luaL_argcheck(L, t == LUA_TTABLE, o, "opts.patterns must be a list of functions");
    len = (lua_Integer)lua_rawlen(L, -1);
    for (i = 1; i <= len; i++) {
      int ft = lua_rawgeti(L, -1, i);
      lua_pop(L, 1);
      luaL_argcheck(L, ft == LUA_TFUNCTION, o,
                    "opts.patterns must be functions (dana.sanitize compiles LPeg patterns)");
    }
    luaL_argcheck(L, len <= 1000, o, "opts.patterns: too many patterns");
    c->npatterns = (int)len;
    lua_replace(L, SLOT(c, SLOT_PATTERNS));
  } else {
    lua_pop(L, 1);
  }
  t = lua_getfield(L, o, "secrets");
  if (t == LUA_TUSERDATA) {
    c->reg = check_setbox(L, -1)->set;
    lua_replace(L, SLOT(c, SLOT_SET));
  } else if (t == LUA_TTABLE) {
    lua_Integer i, len = (lua_Integer)lua_rawlen(L, -1);
    SetBox *b = new_setbox(L);
    for (i = 1; i <= len; i++) {
      lua_rawgeti(L, -2, i);
      luaL_argcheck(L, lua_type(L, -1) == LUA_TSTRING, o, "opts.secrets must be strings");
      setbox_add(L, b, -1);
      lua_pop(L, 1);
    }
    c->reg = b->set;
    lua_replace(L, SLOT(c, SLOT_SET));
    lua_pop(L, 1);
  } else {
    luaL_argcheck(L, t == LUA_TNIL, o, "opts.secrets must be a list of strings or a dana.SecretSet");
    lua_pop(L, 1);
  }
}

static void cfg_init(lua_State *L, Cfg *c) {
  int k;
  memset(c, 0, sizeof *c);
  c->shared = 1;
  c->max_depth = DANA_SANITIZE_MAX_DEPTH;
  c->base = lua_gettop(L);
  luaL_checkstack(L, NSLOTS + 8, "sanitize");
  for (k = 1; k <= NSLOTS; k++) {
    if (k == SLOT_PATTERNS || k == SLOT_SCRATCH || k == SLOT_SET) lua_pushnil(L);
    else lua_newtable(L);
  }
  lua_newuserdatauv(L, sizeof(Range), 0);
  lua_replace(L, SLOT(c, SLOT_SCRATCH));
  c->scratch_cap = 1;
}

/***
Returns a sanitized deep copy of a value.
@function sanitize
@param value any value (tables are copied, depth-capped and cycle-safe)
@tparam[opt] table opts `shared` (default true), `keep_prefix`, `max_depth`,
  `keys` (extra key words), `patterns` (functions s -> {{start, stop}, ...}),
  `secrets` (list of strings or a dana.SecretSet)
@return the sanitized copy
*/
static int l_sanitize(lua_State *L) {
  Cfg c;
  luaL_checkany(L, 1);
  lua_settop(L, 2);
  cfg_init(L, &c);
  read_opts(L, 2, &c);
  san_value(L, &c, 1, 0, 0);
  return 1;
}

/***
Sensitivity class of a key name: 0 plain, 1 password, 2 token, 3 auth, 4 cookie.
@function key_class
@tparam string key
@treturn integer
*/
static int l_key_class(lua_State *L) {
  size_t n;
  const char *k = luaL_checklstring(L, 1, &n);
  lua_pushinteger(L, dana_sanitize_key_class(k, n));
  return 1;
}

void dana_sanitize_push_value(lua_State *L, int idx, const DanaSecretSet *reg, int shared) {
  Cfg c;
  idx = lua_absindex(L, idx);
  cfg_init(L, &c);
  c.shared = shared;
  c.reg = reg;
  san_value(L, &c, idx, 0, 0);
  lua_replace(L, c.base + 1);
  lua_settop(L, c.base + 1);
}

static const luaL_Reg set_methods[] = {
  {"add", l_set_add},
  {"count", l_set_count},
  {"clear", l_set_clear},
  {"mask", l_set_mask},
  {"close", l_set_close},
  {NULL, NULL}
};

static const luaL_Reg set_meta[] = {
  {"__gc", l_set_close},
  {"__close", l_set_close},
  {"__tostring", l_set_tostring},
  {"__index", NULL},
  {NULL, NULL}
};

void dana_sanitize_open(lua_State *L) {
  luaL_checkstack(L, 4, "dana_sanitize_open");
  if (luaL_newmetatable(L, SECRETSET_MT)) {
    luaL_setfuncs(L, set_meta, 0);
    luaL_newlib(L, set_methods);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, l_sanitize);
  lua_setfield(L, -2, "sanitize");
  lua_pushcfunction(L, l_secretset);
  lua_setfield(L, -2, "secretset");
  lua_pushcfunction(L, l_key_class);
  lua_setfield(L, -2, "key_class");
}
