/*
** audit.c: the hash-chained audit writer ("dana.Audit").
**
** One JSON line per event, fields in a fixed order (see audit.h). The chain:
** hash(n) = H(prefix(n)), where prefix(n) is line n up to and including its
** "prev" field (the previous entry's hash, 64 zeros for the first), and H is
** SHA-256, or HMAC-SHA-256 with the chain key when one is given. A sidecar
** FILE.head holds the last seq and hash (plus a MAC with the chain key), so a
** truncated tail is detected too. Everything lives in the userdata: no globals.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "dana_internal.h"
#include "audit.h"

#define HASHLEN 32
#define HEXLEN 64
#define MAX_KEY 256
#define MIN_KEY 16
#if !defined(DANA_AUDIT_MAX_RING)
#define DANA_AUDIT_MAX_RING 1000000
#endif
#define DEFAULT_RING 1000
/* The longest line we can write: 9 string fields of MAX_FIELD bytes + "...",
** each byte escaped to at most 6, plus the fixed part. */
#define MAX_LINE (9 * (6 * DANA_AUDIT_MAX_FIELD + 32) + 1024)

/* String fields, in line order. */
enum { F_TENANT, F_AGENT, F_USER, F_SESSION, F_ROLE, F_OP, F_RESOURCE, F_DECISION,
       F_DETAIL, NFIELDS };
static const char *const field_names[NFIELDS] = {
  "tenant", "agent", "user", "session", "role", "op", "resource", "decision", "detail"
};

static const char *const op_names[] = {
  "read", "write", "delete", "call", "import", "deny", "limit", "escalate", "anomaly", NULL
};

static const char *const level_names[] = { "none", "metadata", "all", NULL };

/* A ring entry: one malloc block, strings packed after the header. */
typedef struct RingEntry {
  unsigned long long seq;
  char ts[32];
  char vhash[HEXLEN + 1];      /* "" when null */
  char prev[HEXLEN + 1], hash[HEXLEN + 1];
  const char *f[NFIELDS];      /* NULL when null */
  size_t fl[NFIELDS];
  const char *line;
  size_t linelen;
} RingEntry;

struct DanaAudit {
  int closed;
  int broken;                  /* sticky after a file error */
  DanaAuditLevel level;
  int public_reads;
  int do_fsync;
  int shani;                   /* use the SHA-extension SHA-256 */
  int fd, hfd;                 /* -1 when absent */
  int cbref;                   /* LUA_NOREF when no callback sink */
  const lua_State *owner;      /* main thread of the state holding cbref */
  unsigned long long seq;      /* last written */
  unsigned char prev[HASHLEN];
  unsigned char key[MAX_KEY];  /* value HMAC key */
  size_t keylen;
  unsigned char ckey[MAX_KEY]; /* chain key; ckeylen 0 = plain SHA-256 */
  size_t ckeylen;
  crypto_auth_hmacsha256_state kst, cst;  /* HMAC states after absorbing the keys */
  char *buf;                   /* line buffer */
  size_t cap;
  RingEntry **ring;
  size_t ringcap, ringn, ringstart;
  char *path, *hpath;
  char *tenant;                /* default tenant */
  size_t tenantlen;
  char brokenmsg[200];
};


/* ----------------------------------------------------------------- SHA-256 */

/* SHA-256 with the x86 SHA extensions, selected at run time (cpuid); the
** portable libsodium code otherwise. The chain hash is the audit writer's
** hot spot: libsodium's SHA-256 costs about 2 us for a 460-byte line. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(DANA_NO_SHANI)
#include <cpuid.h>
#include <immintrin.h>
#define DANA_HAVE_SHANI 1

static const uint32_t sha256_k[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

static int cpu_has_shani(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  if (!(c & (1u << 9)) || !(c & (1u << 19))) return 0;      /* SSSE3, SSE4.1 */
  if (__get_cpuid_max(0, NULL) < 7) return 0;
  __cpuid_count(7, 0, a, b, c, d);
  return (b >> 29) & 1u;                                      /* SHA */
}

__attribute__((target("sha,sse4.1,ssse3")))
static void sha256_blocks_shani(uint32_t state[8], const unsigned char *data, size_t nblocks) {
  const __m128i mask = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
  __m128i s0, s1, tmp, msg, w[16], abef, cdgh;
  int i;
  tmp = _mm_loadu_si128((const __m128i *)(const void *)&state[0]);
  s1 = _mm_loadu_si128((const __m128i *)(const void *)&state[4]);
  tmp = _mm_shuffle_epi32(tmp, 0xB1);            /* CDAB */
  s1 = _mm_shuffle_epi32(s1, 0x1B);              /* EFGH */
  s0 = _mm_alignr_epi8(tmp, s1, 8);              /* ABEF */
  s1 = _mm_blend_epi16(s1, tmp, 0xF0);           /* CDGH */
  while (nblocks-- > 0) {
    abef = s0;
    cdgh = s1;
    for (i = 0; i < 16; i++) {
      if (i < 4)
        w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(data + 16 * i)), mask);
      else
        w[i] = _mm_sha256msg2_epu32(
                 _mm_add_epi32(_mm_sha256msg1_epu32(w[i - 4], w[i - 3]),
                               _mm_alignr_epi8(w[i - 1], w[i - 2], 4)),
                 w[i - 1]);
      msg = _mm_add_epi32(w[i], _mm_loadu_si128((const __m128i *)(const void *)&sha256_k[4 * i]));
      s1 = _mm_sha256rnds2_epu32(s1, s0, msg);
      msg = _mm_shuffle_epi32(msg, 0x0E);
      s0 = _mm_sha256rnds2_epu32(s0, s1, msg);
    }
    s0 = _mm_add_epi32(s0, abef);
    s1 = _mm_add_epi32(s1, cdgh);
    data += 64;
  }
  tmp = _mm_shuffle_epi32(s0, 0x1B);             /* FEBA */
  s1 = _mm_shuffle_epi32(s1, 0xB1);              /* DCHG */
  s0 = _mm_blend_epi16(tmp, s1, 0xF0);           /* DCBA */
  s1 = _mm_alignr_epi8(s1, tmp, 8);              /* HGFE */
  _mm_storeu_si128((__m128i *)(void *)&state[0], s0);
  _mm_storeu_si128((__m128i *)(void *)&state[4], s1);
}

