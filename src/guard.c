/*
** guard.c: the permission layer. Every scope access and host call of an
** agent goes through one decision (the sandbox policy in policy.c, or the
** built-in roles of access.c for a bare core sandbox), one audit record
** (audit.c; failing to record refuses the operation: fail closed), and every
** text that leaves the agent (print, log, error messages) is redacted with
** the sanitizer (sanitize.c) and the agent's registered secrets.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "policy.h"
#include "audit.h"
#include "sanitize.h"

/* ---- decisions ---- */

static DanaAccessOp op_of(const char *op) {
  if (strcmp(op, "read") == 0) return ACCESS_READ;
  if (strcmp(op, "write") == 0) return ACCESS_WRITE;
  if (strcmp(op, "delete") == 0) return ACCESS_DELETE;
  return (DanaAccessOp)0;
}

int dana_guard_decide(DanaAgent *a, const char *op, const char *resource, const char **rule) {
  DanaSandbox *sb = a->sb;
  DanaKey k;
  DanaAccessOp aop;
  if (sb->policy != NULL) {
    DanaGrant *g = a->grant;
    return dana_policy_decide_grant(sb->policy, a->role, g, g ? dana_policy_now() : 0.0, op,
                                    resource, 1, rule);
  }
  /* no policy: the built-in roles; host functions are callable by all */
  if (strncmp(resource, "call:", 5) == 0) {
    *rule = "built-in: registered host function";
    return 1;
  }
  aop = op_of(op);
  if (aop == 0 || dana_parse_key(resource, strlen(resource), &k) != NULL) {
    *rule = "built-in: default deny";
    return 0;
  }
  if (dana_access_allowed(a, k.scope, aop, k.name, k.namelen)) {
    *rule = "built-in role";
    return 1;
  }
  *rule = "built-in: default deny";
  return 0;
}

int dana_guard_audit(lua_State *H, DanaAgent *a, const char *op, const char *resource,
                     const char *decision, const char *detail, const DanaBlob *value,
                     char *err, size_t errlen) {
  DanaSandbox *sb = a->sb;
  DanaAuditEvent ev;
  char clean[512];
  if (sb->audit == NULL || H == NULL) return 1;
  if (!dana_audit_wants(sb->audit, op, resource, decision)) return 1;
  memset(&ev, 0, sizeof ev);
  ev.tenant = sb->tenant;
  ev.agent = a->name;
  ev.user = a->user;
  ev.session = a->session;
  ev.role = a->role;
  ev.op = op;
  ev.resource = resource;
  ev.decision = decision;
  ev.detail = detail ? dana_guard_redact_into(H, a, detail, clean, sizeof clean) : NULL;
  if (value) {
    ev.value = value->data;
    ev.value_len = value->len;
  }
  return dana_audit_record(H, sb->audit, &ev, err, errlen);
}

/* ---- registered secrets ---- */

typedef struct Walk {
  const unsigned char *p, *end;
  void (*each)(void *ud, const char *s, size_t n);
  void *ud;
  int depth;
  int ok;
} Walk;

static size_t walk_varint(Walk *w) {
  size_t v = 0;
  int shift = 0;
  while (w->p < w->end && shift < 64) {
    unsigned char c = *w->p++;
    v |= (size_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) return v;
    shift += 7;
  }
  w->ok = 0;
  return 0;
}

static void walk_value(Walk *w);

static void walk_table(Walk *w) {
  size_t n = walk_varint(w), i;
  if (++w->depth > 200) {
    w->ok = 0;
    return;
  }
  for (i = 0; i < n && w->ok; i++) {
    walk_value(w);
    walk_value(w);
  }
  w->depth--;
}

static void walk_value(Walk *w) {
  if (w->p >= w->end) {
    w->ok = 0;
    return;
  }
  switch (*w->p++) {
    case 'n': case 'f': case 't': return;
    case 'i': case 'd':
      if ((size_t)(w->end - w->p) < 8) w->ok = 0;
      else w->p += 8;
      return;
    case 's': {
      size_t n = walk_varint(w);
      if (!w->ok || n > (size_t)(w->end - w->p)) {
        w->ok = 0;
        return;
      }
      w->each(w->ud, (const char *)w->p, n);
      w->p += n;
      return;
    }
    case 'T': walk_table(w); return;
    case 'G': {
      size_t n = walk_varint(w);
      if (!w->ok || n > (size_t)(w->end - w->p)) {
        w->ok = 0;
        return;
      }
      w->p += n;
      if (w->p < w->end && *w->p == 'T') {
        w->p++;
        walk_table(w);
      } else {
        w->ok = 0;
      }
      return;
    }
    default: w->ok = 0;
  }
}