static void sha256_shani(const unsigned char *d, size_t n, unsigned char out[32]) {
  uint32_t st[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
  unsigned char tail[128];
  size_t full = n / 64, rem = n % 64, tl, i;
  unsigned long long bits = (unsigned long long)n * 8u;
  sha256_blocks_shani(st, d, full);
  memcpy(tail, d + full * 64, rem);
  tail[rem] = 0x80;
  tl = rem + 1 + 8 <= 64 ? 64 : 128;
  memset(tail + rem + 1, 0, tl - rem - 1 - 8);
  for (i = 0; i < 8; i++) tail[tl - 1 - i] = (unsigned char)(bits >> (8 * i));
  sha256_blocks_shani(st, tail, tl / 64);
  for (i = 0; i < 8; i++) {
    out[4 * i] = (unsigned char)(st[i] >> 24);
    out[4 * i + 1] = (unsigned char)(st[i] >> 16);
    out[4 * i + 2] = (unsigned char)(st[i] >> 8);
    out[4 * i + 3] = (unsigned char)st[i];
  }
}
#else
static int cpu_has_shani(void) { return 0; }
#endif

/* SHA-256; fast selects the SHA-extension code (cpu_has_shani() was true). */
static void sha256(int fast, const void *data, size_t n, unsigned char out[32]) {
#if defined(DANA_HAVE_SHANI)
  if (fast) { sha256_shani((const unsigned char *)data, n, out); return; }
#else
  (void)fast;
#endif
  crypto_hash_sha256(out, (const unsigned char *)data, n);
}


/* ---------------------------------------------------------------- helpers */

static void set_err(char *err, size_t errlen, const char *fmt, const char *a, const char *b) {
  if (err != NULL && errlen > 0) snprintf(err, errlen, fmt, a ? a : "", b ? b : "");
}

static void tohex(const unsigned char *h, size_t n, char *out) {
  static const char hexd[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < n; i++) {
    out[2 * i] = hexd[h[i] >> 4];
    out[2 * i + 1] = hexd[h[i] & 15];
  }
  out[2 * n] = '\0';
}

static int fromhex(const char *s, unsigned char *out, size_t n) {
  size_t i;
  for (i = 0; i < 2 * n; i++) {
    int c = (unsigned char)s[i], v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else return 0;
    if (i & 1) out[i / 2] = (unsigned char)(out[i / 2] | v);
    else out[i / 2] = (unsigned char)(v << 4);
  }
  return 1;
}

static void hmac(const unsigned char *key, size_t keylen, const void *data, size_t n,
                 unsigned char out[HASHLEN]) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key, keylen);
  crypto_auth_hmacsha256_update(&st, (const unsigned char *)data, n);
  crypto_auth_hmacsha256_final(&st, out);
  sodium_memzero(&st, sizeof st);
}

/* HMAC from a state that has already absorbed the key (saves two blocks). */
static void hmac_from(const crypto_auth_hmacsha256_state *base, const void *data, size_t n,
                      unsigned char out[HASHLEN]) {
  crypto_auth_hmacsha256_state st = *base;
  crypto_auth_hmacsha256_update(&st, (const unsigned char *)data, n);
  crypto_auth_hmacsha256_final(&st, out);
  sodium_memzero(&st, sizeof st);
}

static void chain_hash(const DanaAudit *au, const void *data, size_t n, unsigned char out[HASHLEN]) {
  if (au->ckeylen > 0) hmac_from(&au->cst, data, n, out);
  else sha256(au->shani, data, n, out);
}

static int find_name(const char *const *names, const char *s) {
  int i;
  if (s == NULL) return -1;
  for (i = 0; names[i]; i++) if (strcmp(names[i], s) == 0) return i;
  return -1;
}

/* Makes room for n more bytes at offset used; 0 on overflow/out of memory. */
static int reserve(DanaAudit *au, size_t used, size_t n) {
  size_t need, ncap;
  char *nb;
  if (n > (size_t)-1 - used) return 0;
  need = used + n;
  if (need <= au->cap) return 1;
  ncap = au->cap ? au->cap : 1024;
  while (ncap < need) {
    if (ncap > (size_t)-1 / 2) return 0;
    ncap *= 2;
  }
  nb = (char *)realloc(au->buf, ncap);
  if (nb == NULL) return 0;
  au->buf = nb;
  au->cap = ncap;
  return 1;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t len, i;
  unsigned long cp;
  if (c < 0xc2) return 0;
  if (c < 0xe0) { len = 2; cp = c & 0x1f; }
  else if (c < 0xf0) { len = 3; cp = c & 0x0f; }
  else if (c < 0xf5) { len = 4; cp = c & 0x07; }
  else return 0;
  if (len > n) return 0;
  for (i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
      || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return len;
}

/* Appends s as a JSON string (or null) at b; returns the new end. The buffer
** must have 6 * n + 2 bytes free. Control bytes, '"', '\\' and DEL are
** escaped; valid UTF-8 is copied; an invalid byte is written as the text
** \xNN (JSON "\\xNN"), so the line is always valid UTF-8 JSON. */
static char *put_json(char *b, const char *s, size_t n) {
  static const char hexd[] = "0123456789abcdef";
  size_t i = 0;
  if (s == NULL) { memcpy(b, "null", 4); return b + 4; }
  *b++ = '"';
  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') { *b++ = (char)c; i++; }
    else if (c == '"' || c == '\\') { *b++ = '\\'; *b++ = (char)c; i++; }
    else if (c == '\n') { *b++ = '\\'; *b++ = 'n'; i++; }
    else if (c == '\t') { *b++ = '\\'; *b++ = 't'; i++; }
    else if (c == '\r') { *b++ = '\\'; *b++ = 'r'; i++; }
    else if (c < 0x80) {
      memcpy(b, "\\u00", 4);
      b[4] = hexd[c >> 4];
      b[5] = hexd[c & 15];
      b += 6;
      i++;
    }
    else {
      size_t l = utf8_len((const unsigned char *)s + i, n - i);
      if (l > 0) { memcpy(b, s + i, l); b += l; i += l; }
      else {
        b[0] = '\\'; b[1] = '\\'; b[2] = 'x';
        b[3] = hexd[c >> 4];
        b[4] = hexd[c & 15];
        b += 5;
        i++;
      }
    }
  }
  *b++ = '"';
  return b;
}

static void utc_timestamp(char out[32]) {
  struct timespec ts;
  struct tm tm;
  size_t n;
  unsigned ms;
  clock_gettime(CLOCK_REALTIME, &ts);
  ms = (unsigned)(ts.tv_nsec / 1000000) % 1000u;
  gmtime_r(&ts.tv_sec, &tm);
  n = strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
  if (n == 0) { memcpy(out, "1970-01-01T00:00:00", 20); n = 19; }
  out[n] = '.';
  out[n + 1] = (char)('0' + ms / 100);
  out[n + 2] = (char)('0' + ms / 10 % 10);
  out[n + 3] = (char)('0' + ms % 10);
  out[n + 4] = 'Z';
  out[n + 5] = '\0';
}

/* Writes all n bytes; 0 with errno set on failure. */
static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return 0;
    }
    if (w == 0) { errno = EIO; return 0; }
    p += w;
    n -= (size_t)w;
  }
  return 1;
}

static int pwrite_all(int fd, const char *p, size_t n, off_t off) {
  while (n > 0) {
    ssize_t w = pwrite(fd, p, n, off);
    if (w < 0) {
      if (errno == EINTR) continue;
      return 0;
    }
    if (w == 0) { errno = EIO; return 0; }
    p += w;
    n -= (size_t)w;
    off += w;
  }
  return 1;
}

/* The head line for (seq, hash): {"seq":N,"hash":"..."[,"mac":"..."]}\n */
static size_t format_head(const DanaAudit *au, unsigned long long seq,
                          const unsigned char hash[HASHLEN], char *out, size_t outlen) {
  char hx[HEXLEN + 1], mx[HEXLEN + 1];
  int n;
  tohex(hash, HASHLEN, hx);
  if (au->ckeylen > 0) {
    char msg[128];
    unsigned char mac[HASHLEN];
    int m = snprintf(msg, sizeof msg, "dana-audit-head:%llu:%s", seq, hx);
    hmac(au->ckey, au->ckeylen, msg, (size_t)m, mac);
    tohex(mac, HASHLEN, mx);
    n = snprintf(out, outlen, "{\"seq\":%llu,\"hash\":\"%s\",\"mac\":\"%s\"}\n", seq, hx, mx);
  }
  else n = snprintf(out, outlen, "{\"seq\":%llu,\"hash\":\"%s\"}\n", seq, hx);
  return n > 0 ? (size_t)n : 0;
}

static void mark_broken(DanaAudit *au, const char *what, char *err, size_t errlen) {
  int e = errno;
  au->broken = 1;
  snprintf(au->brokenmsg, sizeof au->brokenmsg, "audit: %s %s failed: %s", what,
           au->path ? au->path : "?", strerror(e));
  set_err(err, errlen, "%s%s", au->brokenmsg, NULL);
}


/* ------------------------------------------------------------------ ring */

static void ring_free(DanaAudit *au) {
  size_t i;
  if (au->ring == NULL) return;
  for (i = 0; i < au->ringn; i++) free(au->ring[(au->ringstart + i) % au->ringcap]);
  free(au->ring);
  au->ring = NULL;
  au->ringn = au->ringstart = 0;
}

static int ring_push(DanaAudit *au, const char *const *f, const size_t *fl, const char *ts,
                     const char *vhash, const char *prevhex, const char *hashhex,
                     const char *line, size_t linelen) {
  size_t total = sizeof(RingEntry), i;
  RingEntry *e;
  char *p;
  for (i = 0; i < NFIELDS; i++) if (f[i]) total += fl[i] + 1;   /* bounded by MAX_FIELD */
  total += linelen + 1;
  e = (RingEntry *)malloc(total);
  if (e == NULL) return 0;
  p = (char *)(e + 1);
  e->seq = au->seq;
  snprintf(e->ts, sizeof e->ts, "%s", ts);
  snprintf(e->vhash, sizeof e->vhash, "%s", vhash ? vhash : "");
  memcpy(e->prev, prevhex, HEXLEN + 1);
  memcpy(e->hash, hashhex, HEXLEN + 1);
  for (i = 0; i < NFIELDS; i++) {
    if (f[i] == NULL) { e->f[i] = NULL; e->fl[i] = 0; continue; }
    memcpy(p, f[i], fl[i]);
    p[fl[i]] = '\0';
    e->f[i] = p;
    e->fl[i] = fl[i];
    p += fl[i] + 1;
  }
  memcpy(p, line, linelen);
  p[linelen] = '\0';
  e->line = p;
  e->linelen = linelen;
  if (au->ringn == au->ringcap) {          /* drop the oldest */
    free(au->ring[au->ringstart]);
    au->ring[au->ringstart] = e;
    au->ringstart = (au->ringstart + 1) % au->ringcap;
  }
  else {
    au->ring[(au->ringstart + au->ringn) % au->ringcap] = e;
    au->ringn++;
  }
  return 1;
}


/* ---------------------------------------------------------------- record */

static const lua_State *main_thread(lua_State *L) {
  const lua_State *m;
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  m = lua_tothread(L, -1);
  lua_pop(L, 1);
  return m;
}

static int is_scope(const char *res, const char *scope, size_t n) {
  return strncmp(res, scope, n) == 0 && (res[n] == ':' || res[n] == '.');
}

int dana_audit_wants(const DanaAudit *au, const char *op, const char *resource,
                     const char *decision) {
  if (au == NULL || au->closed || au->level == DANA_AUDIT_NONE) return 0;
  if (au->public_reads || op == NULL || strcmp(op, "read") != 0) return 1;
  if (decision == NULL || strcmp(decision, "allow") != 0) return 1;
  if (resource == NULL) return 1;
  if (is_scope(resource, "private", 7) || is_scope(resource, "system", 6)) return 1;
  return 0;     /* an allowed read of public: or local: (or an unscoped name) */
}