static void walk_blob(const DanaBlob *b, void (*each)(void *, const char *, size_t), void *ud) {
  Walk w;
  w.p = b->data;
  w.end = b->data + b->len;
  w.each = each;
  w.ud = ud;
  w.depth = 0;
  w.ok = 1;
  walk_value(&w);
}

static void add_secret(void *ud, const char *s, size_t n) {
  dana_secretset_add((DanaSecretSet *)ud, s, n);  /* short ones are ignored */
}

void dana_guard_register_blob(DanaAgent *a, const DanaBlob *b) {
  if (a->secrets == NULL || b == NULL || b->data == NULL) return;
  walk_blob(b, add_secret, a->secrets);
}

int dana_guard_secret_key(DanaScopeId scope, const char *name, size_t n) {
  if (scope == SCOPE_PRIVATE || scope == SCOPE_SYSTEM) return 1;
  return dana_sanitize_key_class(name, n) != DANA_KEY_PLAIN;
}

/* ---- taint (text that came from an LLM) ----
** Kept as the tainted texts joined with NUL bytes. Derived strings cannot be
** tracked through every string operation, so the checks are by containment
** both ways: a value that holds a tainted text, or a piece of one (at least
** DANA_TAINT_MIN bytes; for function names any length from 3). */

#define DANA_TAINT_MIN 8
#define DANA_TAINT_CAP ((size_t)1 << 20)

struct DanaTaint {
  char *buf;
  size_t len, cap;
};

DanaTaint *dana_taint_new(void) {
  return (DanaTaint *)calloc(1, sizeof(DanaTaint));
}

void dana_taint_free(DanaTaint *t) {
  if (t == NULL) return;
  free(t->buf);
  free(t);
}

int dana_taint_add(DanaTaint *t, const char *s, size_t n) {
  if (n == 0) return 1;
  if (n >= DANA_TAINT_CAP) n = DANA_TAINT_CAP - 1;  /* the head of a huge text is enough */
  if (t->len + n + 1 > DANA_TAINT_CAP) t->len = 0;   /* keep the latest texts */
  if (t->len + n + 1 > t->cap) {
    size_t cap = t->cap ? t->cap : 256;
    char *nb;
    while (cap < t->len + n + 1) cap *= 2;
    nb = (char *)realloc(t->buf, cap);
    if (nb == NULL) return 0;
    t->buf = nb;
    t->cap = cap;
  }
  memcpy(t->buf + t->len, s, n);
  t->len += n;
  t->buf[t->len++] = '\0';
  return 1;
}

static int contains(const char *hay, size_t hn, const char *needle, size_t nn) {
  size_t i;
  if (nn == 0 || nn > hn) return 0;
  for (i = 0; i + nn <= hn; i++)
    if (hay[i] == needle[0] && memcmp(hay + i, needle, nn) == 0) return 1;
  return 0;
}

int dana_taint_name(const DanaTaint *t, const char *s, size_t n) {
  return t != NULL && n >= 3 && contains(t->buf, t->len, s, n);
}

int dana_guard_text_tainted(const DanaAgent *a, const char *s, size_t n) {
  const DanaTaint *t = a->taint;
  size_t i = 0;
  if (t == NULL || t->len == 0) return 0;
  if (n >= DANA_TAINT_MIN && contains(t->buf, t->len, s, n)) return 1;  /* a piece of one */
  while (i < t->len) {                                                  /* holds one */
    size_t pn = strlen(t->buf + i);
    if (pn >= DANA_TAINT_MIN && contains(s, n, t->buf + i, pn)) return 1;
    i += pn + 1;
  }
  return 0;
}

typedef struct TaintWalk {
  const DanaAgent *a;
  int tainted;
} TaintWalk;

static void taint_string(void *ud, const char *s, size_t n) {
  TaintWalk *t = (TaintWalk *)ud;
  if (!t->tainted && dana_guard_text_tainted(t->a, s, n)) t->tainted = 1;
}

int dana_guard_blob_tainted(const DanaAgent *a, const DanaBlob *b) {
  TaintWalk t;
  if (a->taint == NULL || a->taint->len == 0 || b->data == NULL) return 0;
  t.a = a;
  t.tainted = 0;
  walk_blob(b, taint_string, &t);
  return t.tainted;
}

/* ---- redaction ---- */

void dana_guard_push_redacted(lua_State *L, DanaAgent *a, const char *s, size_t n) {
  dana_sanitize_push_text(L, s, n, a ? a->secrets : NULL);
}

static int redact_protected(lua_State *H) {
  DanaAgent *a = (DanaAgent *)lua_touserdata(H, 1);
  const char *s = (const char *)lua_touserdata(H, 2);
  dana_guard_push_redacted(H, a, s, strlen(s));
  return 1;
}