int dana_audit_record(lua_State *L, DanaAudit *au, const DanaAuditEvent *ev,
                      char *err, size_t errlen) {
  const char *f[NFIELDS];
  size_t fl[NFIELDS], used, i;
  int cut[NFIELDS];
  char ts[32], vhex[HEXLEN + 1], phex[HEXLEN + 1], hhex[HEXLEN + 1], seqs[32];
  unsigned char h[HASHLEN];
  char *b;
  int havev = 0;
  if (au == NULL || au->closed) {
    set_err(err, errlen, "audit: the log is closed%s%s", NULL, NULL);
    return 0;
  }
  if (au->broken) {
    set_err(err, errlen, "%s (the log is refused until reopened)%s", au->brokenmsg, NULL);
    return 0;
  }
  if (ev == NULL || find_name(op_names, ev->op) < 0) {
    set_err(err, errlen, "audit: unknown op '%.40s'%s", ev && ev->op ? ev->op : "(none)", NULL);
    return 0;
  }
  if (ev->resource == NULL || ev->decision == NULL) {
    set_err(err, errlen, "audit: event without %s%s", ev->resource == NULL ? "resource" : "decision", NULL);
    return 0;
  }
  if (!dana_audit_wants(au, ev->op, ev->resource, ev->decision)) return 1;
  f[F_TENANT] = ev->tenant;     fl[F_TENANT] = ev->tenant_len;
  f[F_AGENT] = ev->agent;       fl[F_AGENT] = ev->agent_len;
  f[F_USER] = ev->user;         fl[F_USER] = ev->user_len;
  f[F_SESSION] = ev->session;   fl[F_SESSION] = ev->session_len;
  f[F_ROLE] = ev->role;         fl[F_ROLE] = ev->role_len;
  f[F_OP] = ev->op;             fl[F_OP] = 0;
  f[F_RESOURCE] = ev->resource; fl[F_RESOURCE] = ev->resource_len;
  f[F_DECISION] = ev->decision; fl[F_DECISION] = ev->decision_len;
  f[F_DETAIL] = ev->detail;     fl[F_DETAIL] = ev->detail_len;
  for (i = 0; i < NFIELDS; i++) {
    cut[i] = 0;
    if (f[i] == NULL) continue;
    if (fl[i] == 0) fl[i] = strlen(f[i]);
  }
  if (f[F_TENANT] == NULL && au->tenant != NULL) {   /* the log's default tenant */
    f[F_TENANT] = au->tenant;
    fl[F_TENANT] = au->tenantlen;
  }
  for (i = 0; i < NFIELDS; i++)
    if (f[i] != NULL && fl[i] > DANA_AUDIT_MAX_FIELD) { fl[i] = DANA_AUDIT_MAX_FIELD; cut[i] = 1; }
  if (ev->value != NULL && au->level == DANA_AUDIT_ALL) {
    hmac_from(&au->kst, ev->value, ev->value_len, h);
    tohex(h, HASHLEN, vhex);
    havev = 1;
  }
  utc_timestamp(ts);
  tohex(au->prev, HASHLEN, phex);
  snprintf(seqs, sizeof seqs, "%llu", au->seq + 1);
  if (!reserve(au, 0, MAX_LINE)) {
    set_err(err, errlen, "audit: not enough memory%s%s", NULL, NULL);
    return 0;
  }
  /* the prefix that the hash covers */
  b = au->buf;
  b += sprintf(b, "{\"seq\":%s,\"timestamp\":\"%s\"", seqs, ts);
  for (i = 0; i < F_DETAIL; i++) {
    *b++ = ',';
    *b++ = '"';
    memcpy(b, field_names[i], strlen(field_names[i]));
    b += strlen(field_names[i]);
    *b++ = '"';
    *b++ = ':';
    b = put_json(b, f[i], fl[i]);
    if (cut[i]) { b -= 1; memcpy(b, "...\"", 4); b += 4; }
  }
  memcpy(b, ",\"value_hash\":", 14);
  b += 14;
  if (havev) { *b++ = '"'; memcpy(b, vhex, HEXLEN); b += HEXLEN; *b++ = '"'; }
  else { memcpy(b, "null", 4); b += 4; }
  memcpy(b, ",\"detail\":", 10);
  b += 10;
  b = put_json(b, f[F_DETAIL], fl[F_DETAIL]);
  if (cut[F_DETAIL]) { b -= 1; memcpy(b, "...\"", 4); b += 4; }
  b += sprintf(b, ",\"prev\":\"%s\"", phex);
  used = (size_t)(b - au->buf);
  chain_hash(au, au->buf, used, h);
  tohex(h, HASHLEN, hhex);
  b += sprintf(b, ",\"hash\":\"%s\"}\n", hhex);
  used = (size_t)(b - au->buf);
  /* sinks: file, then head, then ring, then callback */
  if (au->fd >= 0) {
    if (!write_all(au->fd, au->buf, used)) { mark_broken(au, "write to", err, errlen); return 0; }
    if (au->hfd >= 0) {
      char hb[256];
      size_t hn = format_head(au, au->seq + 1, h, hb, sizeof hb);
      if (!pwrite_all(au->hfd, hb, hn, 0)) { mark_broken(au, "head write for", err, errlen); return 0; }
    }
    if (au->do_fsync) {
      if (fsync(au->fd) != 0) { mark_broken(au, "fsync of", err, errlen); return 0; }
      if (au->hfd >= 0 && fsync(au->hfd) != 0) { mark_broken(au, "head fsync for", err, errlen); return 0; }
    }
  }
  au->seq++;
  memcpy(au->prev, h, HASHLEN);
  if (au->ringcap > 0) {
    if (!ring_push(au, f, fl, ts, havev ? vhex : NULL, phex, hhex, au->buf, used - 1)) {
      set_err(err, errlen, "audit: not enough memory for the ring%s%s", NULL, NULL);
      return 0;
    }
  }
  if (au->cbref != LUA_NOREF && au->cbref != LUA_REFNIL) {
    int st;
    if (L == NULL || !lua_checkstack(L, 4) || main_thread(L) != au->owner) {
      set_err(err, errlen, "audit: the callback sink needs a thread of the state that opened the log%s%s",
              NULL, NULL);
      return 0;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, au->cbref);
    lua_pushlstring(L, au->buf, used - 1);
    st = lua_pcall(L, 1, 2, 0);
    if (st != LUA_OK) {
      const char *m = lua_tostring(L, -1);
      set_err(err, errlen, "audit: callback failed: %.200s%s", m ? m : "(error object)", NULL);
      lua_pop(L, 1);
      return 0;
    }
    if (lua_type(L, -2) == LUA_TBOOLEAN && !lua_toboolean(L, -2)) {
      const char *m = lua_tostring(L, -1);
      set_err(err, errlen, "audit: callback refused the entry: %.200s%s", m ? m : "false", NULL);
      lua_pop(L, 2);
      return 0;
    }
    lua_pop(L, 2);
  }
  return 1;
}

unsigned long long dana_audit_head(const DanaAudit *au, char *hex65) {
  if (hex65 != NULL) tohex(au->prev, HASHLEN, hex65);
  return au->seq;
}

DanaAuditLevel dana_audit_level(const DanaAudit *au) {
  return au->level;
}


/* ------------------------------------------------------------ open/close */

static void audit_close(lua_State *L, DanaAudit *au) {
  if (au->closed) return;
  au->closed = 1;
  if (au->fd >= 0) close(au->fd);
  if (au->hfd >= 0) close(au->hfd);
  au->fd = au->hfd = -1;
  if (au->cbref != LUA_NOREF) {
    luaL_unref(L, LUA_REGISTRYINDEX, au->cbref);
    au->cbref = LUA_NOREF;
  }
  ring_free(au);
  free(au->buf);
  free(au->path);
  free(au->hpath);
  free(au->tenant);
  au->buf = au->path = au->hpath = au->tenant = NULL;
  au->cap = 0;
  sodium_memzero(au->key, sizeof au->key);
  sodium_memzero(au->ckey, sizeof au->ckey);
  sodium_memzero(&au->kst, sizeof au->kst);
  sodium_memzero(&au->cst, sizeof au->cst);
}

static char *dupmem(const char *s, size_t n) {
  char *r = (char *)malloc(n + 1);
  if (r) { memcpy(r, s, n); r[n] = '\0'; }
  return r;
}

/* Reads the whole (small) file fd into out (up to outlen-1 bytes). */
static ssize_t read_small(int fd, char *out, size_t outlen) {
  size_t got = 0;
  while (got < outlen - 1) {
    ssize_t r = pread(fd, out + got, outlen - 1 - got, (off_t)got);
    if (r < 0) { if (errno == EINTR) continue; return -1; }
    if (r == 0) break;
    got += (size_t)r;
  }
  out[got] = '\0';
  return (ssize_t)got;
}

/* Parses `{"seq":N,` at the start of s; 0 if absent. */
static int parse_seq(const char *s, unsigned long long *seq) {
  const char *p = s + 7;
  unsigned long long v = 0;
  if (strncmp(s, "{\"seq\":", 7) != 0 || *p < '0' || *p > '9') return 0;
  while (*p >= '0' && *p <= '9') {
    if (v > (18446744073709551615ULL - 9) / 10) return 0;
    v = v * 10 + (unsigned long long)(*p++ - '0');
  }
  if (*p != ',') return 0;
  *seq = v;
  return 1;
}

/* Resumes the chain of an existing regular file (path, fd open for append)
** from its last line, checked against the head file when there is one (hfd).
** Returns NULL or an error message (in msg). */
static const char *resume(DanaAudit *au, char *msg, size_t msglen) {
  int rfd;
  struct stat st;
  char hb[256];
  ssize_t hn;
  unsigned long long hseq = 0;
  unsigned char hhash[HASHLEN];
  int have_head = 0;
  memset(hhash, 0, sizeof hhash);
  hn = au->hfd >= 0 ? read_small(au->hfd, hb, sizeof hb) : 0;
  if (hn < 0) { snprintf(msg, msglen, "audit: cannot read %s: %s", au->hpath, strerror(errno)); return msg; }
  if (hn > 0) {
    const char *hp = strstr(hb, "\"hash\":\"");
    if (!parse_seq(hb, &hseq) || hp == NULL || strlen(hp + 8) < HEXLEN + 1
        || !fromhex(hp + 8, hhash, HASHLEN)) {
      snprintf(msg, msglen, "audit: %s is not a valid head file", au->hpath);
      return msg;
    }
    if (au->ckeylen > 0) {
      char expect[256];
      format_head(au, hseq, hhash, expect, sizeof expect);
      if (strcmp(expect, hb) != 0) {
        snprintf(msg, msglen, "audit: the MAC of %s does not match (wrong chain key or tampered head)", au->hpath);
        return msg;
      }
    }
    have_head = 1;
  }
  if (fstat(au->fd, &st) != 0) { snprintf(msg, msglen, "audit: cannot stat %s: %s", au->path, strerror(errno)); return msg; }
  if (st.st_size == 0) {
    if (have_head && hseq > 0) {
      snprintf(msg, msglen, "audit: %s is empty but %s says seq %llu (truncated log)", au->path, au->hpath, hseq);
      return msg;
    }
    return NULL;                              /* a fresh log */
  }
  if (!have_head && au->hfd >= 0) {
    snprintf(msg, msglen, "audit: %s has entries but no head file %s", au->path, au->hpath);
    return msg;
  }
  rfd = open(au->path, O_RDONLY | O_CLOEXEC);
  if (rfd < 0) { snprintf(msg, msglen, "audit: cannot read %s: %s", au->path, strerror(errno)); return msg; }
  {
    size_t want = (size_t)st.st_size < (size_t)MAX_LINE + 1 ? (size_t)st.st_size : (size_t)MAX_LINE + 1;
    off_t off = st.st_size - (off_t)want;
    size_t got = 0, k;
    unsigned long long lseq;
    const char *line, *hp;
    unsigned char lhash[HASHLEN];
    if (!reserve(au, 0, want + 1)) { close(rfd); snprintf(msg, msglen, "audit: not enough memory"); return msg; }
    while (got < want) {
      ssize_t r = pread(rfd, au->buf + got, want - got, off + (off_t)got);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) { close(rfd); snprintf(msg, msglen, "audit: cannot read %s", au->path); return msg; }
      got += (size_t)r;
    }
    close(rfd);
    au->buf[got] = '\0';
    if (au->buf[got - 1] != '\n') {
      snprintf(msg, msglen, "audit: %s does not end with a newline (torn or tampered last entry)", au->path);
      return msg;
    }
    au->buf[got - 1] = '\0';
    k = got - 1;
    while (k > 0 && au->buf[k - 1] != '\n') k--;
    if (k == 0 && off > 0) { snprintf(msg, msglen, "audit: the last line of %s is too long", au->path); return msg; }
    line = au->buf + k;
    hp = strstr(line, ",\"hash\":\"");
    if (!parse_seq(line, &lseq) || hp == NULL || strlen(hp) != 9 + HEXLEN + 2
        || !fromhex(hp + 9, lhash, HASHLEN) || strcmp(hp + 9 + HEXLEN, "\"}") != 0) {
      snprintf(msg, msglen, "audit: the last line of %s is not an audit entry", au->path);
      return msg;
    }
    {         /* the last entry must verify with this log's chain hash (key) */
      unsigned char check[HASHLEN];
      chain_hash(au, line, (size_t)(hp - line), check);
      if (memcmp(check, lhash, HASHLEN) != 0) {
        snprintf(msg, msglen, "audit: the last entry of %s does not verify %s (tampered, or opened with "
                 "another chain_key than it was written with)", au->path,
                 au->ckeylen ? "with this chain_key" : "without a chain_key");
        return msg;
      }
    }
    if (au->hfd >= 0 && (lseq != hseq || memcmp(lhash, hhash, HASHLEN) != 0)) {
      snprintf(msg, msglen, "audit: %s ends at seq %llu but %s says seq %llu: run `dana audit verify`",
               au->path, lseq, au->hpath, hseq);
      return msg;
    }
    au->seq = lseq;
    memcpy(au->prev, lhash, HASHLEN);
  }
  return NULL;
}

/* Fields of the options table. */
static const char *opt_string(lua_State *L, int idx, const char *name, size_t *len) {
  const char *s = NULL;
  lua_getfield(L, idx, name);
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING) {
      lua_pushfstring(L, "audit_open: option '%s' must be a string", name);
      lua_error(L);
    }
    s = lua_tolstring(L, -1, len);
  }
  lua_pop(L, 1);      /* the options table keeps the string alive */
  return s;
}