char *dana_guard_redact_into(lua_State *H, DanaAgent *a, const char *s, char *dst, size_t cap) {
  size_t n;
  const char *r;
  if (cap == 0) return dst;
  lua_pushcfunction(H, redact_protected);
  lua_pushlightuserdata(H, a);
  lua_pushlightuserdata(H, (void *)(size_t)s);
  if (lua_pcall(H, 2, 1, 0) != LUA_OK) {
    lua_pop(H, 1);
    snprintf(dst, cap, "%s", DANA_SANITIZE_MASK);  /* could not check it: show nothing */
    return dst;
  }
  r = lua_tolstring(H, -1, &n);
  if (n >= cap) n = cap - 1;
  memcpy(dst, r, n);
  dst[n] = '\0';
  lua_pop(H, 1);
  return dst;
}

/* ---- dana.allowed(op, resource) ---- */

int dana_guard_allowed(lua_State *L) {
  DanaAgent *a = dana_agent_of(L);
  const char *rule = NULL;
  const char *op = luaL_checkstring(L, 1);
  const char *resource = luaL_checkstring(L, 2);
  if (a == NULL || a->sb == NULL) return luaL_error(L, "dana.allowed: not inside an agent");
  lua_pushboolean(L, dana_guard_decide(a, op, resource, &rule));
  lua_pushstring(L, rule ? rule : "");
  return 2;
}

/* ---- escalation ---- */

typedef struct Ask {
  DanaAgent *a;
  const char *role, *reason;
  int granted;
  char why[200];
} Ask;

/* In the host, protected: calls approve(info) and makes the grant. */
static int ask_host(lua_State *H) {
  Ask *q = (Ask *)lua_touserdata(H, 1);
  DanaAgent *a = q->a;
  DanaSandbox *sb = a->sb;
  double seconds = 60;
  long long ops = 0;
  DanaGrant *g;
  lua_rawgeti(H, LUA_REGISTRYINDEX, sb->approve_ref);
  dana_agent_push_identity(H, a, "agent");
  lua_pushstring(H, q->role);
  lua_setfield(H, -2, "requested");
  dana_guard_push_redacted(H, a, q->reason, strlen(q->reason));
  lua_setfield(H, -2, "reason");
  lua_call(H, 1, 1);
  if (lua_istable(H, -1)) {
    if (lua_getfield(H, -1, "seconds") == LUA_TNUMBER) seconds = lua_tonumber(H, -1);
    lua_pop(H, 1);
    if (lua_getfield(H, -1, "ops") == LUA_TNUMBER) ops = (long long)lua_tonumber(H, -1);
    lua_pop(H, 1);
  } else if (!lua_toboolean(H, -1)) {
    snprintf(q->why, sizeof q->why, "the host did not approve");
    return 0;
  }
  lua_rawgeti(H, LUA_REGISTRYINDEX, sb->policy_ref);
  g = dana_grant_push(H, lua_gettop(H), q->role, seconds, ops, q->why, sizeof q->why);
  if (g == NULL) return 0;
  luaL_unref(H, LUA_REGISTRYINDEX, a->grant_ref);
  a->grant_ref = luaL_ref(H, LUA_REGISTRYINDEX);  /* keeps the grant userdata alive */
  a->grant = g;
  q->granted = 1;
  return 0;
}

int dana_guard_escalate(lua_State *L) {
  DanaAgent *a = dana_agent_of(L);
  Ask q;
  char err[160], resource[300];
  lua_State *H;
  if (a == NULL || a->sb == NULL) return luaL_error(L, "dana.escalate: not inside an agent");
  H = a->host;
  memset(&q, 0, sizeof q);
  q.a = a;
  q.role = luaL_checkstring(L, 1);
  q.reason = luaL_optstring(L, 2, "");
  snprintf(resource, sizeof resource, "role:%s", q.role);
  if (H == NULL || a->sb->policy == NULL || a->sb->approve_ref == LUA_NOREF) {
    snprintf(q.why, sizeof q.why, "no approval callback: escalation is denied");
  } else {
    lua_pushcfunction(H, ask_host);
    lua_pushlightuserdata(H, &q);
    if (lua_pcall(H, 1, 0, 0) != LUA_OK) {
      lua_pop(H, 1);
      snprintf(q.why, sizeof q.why, "the approval callback failed");
      q.granted = 0;
    }
  }
  if (!dana_guard_audit(H, a, "escalate", resource, q.granted ? "grant" : "deny",
                        q.granted ? q.reason : q.why, NULL, err, sizeof err)) {
    if (q.granted) {  /* fail closed: an unrecorded escalation does not happen */
      a->grant = NULL;
      dana_agent_raise(L, "SecurityError", "audit log unavailable, escalation refused: %s", err);
    }
  }
  lua_pushboolean(L, q.granted);
  if (q.granted) return 1;
  lua_pushstring(L, q.why);
  return 2;
}