static int opt_bool(lua_State *L, int idx, const char *name, int def) {
  int v = def;
  lua_getfield(L, idx, name);
  if (!lua_isnil(L, -1)) {
    if (!lua_isboolean(L, -1)) {
      lua_pushfstring(L, "audit_open: option '%s' must be a boolean", name);
      lua_error(L);
    }
    v = lua_toboolean(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

static int fail3(lua_State *L, const char *msg) {
  luaL_pushfail(L);
  lua_pushstring(L, msg);
  lua_pushliteral(L, "EAUDIT");
  return 3;
}

static const char *const open_opts[] = {
  "path", "fsync", "head", "callback", "ring", "level", "key", "chain_key", "tenant",
  "public_reads", NULL
};

/***
Opens an audit log.
@function audit_open
@tparam table opts `{path=, fsync=false, head=true, callback=, ring=, level="all",
  key=, chain_key=, tenant=, public_reads=false}`; with no path and no callback,
  the ring (default 1000 entries) is the only sink
@treturn[1] userdata a `dana.Audit`
@treturn[2] nil
@treturn[2] string message
@treturn[2] string `"EAUDIT"`
*/
static int l_audit_open(lua_State *L) {
  DanaAudit *au;
  const char *path, *key, *ckey, *tenant, *lv;
  size_t pathlen = 0, keylen = 0, ckeylen = 0, tenantlen = 0, lvlen = 0;
  lua_Integer ringcap = -1;
  char msg[512];
  const char *e;
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_argcheck(L, lua_gettop(L) == 1, 2, "too many arguments");
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING || find_name(open_opts, lua_tostring(L, -1)) < 0) {
      lua_pushfstring(L, "audit_open: unknown option '%s'", luaL_tolstring(L, -1, NULL));
      return lua_error(L);
    }
  }
  path = opt_string(L, 1, "path", &pathlen);
  key = opt_string(L, 1, "key", &keylen);
  ckey = opt_string(L, 1, "chain_key", &ckeylen);
  tenant = opt_string(L, 1, "tenant", &tenantlen);
  lv = opt_string(L, 1, "level", &lvlen);
  if (path && strlen(path) != pathlen) luaL_argerror(L, 1, "path contains a NUL byte");
  if (key && (keylen < MIN_KEY || keylen > MAX_KEY)) luaL_argerror(L, 1, "key must be 16 to 256 bytes");
  if (ckey && (ckeylen < MIN_KEY || ckeylen > MAX_KEY)) luaL_argerror(L, 1, "chain_key must be 16 to 256 bytes");
  if (lv && find_name(level_names, lv) < 0) luaL_argerror(L, 1, "level must be 'none', 'metadata' or 'all'");
  if (tenant && tenantlen > DANA_AUDIT_MAX_FIELD) luaL_argerror(L, 1, "tenant too long");
  lua_getfield(L, 1, "ring");
  if (!lua_isnil(L, -1)) {
    int isint;
    ringcap = lua_tointegerx(L, -1, &isint);
    if (!isint || ringcap < 0 || ringcap > DANA_AUDIT_MAX_RING)
      luaL_argerror(L, 1, "ring must be a non-negative integer (at most DANA_AUDIT_MAX_RING)");
  }
  lua_pop(L, 1);
  lua_getfield(L, 1, "callback");
  if (!lua_isnil(L, -1) && !lua_isfunction(L, -1)) luaL_argerror(L, 1, "callback must be a function");
  lua_pop(L, 1);
  au = (DanaAudit *)lua_newuserdatauv(L, sizeof(DanaAudit), 0);
  memset(au, 0, sizeof *au);
  au->fd = au->hfd = -1;
  au->cbref = LUA_NOREF;
  luaL_setmetatable(L, DANA_AUDIT_MT);   /* from here on, __gc cleans up */
  au->level = lv ? (DanaAuditLevel)find_name(level_names, lv) : DANA_AUDIT_ALL;
  au->public_reads = opt_bool(L, 1, "public_reads", 0);
  au->do_fsync = opt_bool(L, 1, "fsync", 0);
  if (key) { memcpy(au->key, key, keylen); au->keylen = keylen; }
  else { randombytes_buf(au->key, 32); au->keylen = 32; }
  if (ckey) { memcpy(au->ckey, ckey, ckeylen); au->ckeylen = ckeylen; }
  au->shani = cpu_has_shani();
  crypto_auth_hmacsha256_init(&au->kst, au->key, au->keylen);
  if (au->ckeylen > 0) crypto_auth_hmacsha256_init(&au->cst, au->ckey, au->ckeylen);
  if (tenant) {
    if ((au->tenant = dupmem(tenant, tenantlen)) == NULL) { audit_close(L, au); return luaL_error(L, "not enough memory"); }
    au->tenantlen = tenantlen;
  }
  if (ringcap < 0) {
    lua_getfield(L, 1, "callback");
    ringcap = (path == NULL && lua_isnil(L, -1)) ? DEFAULT_RING : 0;
    lua_pop(L, 1);
  }
  au->ringcap = (size_t)ringcap;
  if (au->ringcap > 0) {
    au->ring = (RingEntry **)calloc(au->ringcap, sizeof(RingEntry *));
    if (au->ring == NULL) { audit_close(L, au); return luaL_error(L, "not enough memory"); }
  }
  if (path) {
    struct stat st;
    if ((au->path = dupmem(path, pathlen)) == NULL) { audit_close(L, au); return luaL_error(L, "not enough memory"); }
    au->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (au->fd < 0) {
      snprintf(msg, sizeof msg, "audit: cannot open %s: %s", path, strerror(errno));
      audit_close(L, au);
      return fail3(L, msg);
    }
    if (fstat(au->fd, &st) == 0 && S_ISREG(st.st_mode)) {
      int use_head = opt_bool(L, 1, "head", 1);
      if (use_head) {
        size_t hl = pathlen + 6;
        if ((au->hpath = (char *)malloc(hl)) == NULL) { audit_close(L, au); return luaL_error(L, "not enough memory"); }
        memcpy(au->hpath, path, pathlen);
        memcpy(au->hpath + pathlen, ".head", 6);
        au->hfd = open(au->hpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (au->hfd < 0) {
          snprintf(msg, sizeof msg, "audit: cannot open %s: %s", au->hpath, strerror(errno));
          audit_close(L, au);
          return fail3(L, msg);
        }
      }
      if ((e = resume(au, msg, sizeof msg)) != NULL) {
        audit_close(L, au);
        return fail3(L, e);
      }
      if (use_head) {       /* rewrite the head in this log's format (e.g. a MAC added) */
        char hb[256];
        size_t hn = format_head(au, au->seq, au->prev, hb, sizeof hb);
        if (!pwrite_all(au->hfd, hb, hn, 0) || ftruncate(au->hfd, (off_t)hn) != 0) {
          snprintf(msg, sizeof msg, "audit: cannot write %s: %s", au->hpath, strerror(errno));
          audit_close(L, au);
          return fail3(L, msg);
        }
      }
    }
  }
  lua_getfield(L, 1, "callback");
  if (lua_isfunction(L, -1)) {
    au->cbref = luaL_ref(L, LUA_REGISTRYINDEX);
    au->owner = main_thread(L);
  }
  else lua_pop(L, 1);
  return 1;
}


/* ---------------------------------------------------------------- methods */

DanaAudit *dana_audit_test(lua_State *L, int idx) {
  return (DanaAudit *)luaL_testudata(L, idx, DANA_AUDIT_MT);
}

DanaAudit *dana_audit_check(lua_State *L, int idx) {
  DanaAudit *au = (DanaAudit *)luaL_checkudata(L, idx, DANA_AUDIT_MT);
  if (au->closed) luaL_error(L, "attempt to use a closed audit log");
  return au;
}

/* An optional string field of the event table at idx. */
static const char *ev_string(lua_State *L, int idx, const char *name, size_t *len, int required) {
  const char *s = NULL;
  int t = lua_getfield(L, idx, name);
  *len = 0;
  if (t == LUA_TSTRING) s = lua_tolstring(L, -1, len);
  else if (t != LUA_TNIL || required) {
    lua_pushfstring(L, "record: field '%s' must be a string", name);
    lua_error(L);
  }
  lua_pop(L, 1);      /* the event table keeps it alive */
  return s;
}

static const char *const ev_fields[] = {
  "tenant", "agent", "user", "session", "role", "op", "resource", "decision", "detail",
  "value", NULL
};

/***
Records one event.
@function Audit:record
@tparam table ev `{op=, resource=, decision=, tenant=, agent=, user=, session=, role=,
  detail=, value=}`; `value` (string, number or boolean) is only hashed
@treturn[1] boolean true (also when the level skips the event)
@treturn[2] nil
@treturn[2] string why it could not be recorded: refuse the operation
@treturn[2] string `"EAUDIT"`
*/
static int l_record(lua_State *L) {
  DanaAudit *au = dana_audit_check(L, 1);
  DanaAuditEvent ev;
  char err[400];
  int vt;
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_argcheck(L, lua_gettop(L) == 2, 3, "too many arguments");
  lua_pushnil(L);
  while (lua_next(L, 2)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING || find_name(ev_fields, lua_tostring(L, -1)) < 0) {
      lua_pushfstring(L, "record: unknown field '%s'", luaL_tolstring(L, -1, NULL));
      return lua_error(L);
    }
  }
  memset(&ev, 0, sizeof ev);
  {
    size_t oplen;
    ev.op = ev_string(L, 2, "op", &oplen, 1);
    if (find_name(op_names, ev.op) < 0 || strlen(ev.op) != oplen)
      return luaL_argerror(L, 2, "op must be read, write, delete, call, import, deny, limit, escalate or anomaly");
  }
  ev.resource = ev_string(L, 2, "resource", &ev.resource_len, 1);
  ev.decision = ev_string(L, 2, "decision", &ev.decision_len, 1);
  ev.tenant = ev_string(L, 2, "tenant", &ev.tenant_len, 0);
  ev.agent = ev_string(L, 2, "agent", &ev.agent_len, 0);
  ev.user = ev_string(L, 2, "user", &ev.user_len, 0);
  ev.session = ev_string(L, 2, "session", &ev.session_len, 0);
  ev.role = ev_string(L, 2, "role", &ev.role_len, 0);
  ev.detail = ev_string(L, 2, "detail", &ev.detail_len, 0);
  vt = lua_getfield(L, 2, "value");      /* stays on the stack while recording */
  if (vt == LUA_TSTRING || vt == LUA_TNUMBER) ev.value = lua_tolstring(L, -1, &ev.value_len);
  else if (vt == LUA_TBOOLEAN) {
    ev.value = lua_toboolean(L, -1) ? "true" : "false";
    ev.value_len = strlen((const char *)ev.value);
  }
  else if (vt != LUA_TNIL)
    return luaL_argerror(L, 2, "value must be a string, number or boolean (encode tables first)");
  if (!dana_audit_record(L, au, &ev, err, sizeof err)) return fail3(L, err);
  lua_pushboolean(L, 1);
  return 1;
}

/***
The last written entry.
@function Audit:head
@treturn integer seq (0 when empty)
@treturn string hash, 64 hex digits (64 zeros when empty)
*/
static int l_head(lua_State *L) {
  DanaAudit *au = dana_audit_check(L, 1);
  char hx[HEXLEN + 1];
  unsigned long long seq = dana_audit_head(au, hx);
  lua_pushinteger(L, (lua_Integer)seq);
  lua_pushstring(L, hx);
  return 2;
}

static void push_field_or_nil(lua_State *L, const char *s, size_t n, const char *name) {
  if (s == NULL) return;
  lua_pushlstring(L, s, n);
  lua_setfield(L, -2, name);
}

/***
The entries kept in the ring, oldest first.
@function Audit:entries
@treturn table array of `{seq=, timestamp=, tenant=, agent=, user=, session=, role=, op=,
  resource=, decision=, value_hash=, detail=, prev=, hash=, line=}` (absent fields nil)
*/
static int l_entries(lua_State *L) {
  DanaAudit *au = dana_audit_check(L, 1);
  size_t i;
  if (au->ringn > (size_t)0x7fffffff) return luaL_error(L, "ring too large");
  luaL_checkstack(L, 6, "audit entries");
  lua_createtable(L, (int)au->ringn, 0);
  for (i = 0; i < au->ringn; i++) {
    const RingEntry *e = au->ring[(au->ringstart + i) % au->ringcap];
    int k;
    lua_createtable(L, 0, 16);
    lua_pushinteger(L, (lua_Integer)e->seq);
    lua_setfield(L, -2, "seq");
    lua_pushstring(L, e->ts);
    lua_setfield(L, -2, "timestamp");
    for (k = 0; k < NFIELDS; k++) push_field_or_nil(L, e->f[k], e->fl[k], field_names[k]);
    if (e->vhash[0]) { lua_pushstring(L, e->vhash); lua_setfield(L, -2, "value_hash"); }
    lua_pushstring(L, e->prev);
    lua_setfield(L, -2, "prev");
    lua_pushstring(L, e->hash);
    lua_setfield(L, -2, "hash");
    lua_pushlstring(L, e->line, e->linelen);
    lua_setfield(L, -2, "line");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/***
The keyed hash that `value_hash` holds for a value (to compare without the value).
@function Audit:hash_value
@tparam string|number|boolean value
@treturn string 64 hex digits
*/
static int l_hash_value(lua_State *L) {
  DanaAudit *au = dana_audit_check(L, 1);
  size_t n;
  const char *s;
  unsigned char h[HASHLEN];
  char hx[HEXLEN + 1];
  if (lua_type(L, 2) == LUA_TBOOLEAN) {
    s = lua_toboolean(L, 2) ? "true" : "false";
    n = strlen(s);
  }
  else s = luaL_checklstring(L, 2, &n);
  hmac(au->key, au->keylen, s, n, h);
  tohex(h, HASHLEN, hx);
  lua_pushstring(L, hx);
  return 1;
}

/***
Would an event be written at this log's level?
@function Audit:wants
@tparam string op
@tparam string resource
@tparam[opt="allow"] string decision
@treturn boolean
*/
static int l_wants(lua_State *L) {
  DanaAudit *au = dana_audit_check(L, 1);
  const char *op = luaL_checkstring(L, 2), *res = luaL_checkstring(L, 3);
  const char *dec = luaL_optstring(L, 4, "allow");
  lua_pushboolean(L, dana_audit_wants(au, op, res, dec));
  return 1;
}

/***
The level: `"none"`, `"metadata"` or `"all"`.
@function Audit:level
@treturn string
*/
static int l_level(lua_State *L) {
  DanaAudit *au = dana_audit_check(L, 1);
  lua_pushstring(L, level_names[au->level]);
  return 1;
}

/***
The file sink's path and head path (nil when absent).
@function Audit:path
@treturn string|nil
@treturn string|nil
*/
static int l_path(lua_State *L) {
  DanaAudit *au = dana_audit_check(L, 1);
  if (au->path) lua_pushstring(L, au->path); else lua_pushnil(L);
  if (au->hpath) lua_pushstring(L, au->hpath); else lua_pushnil(L);
  return 2;
}

/***
Is the log refusing records after a write error?
@function Audit:broken
@treturn boolean
@treturn string|nil the error
*/
static int l_broken(lua_State *L) {
  DanaAudit *au = dana_audit_check(L, 1);
  lua_pushboolean(L, au->broken);
  if (au->broken) lua_pushstring(L, au->brokenmsg); else lua_pushnil(L);
  return 2;
}

/* close, __gc, __close: safe to call twice. */
static int l_audit_close(lua_State *L) {
  DanaAudit *au = (DanaAudit *)luaL_checkudata(L, 1, DANA_AUDIT_MT);
  audit_close(L, au);
  return 0;
}

static int l_audit_tostring(lua_State *L) {
  DanaAudit *au = (DanaAudit *)luaL_checkudata(L, 1, DANA_AUDIT_MT);
  if (au->closed) lua_pushliteral(L, "dana.Audit (closed)");
  else lua_pushfstring(L, "dana.Audit (%s, seq %I): %p", au->path ? au->path : "no file",
                       (lua_Integer)au->seq, (void *)au);
  return 1;
}

/***
SHA-256 (or HMAC-SHA-256 with a key) of a string, in hex: what `verify` uses.
@function audit_digest
@tparam string data
@tparam[opt] string key
@treturn string 64 hex digits
*/
static int l_audit_digest(lua_State *L) {
  size_t n, kl = 0;
  const char *s = luaL_checklstring(L, 1, &n);
  const char *k = luaL_optlstring(L, 2, NULL, &kl);
  unsigned char h[HASHLEN];
  char hx[HEXLEN + 1];
  if (k) {
    luaL_argcheck(L, kl >= MIN_KEY && kl <= MAX_KEY, 2, "key must be 16 to 256 bytes");
    hmac((const unsigned char *)k, kl, s, n, h);
  }
  else sha256(cpu_has_shani(), s, n, h);
  tohex(h, HASHLEN, hx);
  lua_pushstring(L, hx);
  return 1;
}

/***
Self-test: the SHA-256 in use against libsodium's on random inputs of every
length below n.
@function _audit_selftest
@tparam integer n
@treturn boolean true when they all agree
@treturn boolean whether the SHA-extension code was used
*/
static int l_audit_selftest(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1), len;
  int fast = cpu_has_shani(), ok = 1;
  unsigned char *buf, a[HASHLEN], b[HASHLEN];
  luaL_argcheck(L, n >= 0 && n <= 1000000, 1, "0..1000000");
  buf = (unsigned char *)lua_newuserdatauv(L, (size_t)n + 1, 0);
  for (len = 0; len < n && ok; len++) {
    randombytes_buf(buf, (size_t)len);
    sha256(fast, buf, (size_t)len, a);
    crypto_hash_sha256(b, buf, (size_t)len);
    ok = memcmp(a, b, HASHLEN) == 0;
  }
  lua_pushboolean(L, ok);
  lua_pushboolean(L, fast);
  return 2;
}

/***
Benchmark helper: records `n` events of the given shape in a C loop.
@function _audit_bench
@tparam userdata audit
@tparam table ev an event as for `record`
@tparam integer n
@treturn[1] number wall-clock seconds
@treturn[1] number CPU seconds of the process
@treturn[2] nil
@treturn[2] string error
*/
static int l_audit_bench(lua_State *L) {
  DanaAudit *au = dana_audit_check(L, 1);
  lua_Integer n = luaL_checkinteger(L, 3), i;
  DanaAuditEvent ev;
  char err[400];
  struct timespec t0, t1;
  clock_t c0;
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 3);
  memset(&ev, 0, sizeof ev);
  ev.op = ev_string(L, 2, "op", &ev.value_len, 1);
  ev.resource = ev_string(L, 2, "resource", &ev.resource_len, 1);
  ev.decision = ev_string(L, 2, "decision", &ev.decision_len, 1);
  ev.tenant = ev_string(L, 2, "tenant", &ev.tenant_len, 0);
  ev.agent = ev_string(L, 2, "agent", &ev.agent_len, 0);
  ev.user = ev_string(L, 2, "user", &ev.user_len, 0);
  ev.session = ev_string(L, 2, "session", &ev.session_len, 0);
  ev.role = ev_string(L, 2, "role", &ev.role_len, 0);
  ev.detail = ev_string(L, 2, "detail", &ev.detail_len, 0);
  ev.value = ev_string(L, 2, "value", &ev.value_len, 0);
  c0 = clock();
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (i = 0; i < n; i++)
    if (!dana_audit_record(L, au, &ev, err, sizeof err)) {
      luaL_pushfail(L);
      lua_pushstring(L, err);
      return 2;
    }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  lua_pushnumber(L, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9);
  lua_pushnumber(L, (double)(clock() - c0) / CLOCKS_PER_SEC);
  return 2;
}

static const luaL_Reg audit_methods[] = {
  {"record", l_record},
  {"head", l_head},
  {"entries", l_entries},
  {"hash_value", l_hash_value},
  {"wants", l_wants},
  {"level", l_level},
  {"path", l_path},
  {"broken", l_broken},
  {"close", l_audit_close},
  {NULL, NULL}
};

static const luaL_Reg audit_meta[] = {
  {"__gc", l_audit_close},
  {"__close", l_audit_close},
  {"__tostring", l_audit_tostring},
  {"__index", NULL},
  {NULL, NULL}
};

static const luaL_Reg audit_funcs[] = {
  {"audit_open", l_audit_open},
  {"audit_digest", l_audit_digest},
  {"_audit_bench", l_audit_bench},
  {"_audit_selftest", l_audit_selftest},
  {NULL, NULL}
};

void dana_audit_open(lua_State *L) {
  if (sodium_init() < 0) luaL_error(L, "libsodium failed to initialize");
  luaL_newmetatable(L, DANA_AUDIT_MT);
  luaL_setfuncs(L, audit_meta, 0);
  luaL_newlib(L, audit_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_setfuncs(L, audit_funcs, 0);
}
