/*
** policy.c: the permission decision core ("dana.Policy" and "dana.Grant").
**
** A policy is compiled once from a Lua table into flat per-role rule lists,
** split into cells by (scope, op), so that a decision is: intern the role,
** classify op and resource, walk the cell's deny entries then its allow
** entries. Deny beats allow; nothing matching means deny. Deciding never
** allocates and never touches a lua_State (see policy.h).
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dana_internal.h"
#include "policy.h"

#if !defined(DANA_POLICY_MAX_ROLES)
#define DANA_POLICY_MAX_ROLES 1024
#endif
#if !defined(DANA_POLICY_MAX_RULES)
#define DANA_POLICY_MAX_RULES 4096      /* allow + deny entries of one role */
#endif
#if !defined(DANA_POLICY_MAX_FLAT)
#define DANA_POLICY_MAX_FLAT 250000     /* flattened entries over all roles */
#endif
#if !defined(DANA_POLICY_MAX_LIMITED)
#define DANA_POLICY_MAX_LIMITED 65536   /* keys of one limited allowlist */
#endif
#if !defined(DANA_POLICY_DEFAULT_LIMITED)
#define DANA_POLICY_DEFAULT_LIMITED "execution_status"  /* system keys without `limited` */
#endif
#define MAX_NAME 64                     /* role names */
#define MAX_PERM 256                    /* permission strings, limited keys */
#define DEFAULT_MAX_SECONDS 300.0
#define DEFAULT_MAX_OPS 1000

enum { S_LOCAL, S_PUBLIC, S_PRIVATE, S_SYSTEM, S_CALL, S_IMPORT, NSCOPES };
enum { O_READ, O_WRITE, O_DELETE, O_CALL, O_IMPORT, NOPS };
enum { Q_NONE, Q_OWN, Q_LIMITED, Q_PATTERN };
#define NCELLS (NSCOPES * NOPS)
#define ALL_SCOPES ((1u << NSCOPES) - 1)
#define ALL_OPS ((1u << NOPS) - 1)
#define DATA_OPS ((1u << O_READ) | (1u << O_WRITE) | (1u << O_DELETE))

static const char *const scope_names[NSCOPES] = {
  "local", "public", "private", "system", "call", "import"
};

/* The design document's built-in roles, plus call:log: a program that may not
** even log is useless, and log output is masked and counted like print. */
static const char *const builtin_names[] = { "user", "agent", "admin" };
static const char *const builtin_user[] = {
  "local:*", "public:read", "private:own", "call:log", NULL
};
static const char *const builtin_agent[] = {
  "local:*", "public:*", "private:own", "system:read:limited", "call:log", NULL
};
static const char *const builtin_admin[] = { "*:*", NULL };
static const char *const *const builtin_allow[] = {
  builtin_user, builtin_agent, builtin_admin
};
#define NBUILTIN 3

/* A rule string handed out by decide; id indexes the Lua-string cache. */
typedef struct Text {
  int id;
  char s[];
} Text;

typedef struct Decl {          /* one allow/deny entry as written in one role */
  unsigned scopes, ops;
  int qual;
  int deny;
  int role;                    /* declaring role */
  int gid;                     /* global number, for de-duplication */
  const char *pattern;         /* key glob when qual == Q_PATTERN */
  const char *perm;            /* as written */
} Decl;

typedef struct Entry {         /* one rule of a role after inheritance */
  const Decl *d;
  const Text *text, *esc;
} Entry;

typedef struct Role {
  const char *name;
  int ninh;
  int *inh;                    /* role ids, in the order written */
  int ndecl;
  Decl *decl;
  int nflat;
  Entry *flat;                 /* own entries first, then inherited (DFS) */
  int *cell;                   /* indices into flat, grouped by cell */
  int cstart[NCELLS + 1];      /* cell c is cell[cstart[c] .. cstart[c+1]) */
  int cdeny[NCELLS];           /* ... whose first cdeny[c] are denies */
} Role;

typedef struct Block {
  struct Block *next;
  size_t used, cap;
  union { double d; void *p; long long ll; } data[];
} Block;

struct DanaPolicy {
  int closed;
  Block *arena;                /* everything below lives in it */
  int nroles;
  Role *roles;
  unsigned hmask;
  int *htab;                   /* role-name hash: role id or -1 */
  int nlimited[NSCOPES];
  const char **limited[NSCOPES];  /* sorted allowlists */
  double max_seconds;
  long long max_ops;
  int ntexts;
  const Text **texts;
  const Text *t_default, *t_unknown_role, *t_bad_op, *t_bad_resource, *t_closed;
};


/* ------------------------------------------------------------------ arena */

static void *arena_alloc(lua_State *L, DanaPolicy *p, size_t n) {
  Block *b = p->arena;
  size_t need = (n + 15u) & ~(size_t)15u;
  if (need < n) luaL_error(L, "policy too large");
  if (b == NULL || b->cap - b->used < need) {
    size_t cap = need > 16384 ? need : 16384;
    if (cap > (size_t)-1 - sizeof(Block)) luaL_error(L, "policy too large");
    b = (Block *)malloc(sizeof(Block) + cap);
    if (b == NULL) luaL_error(L, "not enough memory");
    b->next = p->arena;
    b->used = 0;
    b->cap = cap;
    p->arena = b;
  }
  {
    void *r = (char *)b->data + b->used;
    b->used += need;
    return r;
  }
}

static void *arena_array(lua_State *L, DanaPolicy *p, size_t n, size_t size) {
  if (n == 0) n = 1;
  if (n > ((size_t)-1) / size) luaL_error(L, "policy too large");
  return arena_alloc(L, p, n * size);
}

static const char *arena_str(lua_State *L, DanaPolicy *p, const char *s, size_t len) {
  char *r = (char *)arena_alloc(L, p, len + 1);
  memcpy(r, s, len);
  r[len] = '\0';
  return r;
}

static const Text *new_text(lua_State *L, DanaPolicy *p, const char *a,
                            const char *b, const char *c, const char *d) {
  size_t la = strlen(a), lb = strlen(b), lc = strlen(c), ld = strlen(d);
  Text *t = (Text *)arena_alloc(L, p, sizeof(Text) + la + lb + lc + ld + 1);
  memcpy(t->s, a, la);
  memcpy(t->s + la, b, lb);
  memcpy(t->s + la + lb, c, lc);
  memcpy(t->s + la + lb + lc, d, ld);
  t->s[la + lb + lc + ld] = '\0';
  t->id = p->ntexts++;
  return t;
}

static void free_policy(DanaPolicy *p) {
  Block *b = p->arena;
  while (b != NULL) {
    Block *n = b->next;
    free(b);
    b = n;
  }
  p->arena = NULL;
  p->closed = 1;
}


/* ---------------------------------------------------------------- deciding */

/* '*' matches any run of bytes; everything else matches itself. */
static int glob_match(const char *pat, const char *s) {
  const char *star = NULL, *ss = NULL;
  while (*s) {
    if (*pat == '*') { star = pat++; ss = s; }
    else if (*pat == *s) { pat++; s++; }
    else if (star) { pat = star + 1; s = ++ss; }
    else return 0;
  }
  while (*pat == '*') pat++;
  return *pat == '\0';
}

static int parse_op(const char *op) {
  switch (op[0]) {
    case 'r': return strcmp(op, "read") == 0 ? O_READ : -1;
    case 'w': return strcmp(op, "write") == 0 ? O_WRITE : -1;
    case 'd': return strcmp(op, "delete") == 0 ? O_DELETE : -1;
    case 'c': return strcmp(op, "call") == 0 ? O_CALL : -1;
    case 'i': return strcmp(op, "import") == 0 ? O_IMPORT : -1;
    default: return -1;
  }
}

/* Scope named by the n bytes at s, or -1. */
static int scope_of(const char *s, size_t n) {
  int i;
  for (i = 0; i < NSCOPES; i++)
    if (strlen(scope_names[i]) == n && memcmp(scope_names[i], s, n) == 0) return i;
  return -1;
}

/* Splits a resource for op o into scope and key; -1 if malformed (including
** any control byte: newlines, escapes, DEL). */
static int parse_resource(const char *res, int o, const char **key) {
  const char *sep = res;
  const unsigned char *q;
  int s;
  for (q = (const unsigned char *)res; *q; q++)    /* no key or name has control bytes */
    if (*q < 0x20 || *q == 0x7f) return -1;
  while (*sep && *sep != ':' && *sep != '.') sep++;
  s = *sep ? scope_of(res, (size_t)(sep - res)) : -1;
  if (o == O_CALL || o == O_IMPORT) {
    int want = o == O_CALL ? S_CALL : S_IMPORT;
    if (s == want && *sep == ':') *key = sep + 1;
    else if (s < 0 || *sep == '.') {    /* a bare (possibly dotted) name */
      if (s >= 0 && s != want) return -1;
      *key = res;
    }
    else return -1;
    return **key ? want : -1;
  }
  if (s < 0) {
    if (*sep == ':') return -1;          /* "foo:x": not a scope */
    s = S_LOCAL;
    *key = res;                          /* unscoped names are local */
  }
  else {
    if (s == S_CALL || s == S_IMPORT) return -1;
    *key = sep + 1;
  }
  return **key ? s : -1;
}

static int limited_has(const DanaPolicy *p, int s, const char *key) {
  int lo = 0, hi = p->nlimited[s] - 1;
  const char *const *v = p->limited[s];
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    int c = strcmp(key, v[mid]);
    if (c == 0) return 1;
    if (c < 0) hi = mid - 1; else lo = mid + 1;
  }
  return 0;
}

static int qual_ok(const DanaPolicy *p, const Decl *d, int s, const char *key, int own) {
  switch (d->qual) {
    case Q_NONE: return 1;
    case Q_OWN: return own;
    case Q_LIMITED: return limited_has(p, s, key);
    default: return glob_match(d->pattern, key);
  }
}

/* The core: returns the deciding entry's text and whether it allows. */
static int decide_core(const DanaPolicy *p, int rid, const char *op,
                       const char *res, int own, const Text **why, int esc) {
  const Role *r;
  const char *key = NULL;
  int o, s, c, i, end;
  if (p == NULL || p->closed) { *why = NULL; return 0; }
  if (op == NULL || (o = parse_op(op)) < 0) { *why = p->t_bad_op; return 0; }
  if (res == NULL || (s = parse_resource(res, o, &key)) < 0) {
    *why = p->t_bad_resource;
    return 0;
  }
  if (rid < 0 || rid >= p->nroles) { *why = p->t_unknown_role; return 0; }
  own = own && s == S_PRIVATE;           /* "own" only means something for private */
  r = &p->roles[rid];
  c = s * NOPS + o;
  end = r->cstart[c] + r->cdeny[c];
  for (i = r->cstart[c]; i < end; i++) {
    const Entry *e = &r->flat[r->cell[i]];
    if (qual_ok(p, e->d, s, key, own)) { *why = esc ? e->esc : e->text; return 0; }
  }
  end = r->cstart[c + 1];
  for (; i < end; i++) {
    const Entry *e = &r->flat[r->cell[i]];
    if (qual_ok(p, e->d, s, key, own)) { *why = esc ? e->esc : e->text; return 1; }
  }
  *why = p->t_default;
  return 0;
}

static unsigned hash_name(const char *s, size_t n) {
  unsigned h = 2166136261u;     /* FNV-1a */
  size_t i;
  for (i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
  return h;
}

static int role_lookup(const DanaPolicy *p, const char *name, size_t n) {
  unsigned h;
  if (p->htab == NULL) return -1;
  h = hash_name(name, n) & p->hmask;
  for (;;) {
    int id = p->htab[h];
    if (id < 0) return -1;
    if (strlen(p->roles[id].name) == n && memcmp(p->roles[id].name, name, n) == 0)
      return id;
    h = (h + 1) & p->hmask;
  }
}

int dana_policy_role_id(const DanaPolicy *p, const char *role) {
  if (p == NULL || p->closed || role == NULL) return -1;
  return role_lookup(p, role, strlen(role));
}

static const char *text_of(const DanaPolicy *p, const Text *t) {
  return t != NULL ? t->s : (p == NULL ? "no policy" : p->closed ? "policy closed" : "default deny");
}

int dana_policy_decide_id(const DanaPolicy *p, int role_id, const char *op,
                          const char *resource, int own, const char **rule) {
  const Text *t = NULL;
  int ok = decide_core(p, role_id, op, resource, own, &t, 0);
  if (rule) *rule = text_of(p, t);
  return ok;
}

int dana_policy_decide(const DanaPolicy *p, const char *role, const char *op,
                       const char *resource, int own, const char **rule) {
  return dana_policy_decide_id(p, dana_policy_role_id(p, role), op, resource, own, rule);
}

double dana_policy_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int dana_grant_active(const DanaGrant *g, const DanaPolicy *p, double now) {
  return g != NULL && p != NULL && g->policy == p && !p->closed && !g->revoked
      && g->ops_left > 0 && now < g->until_time;
}

int dana_policy_decide_grant(const DanaPolicy *p, const char *role, DanaGrant *g,
                             double now, const char *op, const char *resource,
                             int own, const char **rule) {
  const Text *t = NULL, *t2 = NULL;
  if (decide_core(p, dana_policy_role_id(p, role), op, resource, own, &t, 0)) {
    if (rule) *rule = text_of(p, t);
    return 1;
  }
  if (dana_grant_active(g, p, now)
      && decide_core(p, g->role, op, resource, own, &t2, 1)) {
    g->ops_left--;
    if (rule) *rule = text_of(p, t2);
    return 1;
  }
  if (rule) *rule = text_of(p, t);
  return 0;
}


/* --------------------------------------------------------------- compiling */

/* Pushes s as a quoted string safe to print (control bytes, NUL, non-ASCII
** as \xNN), cut at 80 bytes: names in error messages come from untrusted
** policy files. */
static const char *push_quoted(lua_State *L, const char *s, size_t n) {
  luaL_Buffer b;
  size_t i;
  luaL_buffinit(L, &b);
  luaL_addchar(&b, '\'');
  for (i = 0; i < n && i < 80; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch < 0x20 || ch >= 0x7f || ch == '\'' || ch == '\\') {
      char tmp[8];
      snprintf(tmp, sizeof tmp, "\\x%02x", ch);
      luaL_addstring(&b, tmp);
    }
    else luaL_addchar(&b, (char)ch);
  }
  if (n > 80) luaL_addstring(&b, "...");
  luaL_addchar(&b, '\'');
  luaL_pushresult(&b);
  return lua_tostring(L, -1);
}

/* Validation state: the policy under construction and the field path. */
typedef struct Compiler {
  lua_State *L;
  DanaPolicy *p;
  int ndecls;                  /* global Decl count (gid) */
  int *stamp;                  /* per role id, for de-duplication of diamonds */
} Compiler;

static int valid_name(const char *s, size_t n) {
  size_t i;
  if (n == 0 || n > MAX_NAME) return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '_' || c == '-' || c == '.'))
      return 0;
  }
  return 1;
}

/* Key globs and call/import names: no ':' (the separator), printable ASCII. */
static int valid_pattern(const char *s, size_t n) {
  size_t i;
  if (n == 0) return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c >= 0x7f || c == ':' || c == '\'' || c == '"' || c == '\\') return 0;
  }
  return 1;
}

/* Parses one permission string into d; NULL on success, else the reason. */
static const char *parse_perm(Compiler *C, const char *s, size_t n, Decl *d) {
  const char *seg[4];
  size_t len[4];
  int nseg = 0, sc;
  size_t i, start = 0;
  if (n == 0 || n > MAX_PERM || strlen(s) != n) return "bad permission";
  for (i = 0; i <= n; i++) {
    if (i == n || s[i] == ':') {
      if (nseg == 3) return "bad permission (more than 3 parts)";
      seg[nseg] = s + start;
      len[nseg] = i - start;
      if (len[nseg] == 0) return "bad permission (empty part)";
      nseg++;
      start = i + 1;
    }
  }
  if (nseg < 2) return "bad permission (expected SCOPE:OP)";
  d->qual = Q_NONE;
  d->pattern = NULL;
  if (len[0] == 1 && seg[0][0] == '*') sc = -2;
  else if ((sc = scope_of(seg[0], len[0])) < 0) return "bad permission (unknown scope)";
  if (sc == S_CALL || sc == S_IMPORT) {
    if (nseg != 2) return "bad permission (call/import take one name)";
    if (!valid_pattern(seg[1], len[1])) return "bad permission (bad name)";
    d->scopes = 1u << sc;
    d->ops = 1u << (sc == S_CALL ? O_CALL : O_IMPORT);
    if (!(len[1] == 1 && seg[1][0] == '*')) {
      d->qual = Q_PATTERN;
      d->pattern = arena_str(C->L, C->p, seg[1], len[1]);
    }
    return NULL;
  }
  d->scopes = sc == -2 ? ALL_SCOPES : 1u << sc;
  if (len[1] == 1 && seg[1][0] == '*') d->ops = sc == -2 ? ALL_OPS : DATA_OPS;
  else if (len[1] == 3 && memcmp(seg[1], "own", 3) == 0) {
    if (sc != S_PRIVATE && sc != -2) return "bad permission ('own' applies to private only)";
    if (nseg == 3) return "bad permission (nothing may follow 'own')";
    d->ops = sc == -2 ? ALL_OPS : DATA_OPS;
    d->qual = Q_OWN;
    return NULL;
  }
  else {
    int o;
    char tmp[8];
    if (len[1] >= sizeof tmp) return "bad permission (unknown op)";
    memcpy(tmp, seg[1], len[1]);
    tmp[len[1]] = '\0';
    o = parse_op(tmp);
    if (o < 0 || o == O_CALL || o == O_IMPORT) return "bad permission (unknown op)";
    d->ops = 1u << o;
  }
  if (nseg == 3) {
    if (len[2] == 3 && memcmp(seg[2], "own", 3) == 0) {
      if (sc != S_PRIVATE && sc != -2) return "bad permission ('own' applies to private only)";
      d->qual = Q_OWN;
    }
    else if (len[2] == 7 && memcmp(seg[2], "limited", 7) == 0) d->qual = Q_LIMITED;
    else if (!valid_pattern(seg[2], len[2])) return "bad permission (bad key pattern)";
    else if (!(len[2] == 1 && seg[2][0] == '*')) {
      d->qual = Q_PATTERN;
      d->pattern = arena_str(C->L, C->p, seg[2], len[2]);
    }
  }
  return NULL;
}

/* Error "<field>: <msg>" where field is built by the caller as a Lua string. */
static int fail(lua_State *L, const char *field, const char *msg) {
  lua_pushfstring(L, "%s: %s", field, msg);
  return lua_error(L);
}

/* Checks that the value at idx is an array (table with keys 1..n only);
** returns n. */
static int check_array(lua_State *L, int idx, const char *field, int maxn) {
  lua_Integer n = 0;
  idx = lua_absindex(L, idx);
  if (!lua_istable(L, idx)) fail(L, field, "expected an array");
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1)) fail(L, field, "expected an array");
    n++;
  }
  if (n > maxn) fail(L, field, "too many entries");
  {
    lua_Integer i;
    for (i = 1; i <= n; i++) {
      if (lua_rawgeti(L, idx, i) == LUA_TNIL) fail(L, field, "expected an array");
      lua_pop(L, 1);
    }
  }
  return (int)n;
}

/* Field names for errors: "roles.<name>.<what>". Role names are validated
** before they appear here, so they need no quoting. */
static const char *push_field(lua_State *L, const char *role, const char *what) {
  return lua_pushfstring(L, "roles.%s.%s", role, what);
}

/* Parses the array at idx of permission strings into decls (appended after
** `have`); `what` is "allow" or "deny". */
static void parse_rules(Compiler *C, int rid, int idx, const char *what, int n,
                        Decl *out, int deny) {
  lua_State *L = C->L;
  Role *r = &C->p->roles[rid];
  int i;
  for (i = 1; i <= n; i++) {
    size_t len;
    const char *s, *err;
    Decl *d = &out[i - 1];
    lua_rawgeti(L, idx, i);
    if (lua_type(L, -1) != LUA_TSTRING) {
      const char *f = push_field(L, r->name, what);
      lua_pushfstring(L, "%s[%d]: expected a permission string", f, i);
      lua_error(L);
    }
    s = lua_tolstring(L, -1, &len);
    err = parse_perm(C, s, len, d);
    if (err != NULL) {
      const char *q, *f = push_field(L, r->name, what);
      q = push_quoted(L, s, len);
      lua_pushfstring(L, "%s[%d]: %s %s", f, i, err, q);
      lua_error(L);
    }
    d->perm = arena_str(L, C->p, s, len);
    d->deny = deny;
    d->role = rid;
    d->gid = C->ndecls++;
    lua_pop(L, 1);
  }
}

static int cmp_cstr(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void hash_insert(DanaPolicy *p, int id) {
  const char *name = p->roles[id].name;
  unsigned h = hash_name(name, strlen(name)) & p->hmask;
  while (p->htab[h] >= 0) h = (h + 1) & p->hmask;
  p->htab[h] = id;
}

/* Parses one role table (at idx) into role rid; builtins start from their
** design-document grants unless replace = true. Inherit names are left on
** a Lua array at the top of the stack (resolved later). */
static void parse_role(Compiler *C, int rid, int idx) {
  lua_State *L = C->L;
  Role *r = &C->p->roles[rid];
  int nallow = 0, ndeny = 0, ninh = 0, replace = 0, top, i;
  idx = lua_absindex(L, idx);
  if (!lua_istable(L, idx)) {
    lua_pushfstring(L, "roles.%s: expected a table", r->name);
    lua_error(L);
  }
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    lua_pop(L, 1);
    if (k == NULL || (strcmp(k, "inherits") && strcmp(k, "allow") && strcmp(k, "deny")
                      && strcmp(k, "replace") && strcmp(k, "description"))) {
      size_t kl = 0;
      const char *ks = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &kl) : "?";
      const char *q = push_quoted(L, ks, kl ? kl : strlen(ks));
      lua_pushfstring(L, "roles.%s: unknown field %s", r->name, q);
      lua_error(L);
    }
  }
  top = lua_gettop(L);
  lua_getfield(L, idx, "replace");
  if (!lua_isnil(L, -1) && !lua_isboolean(L, -1))
    fail(L, push_field(L, r->name, "replace"), "expected a boolean");
  replace = lua_toboolean(L, -1);
  lua_getfield(L, idx, "description");
  if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING)
    fail(L, push_field(L, r->name, "description"), "expected a string");
  lua_settop(L, top);
  lua_getfield(L, idx, "inherits");        /* top+1 */
  if (!lua_isnil(L, -1)) ninh = check_array(L, top + 1, push_field(L, r->name, "inherits"), DANA_POLICY_MAX_ROLES);
  lua_settop(L, top + 1);
  lua_getfield(L, idx, "allow");           /* top+2 */
  if (!lua_isnil(L, -1)) nallow = check_array(L, top + 2, push_field(L, r->name, "allow"), DANA_POLICY_MAX_RULES);
  lua_settop(L, top + 2);
  lua_getfield(L, idx, "deny");            /* top+3 */
  if (!lua_isnil(L, -1)) ndeny = check_array(L, top + 3, push_field(L, r->name, "deny"), DANA_POLICY_MAX_RULES);
  lua_settop(L, top + 3);
  {
    int keep = replace ? 0 : r->ndecl;   /* a builtin keeps its grants unless replaced */
    Decl *d;
    if (nallow + ndeny + keep > DANA_POLICY_MAX_RULES)
      fail(L, lua_pushfstring(L, "roles.%s", r->name), "too many rules");
    d = (Decl *)arena_array(L, C->p, (size_t)(keep + nallow + ndeny), sizeof(Decl));
    if (keep) memcpy(d, r->decl, (size_t)keep * sizeof(Decl));
    parse_rules(C, rid, top + 3, "deny", ndeny, d + keep, 1);
    parse_rules(C, rid, top + 2, "allow", nallow, d + keep + ndeny, 0);
    r->decl = d;
    r->ndecl = keep + ndeny + nallow;
  }
  /* leave only the inherits array (or nil) on top */
  lua_settop(L, top + 1);
  if (ninh) {
    for (i = 1; i <= ninh; i++) {
      lua_rawgeti(L, top + 1, i);
      if (lua_type(L, -1) != LUA_TSTRING) {
        const char *f = push_field(L, r->name, "inherits");
        lua_pushfstring(L, "%s[%d]: expected a role name", f, i);
        lua_error(L);
      }
      lua_pop(L, 1);
    }
  }
  r->ninh = ninh;
}

static void seed_builtin(Compiler *C, int rid) {
  Role *r = &C->p->roles[rid];
  int n, i;
  for (n = 0; builtin_allow[rid][n]; n++) {}
  r->decl = (Decl *)arena_array(C->L, C->p, (size_t)n, sizeof(Decl));
  for (i = 0; i < n; i++) {
    const char *s = builtin_allow[rid][i];
    const char *err = parse_perm(C, s, strlen(s), &r->decl[i]);
    if (err) luaL_error(C->L, "bad built-in permission %s", s);   /* cannot happen */
    r->decl[i].perm = s;
    r->decl[i].deny = 0;
    r->decl[i].role = rid;
    r->decl[i].gid = C->ndecls++;
  }
  r->ndecl = n;
}

/* Depth-first cycle check; state: 0 new, 1 on the path, 2 done. */
static void check_cycles(Compiler *C, int rid, int *state, int *path, int depth) {
  DanaPolicy *p = C->p;
  int i;
  state[rid] = 1;
  path[depth] = rid;
  for (i = 0; i < p->roles[rid].ninh; i++) {
    int q = p->roles[rid].inh[i];
    if (state[q] == 1) {
      lua_State *L = C->L;
      luaL_Buffer b;
      int j = 0;
      while (path[j] != q) j++;
      luaL_buffinit(L, &b);
      luaL_addstring(&b, "roles.");
      luaL_addstring(&b, p->roles[path[j]].name);
      luaL_addstring(&b, ".inherits: cycle ");
      for (; j <= depth; j++) {
        luaL_addstring(&b, p->roles[path[j]].name);
        luaL_addstring(&b, " -> ");
      }
      luaL_addstring(&b, p->roles[q].name);
      luaL_pushresult(&b);
      lua_error(L);
    }
    if (state[q] == 0) check_cycles(C, q, state, path, depth + 1);
  }
  state[rid] = 2;
}

/* Visits role x's declarations for role r in inheritance order; counts when
** out == NULL, else fills out. Each role is visited once (the first time
** the depth-first walk reaches it), so diamonds neither duplicate entries nor
** blow up exponentially. */
static int flatten(Compiler *C, int r, int x, int stampv, Entry *out, int n) {
  DanaPolicy *p = C->p;
  const Role *rx = &p->roles[x];
  int i;
  if (C->stamp[x] == stampv) return n;
  C->stamp[x] = stampv;
  for (i = 0; i < rx->ndecl; i++) {
    const Decl *d = &rx->decl[i];
    if (out) {
      const char *rn = p->roles[r].name;
      const char *kind = d->deny ? " deny " : " allow ";
      Entry *e = &out[n];
      e->d = d;
      if (d->role == r) e->text = new_text(C->L, p, rn, kind, d->perm, "");
      else {
        const char *via = lua_pushfstring(C->L, "%s via %s", rn, p->roles[d->role].name);
        e->text = new_text(C->L, p, via, kind, d->perm, "");
        lua_pop(C->L, 1);
      }
      e->esc = new_text(C->L, p, "escalated: ", rn, kind, d->perm);
    }
    n++;
    if (n > DANA_POLICY_MAX_FLAT) luaL_error(C->L, "policy too large");
  }
  for (i = 0; i < rx->ninh; i++) n = flatten(C, r, rx->inh[i], stampv, out, n);
  return n;
}

static void build_cells(lua_State *L, DanaPolicy *p, Role *r) {
  int c, i, k = 0, total = 0;
  /* An entry lands in every cell its scope/op bits cover. */
  for (c = 0; c < NCELLS; c++)
    for (i = 0; i < r->nflat; i++) {
      const Decl *d = r->flat[i].d;
      if ((d->scopes >> (c / NOPS) & 1u) && (d->ops >> (c % NOPS) & 1u)) total++;
    }
  r->cell = (int *)arena_array(L, p, (size_t)total, sizeof(int));
  for (c = 0; c < NCELLS; c++) {
    int s = c / NOPS, o = c % NOPS, pass;
    r->cstart[c] = k;
    r->cdeny[c] = 0;
    for (pass = 1; pass >= 0; pass--)
      for (i = 0; i < r->nflat; i++) {
        const Decl *d = r->flat[i].d;
        if (d->deny == pass && (d->scopes >> s & 1u) && (d->ops >> o & 1u)) {
          r->cell[k++] = i;
          if (pass) r->cdeny[c]++;
        }
      }
  }
  r->cstart[NCELLS] = k;
}

static void parse_limited(Compiler *C, int idx) {
  lua_State *L = C->L;
  DanaPolicy *p = C->p;
  idx = lua_absindex(L, idx);
  if (!lua_istable(L, idx)) fail(L, "limited", "expected a table of scope = array of keys");
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    size_t kl;
    const char *k;
    int s, n, i;
    if (lua_type(L, -2) != LUA_TSTRING) fail(L, "limited", "keys must be scope names");
    k = lua_tolstring(L, -2, &kl);
    s = scope_of(k, kl);
    if (s < 0 || s == S_CALL || s == S_IMPORT || strlen(k) != kl) {
      const char *q = push_quoted(L, k, kl);
      lua_pushfstring(L, "limited: unknown scope %s", q);
      lua_error(L);
    }
    {
      int vi = lua_gettop(L);
      n = check_array(L, vi, lua_pushfstring(L, "limited.%s", k), DANA_POLICY_MAX_LIMITED);
    }
    lua_pop(L, 1);
    p->limited[s] = (const char **)arena_array(L, p, (size_t)n, sizeof(char *));
    for (i = 1; i <= n; i++) {
      size_t vl = 0;
      const char *v;
      lua_rawgeti(L, -1, i);
      v = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &vl) : NULL;
      if (v == NULL || vl == 0 || vl > MAX_PERM || strlen(v) != vl) {
        lua_pushfstring(L, "limited.%s[%d]: expected a key name", k, i);
        lua_error(L);
      }
      p->limited[s][i - 1] = arena_str(L, p, v, vl);
      lua_pop(L, 1);
    }
    p->nlimited[s] = n;
    qsort((void *)p->limited[s], (size_t)n, sizeof(char *), cmp_cstr);
    lua_pop(L, 1);
  }
}

static void parse_escalation(Compiler *C, int idx) {
  lua_State *L = C->L;
  DanaPolicy *p = C->p;
  idx = lua_absindex(L, idx);
  if (!lua_istable(L, idx)) fail(L, "escalation", "expected a table");
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
    if (strcmp(k, "max_seconds") == 0) {
      lua_Number v = lua_tonumber(L, -1);
      if (lua_type(L, -1) != LUA_TNUMBER || !(v > 0) || !(v < 1e12))
        fail(L, "escalation.max_seconds", "expected a positive number");
      p->max_seconds = (double)v;
    }
    else if (strcmp(k, "max_ops") == 0) {
      int isint = 0;
      lua_Integer v = lua_type(L, -1) == LUA_TNUMBER ? lua_tointegerx(L, -1, &isint) : 0;
      if (!isint || v < 1) fail(L, "escalation.max_ops", "expected a positive integer");
      p->max_ops = (long long)v;
    }
    else {
      const char *q = push_quoted(L, k, strlen(k));
      lua_pushfstring(L, "escalation: unknown field %s", q);
      lua_error(L);
    }
    lua_pop(L, 1);
  }
}

/* Protected body of policy_compile: arg 1 the definition table, arg 2 the
** fresh userdata. Raises "<field>: <reason>" on invalid input. */
static int compile_body(lua_State *L) {
  DanaPolicy *p = (DanaPolicy *)lua_touserdata(L, 2);
  Compiler Cs, *C = &Cs;
  const char **names;
  int nnames = 0, nroles, i, rolesidx = 0, inhbase, total = 0;
  size_t hsize;
  C->L = L;
  C->p = p;
  C->ndecls = 0;
  luaL_checkstack(L, 40, "policy");
  /* top-level fields */
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    lua_pop(L, 1);
    if (k == NULL || (strcmp(k, "roles") && strcmp(k, "limited") && strcmp(k, "escalation")
                      && strcmp(k, "description") && strcmp(k, "version") && strcmp(k, "name"))) {
      size_t kl = 0;
      const char *ks = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &kl) : "?";
      const char *q = push_quoted(L, ks, kl ? kl : strlen(ks));
      lua_pushfstring(L, "policy: unknown field %s", q);
      lua_error(L);
    }
  }
  p->max_seconds = DEFAULT_MAX_SECONDS;
  p->max_ops = DEFAULT_MAX_OPS;
  /* roles: collect and sort the names so errors are deterministic */
  lua_getfield(L, 1, "roles");
  rolesidx = lua_gettop(L);
  if (!lua_isnil(L, rolesidx)) {
    if (!lua_istable(L, rolesidx)) fail(L, "roles", "expected a table of role name = role");
    lua_pushnil(L);
    while (lua_next(L, rolesidx)) {
      lua_pop(L, 1);
      if (lua_type(L, -1) != LUA_TSTRING) fail(L, "roles", "role names must be strings");
      if (++nnames > DANA_POLICY_MAX_ROLES) fail(L, "roles", "too many roles");
    }
  }
  names = (const char **)arena_array(L, p, (size_t)nnames, sizeof(char *));
  nnames = 0;
  if (!lua_isnil(L, rolesidx)) {
    lua_pushnil(L);
    while (lua_next(L, rolesidx)) {
      size_t kl;
      const char *k;
      lua_pop(L, 1);
      k = lua_tolstring(L, -1, &kl);
      if (!valid_name(k, kl) || strlen(k) != kl) {
        const char *q = push_quoted(L, k, kl);
        lua_pushfstring(L, "roles: bad role name %s (letters, digits, _ . - ; at most %d)", q, MAX_NAME);
        lua_error(L);
      }
      names[nnames++] = k;     /* kept alive by the roles table */
    }
    qsort((void *)names, (size_t)nnames, sizeof(char *), cmp_cstr);
  }
  /* role ids: builtins 0..2, then the custom roles in sorted order */
  p->roles = (Role *)arena_array(L, p, (size_t)(nnames + NBUILTIN), sizeof(Role));
  memset(p->roles, 0, (size_t)(nnames + NBUILTIN) * sizeof(Role));
  for (i = 0; i < NBUILTIN; i++) p->roles[i].name = builtin_names[i];
  nroles = NBUILTIN;
  for (i = 0; i < nnames; i++) {
    int j, dup = 0;
    for (j = 0; j < NBUILTIN; j++) if (strcmp(names[i], builtin_names[j]) == 0) dup = 1;
    if (!dup) p->roles[nroles++].name = arena_str(L, p, names[i], strlen(names[i]));
  }
  p->nroles = nroles;
  for (hsize = 8; hsize < (size_t)nroles * 2; hsize *= 2) {}
  p->htab = (int *)arena_array(L, p, hsize, sizeof(int));
  for (i = 0; i < (int)hsize; i++) p->htab[i] = -1;
  p->hmask = (unsigned)(hsize - 1);
  for (i = 0; i < nroles; i++) hash_insert(p, i);
  /* declarations; inherits arrays are kept on the stack, one slot per role */
  for (i = 0; i < NBUILTIN; i++) seed_builtin(C, i);
  luaL_checkstack(L, nroles + 20, "policy");
  inhbase = lua_gettop(L);
  for (i = 0; i < nroles; i++) {
    int top = lua_gettop(L);
    if (!lua_isnil(L, rolesidx)) lua_getfield(L, rolesidx, p->roles[i].name);
    else lua_pushnil(L);
    if (lua_isnil(L, -1)) {           /* builtin not mentioned */
      lua_pop(L, 1);
      lua_pushnil(L);
      continue;
    }
    parse_role(C, i, top + 1);        /* leaves role table, inherits */
    lua_remove(L, top + 1);
  }
  /* resolve inherits */
  for (i = 0; i < nroles; i++) {
    Role *r = &p->roles[i];
    int j;
    r->inh = (int *)arena_array(L, p, (size_t)r->ninh, sizeof(int));
    for (j = 0; j < r->ninh; j++) {
      size_t nl;
      const char *nm;
      int id;
      lua_rawgeti(L, inhbase + 1 + i, j + 1);
      nm = lua_tolstring(L, -1, &nl);
      id = role_lookup(p, nm, nl);
      if (id < 0 || strlen(nm) != nl) {
        const char *q = push_quoted(L, nm, nl);
        lua_pushfstring(L, "roles.%s.inherits[%d]: unknown role %s", r->name, j + 1, q);
        lua_error(L);
      }
      r->inh[j] = id;
      lua_pop(L, 1);
    }
  }
  {
    int *state = (int *)arena_array(L, p, (size_t)nroles, sizeof(int));
    int *path = (int *)arena_array(L, p, (size_t)nroles, sizeof(int));
    memset(state, 0, (size_t)nroles * sizeof(int));
    for (i = 0; i < nroles; i++) if (state[i] == 0) check_cycles(C, i, state, path, 0);
  }
  lua_settop(L, rolesidx);
  lua_getfield(L, 1, "limited");
  if (!lua_isnil(L, -1)) parse_limited(C, -1);
  else {                               /* default: the design document's limited key */
    p->limited[S_SYSTEM] = (const char **)arena_array(L, p, 1, sizeof(char *));
    p->limited[S_SYSTEM][0] = DANA_POLICY_DEFAULT_LIMITED;
    p->nlimited[S_SYSTEM] = 1;
  }
  lua_pop(L, 1);
  lua_getfield(L, 1, "escalation");
  if (!lua_isnil(L, -1)) parse_escalation(C, -1);
  lua_pop(L, 1);
  lua_getfield(L, 1, "description");
  if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING) fail(L, "description", "expected a string");
  lua_pop(L, 1);
  /* flatten inheritance and build the per-cell lists */
  C->stamp = (int *)arena_array(L, p, (size_t)nroles, sizeof(int));
  memset(C->stamp, 0, (size_t)nroles * sizeof(int));
  p->t_default = new_text(L, p, "default deny", "", "", "");
  p->t_unknown_role = new_text(L, p, "unknown role", "", "", "");
  p->t_bad_op = new_text(L, p, "unknown op", "", "", "");
  p->t_bad_resource = new_text(L, p, "invalid resource", "", "", "");
  p->t_closed = new_text(L, p, "policy closed", "", "", "");
  for (i = 0; i < nroles; i++) {
    Role *r = &p->roles[i];
    r->nflat = flatten(C, i, i, 2 * i + 1, NULL, 0);
    total += r->nflat;
    if (total > DANA_POLICY_MAX_FLAT) luaL_error(L, "policy too large");
    r->flat = (Entry *)arena_array(L, p, (size_t)r->nflat, sizeof(Entry));
    flatten(C, i, i, 2 * i + 2, r->flat, 0);
    build_cells(L, p, r);
  }
  /* cache every rule text as a Lua string (uservalue 1), by id */
  p->texts = (const Text **)arena_array(L, p, (size_t)p->ntexts, sizeof(Text *));
  p->texts[p->t_default->id] = p->t_default;
  p->texts[p->t_unknown_role->id] = p->t_unknown_role;
  p->texts[p->t_bad_op->id] = p->t_bad_op;
  p->texts[p->t_bad_resource->id] = p->t_bad_resource;
  p->texts[p->t_closed->id] = p->t_closed;
  for (i = 0; i < nroles; i++) {
    int j;
    for (j = 0; j < p->roles[i].nflat; j++) {
      p->texts[p->roles[i].flat[j].text->id] = p->roles[i].flat[j].text;
      p->texts[p->roles[i].flat[j].esc->id] = p->roles[i].flat[j].esc;
    }
  }
  lua_createtable(L, p->ntexts, 0);
  for (i = 0; i < p->ntexts; i++) {
    lua_pushstring(L, p->texts[i]->s);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setiuservalue(L, 2, 1);
  return 0;
}

static DanaPolicy *new_policy_ud(lua_State *L) {
  DanaPolicy *p = (DanaPolicy *)lua_newuserdatauv(L, sizeof(DanaPolicy), 1);
  memset(p, 0, sizeof *p);
  p->closed = 1;                     /* until compiled */
  luaL_setmetatable(L, DANA_POLICY_MT);
  return p;
}

/***
Compiles a policy definition.
@function policy_compile
@tparam[opt] table def `{roles = {name = {inherits=, allow=, deny=, replace=}}, limited = {scope = {keys}}, escalation = {max_seconds=, max_ops=}}`
@treturn[1] userdata a `dana.Policy`
@treturn[2] nil
@treturn[2] string message naming the bad field, e.g. `roles.analyst.allow[2]: bad permission 'x'`
@treturn[2] string `"EPOLICY"`
*/
static int l_policy_compile(lua_State *L) {
  DanaPolicy *p;
  if (lua_isnoneornil(L, 1)) { lua_settop(L, 0); lua_newtable(L); }
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_argcheck(L, lua_gettop(L) <= 1, 2, "too many arguments");
  p = new_policy_ud(L);             /* slot 2: stays referenced across the pcall */
  lua_pushcfunction(L, compile_body);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    free_policy(p);
    luaL_pushfail(L);
    lua_insert(L, -2);
    if (lua_type(L, -1) != LUA_TSTRING) { lua_pop(L, 1); lua_pushliteral(L, "invalid policy"); }
    lua_pushliteral(L, "EPOLICY");
    return 3;
  }
  p->closed = 0;
  lua_settop(L, 2);
  return 1;
}


/* ---------------------------------------------------------------- methods */

DanaPolicy *dana_policy_test(lua_State *L, int idx) {
  return (DanaPolicy *)luaL_testudata(L, idx, DANA_POLICY_MT);
}

DanaPolicy *dana_policy_check(lua_State *L, int idx) {
  DanaPolicy *p = (DanaPolicy *)luaL_checkudata(L, idx, DANA_POLICY_MT);
  if (p->closed) luaL_error(L, "attempt to use a closed policy");
  return p;
}

/* Pushes the cached Lua string of a rule text. */
static void push_text(lua_State *L, int ud, const DanaPolicy *p, const Text *t) {
  if (t == NULL) t = p->t_closed;
  lua_getiuservalue(L, ud, 1);
  lua_rawgeti(L, -1, t->id + 1);
  lua_remove(L, -2);
}

/* A string argument, or NULL when it has an embedded NUL (never a valid name). */
static const char *clean_str(lua_State *L, int idx) {
  size_t n;
  const char *s = luaL_checklstring(L, idx, &n);
  return strlen(s) == n ? s : NULL;
}

/***
Decides one access.
@function Policy:decide
@tparam string role
@tparam string op `read`, `write`, `delete`, `call` or `import`
@tparam string resource `"private:x"`, `"public:x"`, `"system:x"`, `"local:x"`, `"call:NAME"`, `"import:MODULE"`
@tparam[opt] boolean own the resource is the agent's own private scope
@tparam[opt] userdata grant an active `dana.Grant` (escalation), consumed if it decides
@treturn boolean allowed
@treturn string the deciding rule, e.g. `"agent allow public:*"` or `"default deny"`
*/
static int l_decide(lua_State *L) {
  DanaPolicy *p = dana_policy_check(L, 1);
  const char *role = clean_str(L, 2), *op = clean_str(L, 3), *res = clean_str(L, 4);
  int own = lua_toboolean(L, 5), ok;
  const Text *t = NULL;
  int rid = role ? role_lookup(p, role, strlen(role)) : -1;
  if (!lua_isnoneornil(L, 6)) {
    DanaGrant *g = (DanaGrant *)luaL_checkudata(L, 6, DANA_GRANT_MT);
    ok = decide_core(p, rid, op, res, own, &t, 0);
    if (!ok && dana_grant_active(g, p, dana_policy_now())) {
      const Text *t2 = NULL;
      if (decide_core(p, g->role, op, res, own, &t2, 1)) {
        g->ops_left--;
        ok = 1;
        t = t2;
      }
    }
  }
  else ok = decide_core(p, rid, op, res, own, &t, 0);
  lua_pushboolean(L, ok);
  push_text(L, 1, p, t);
  return 2;
}

/***
Lists the role names: the built-in user, agent, admin, then the others sorted.
@function Policy:roles
@treturn table array of strings
*/
static int l_roles(lua_State *L) {
  DanaPolicy *p = dana_policy_check(L, 1);
  int i;
  lua_createtable(L, p->nroles, 0);
  for (i = 0; i < p->nroles; i++) {
    lua_pushstring(L, p->roles[i].name);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/***
Describes one role after inheritance.
@function Policy:role
@tparam string name
@treturn[1] table `{name=, inherits={...}, rules={{kind="allow"|"deny", perm=, from=, text=}, ...}}`, rules in evaluation order
@treturn[2] nil unknown role
*/
static int l_role(lua_State *L) {
  DanaPolicy *p = dana_policy_check(L, 1);
  const char *name = clean_str(L, 2);
  int rid = name ? role_lookup(p, name, strlen(name)) : -1, i;
  const Role *r;
  if (rid < 0) { luaL_pushfail(L); return 1; }
  r = &p->roles[rid];
  lua_createtable(L, 0, 3);
  lua_pushstring(L, r->name);
  lua_setfield(L, -2, "name");
  lua_createtable(L, r->ninh, 0);
  for (i = 0; i < r->ninh; i++) {
    lua_pushstring(L, p->roles[r->inh[i]].name);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "inherits");
  lua_createtable(L, r->nflat, 0);
  for (i = 0; i < r->nflat; i++) {
    const Entry *e = &r->flat[i];
    lua_createtable(L, 0, 4);
    lua_pushstring(L, e->d->deny ? "deny" : "allow");
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, e->d->perm);
    lua_setfield(L, -2, "perm");
    lua_pushstring(L, p->roles[e->d->role].name);
    lua_setfield(L, -2, "from");
    lua_pushstring(L, e->text->s);
    lua_setfield(L, -2, "text");
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "rules");
  return 1;
}

/***
The limited allowlists and escalation caps.
@function Policy:settings
@treturn table `{limited = {scope = {keys}}, escalation = {max_seconds=, max_ops=}}`
*/
static int l_settings(lua_State *L) {
  DanaPolicy *p = dana_policy_check(L, 1);
  int s, i;
  lua_createtable(L, 0, 2);
  lua_newtable(L);
  for (s = 0; s < NSCOPES; s++) {
    if (p->nlimited[s] == 0) continue;
    lua_createtable(L, p->nlimited[s], 0);
    for (i = 0; i < p->nlimited[s]; i++) {
      lua_pushstring(L, p->limited[s][i]);
      lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, scope_names[s]);
  }
  lua_setfield(L, -2, "limited");
  lua_createtable(L, 0, 2);
  lua_pushnumber(L, p->max_seconds);
  lua_setfield(L, -2, "max_seconds");
  lua_pushinteger(L, (lua_Integer)p->max_ops);
  lua_setfield(L, -2, "max_ops");
  lua_setfield(L, -2, "escalation");
  return 1;
}

/* __gc and __close; safe to call twice. */
static int l_policy_close(lua_State *L) {
  DanaPolicy *p = (DanaPolicy *)luaL_checkudata(L, 1, DANA_POLICY_MT);
  free_policy(p);
  return 0;
}

static int l_policy_tostring(lua_State *L) {
  DanaPolicy *p = (DanaPolicy *)luaL_checkudata(L, 1, DANA_POLICY_MT);
  if (p->closed) lua_pushliteral(L, "dana.Policy (closed)");
  else lua_pushfstring(L, "dana.Policy (%d roles): %p", p->nroles, (void *)p);
  return 1;
}

/***
Benchmark helper: runs `n` rounds of decisions over `cases` in C through
`dana_policy_decide`, so the number measured is the C core's.
@function _policy_bench
@tparam userdata policy
@tparam table cases array of `{role, op, resource, own}`
@tparam integer n rounds
@treturn number wall-clock seconds
@treturn integer decisions that allowed
@treturn number CPU seconds of the process
*/
static int l_policy_bench(lua_State *L) {
  DanaPolicy *p = dana_policy_check(L, 1);
  lua_Integer n = luaL_checkinteger(L, 3), k;
  int nc, i;
  const char **v;
  int *own;
  long long allowed = 0;
  double t0;
  clock_t c0;
  luaL_checktype(L, 2, LUA_TTABLE);
  nc = (int)luaL_len(L, 2);
  luaL_argcheck(L, nc > 0 && nc < 100000, 2, "1..99999 cases");
  v = (const char **)lua_newuserdatauv(L, (size_t)nc * 3 * sizeof(char *) + (size_t)nc * sizeof(int), 0);
  own = (int *)(void *)(v + (size_t)nc * 3);
  lua_createtable(L, nc * 3, 0);   /* anchors the strings */
  for (i = 0; i < nc; i++) {
    int j;
    lua_rawgeti(L, 2, i + 1);
    luaL_checktype(L, -1, LUA_TTABLE);
    for (j = 0; j < 3; j++) {
      lua_rawgeti(L, -1, j + 1);
      v[i * 3 + j] = luaL_checkstring(L, -1);
      lua_rawseti(L, -3, i * 3 + j + 1);
    }
    lua_rawgeti(L, -1, 4);
    own[i] = lua_toboolean(L, -1);
    lua_pop(L, 2);
  }
  c0 = clock();
  t0 = dana_policy_now();
  for (k = 0; k < n; k++)
    for (i = 0; i < nc; i++) {
      const char *rule;
      allowed += dana_policy_decide(p, v[i * 3], v[i * 3 + 1], v[i * 3 + 2], own[i], &rule);
    }
  lua_pushnumber(L, dana_policy_now() - t0);
  lua_pushinteger(L, (lua_Integer)allowed);
  lua_pushnumber(L, (double)(clock() - c0) / CLOCKS_PER_SEC);
  return 3;
}


/* ------------------------------------------------------------------ grants */

DanaGrant *dana_grant_check(lua_State *L, int idx) {
  return (DanaGrant *)luaL_checkudata(L, idx, DANA_GRANT_MT);
}

/* Pushes a new grant for role rid of the policy at pidx, clamped to its caps. */
static DanaGrant *push_grant(lua_State *L, int pidx, const DanaPolicy *p, int rid,
                             double now, double until, long long ops) {
  DanaGrant *g;
  pidx = lua_absindex(L, pidx);
  if (until > now + p->max_seconds) until = now + p->max_seconds;
  if (ops > p->max_ops) ops = p->max_ops;
  g = (DanaGrant *)lua_newuserdatauv(L, sizeof(DanaGrant), 1);
  g->policy = p;
  g->role = rid;
  g->until_time = until;
  g->ops_left = ops;
  g->revoked = 0;
  luaL_setmetatable(L, DANA_GRANT_MT);
  lua_pushvalue(L, pidx);
  lua_setiuservalue(L, -2, 1);      /* keeps the policy (and role ids) alive */
  return g;
}

/***
Creates an escalation grant (the host has approved it). At least one bound is
required; both are clamped to the policy's `escalation` caps.
@function policy_grant
@tparam userdata policy
@tparam string role the role granted
@tparam[opt] number until_time expiry, seconds since the epoch
@tparam[opt] integer max_ops number of escalated decisions
@treturn[1] userdata a `dana.Grant`
@treturn[2] nil
@treturn[2] string message
@treturn[2] string `"EPOLICY"`
*/
static int l_policy_grant(lua_State *L) {
  DanaPolicy *p = dana_policy_check(L, 1);
  const char *role = clean_str(L, 2);
  double now = dana_policy_now(), until;
  long long ops;
  int rid = role ? role_lookup(p, role, strlen(role)) : -1;
  const char *err = NULL;
  if (rid < 0) err = "escalation grant: unknown role";
  else if (lua_isnoneornil(L, 3) && lua_isnoneornil(L, 4))
    err = "escalation grant: needs until_time or max_ops";
  if (err == NULL && !lua_isnoneornil(L, 3)) {
    until = (double)luaL_checknumber(L, 3);
    if (!(until > now)) err = "escalation grant: until_time is not in the future";
  }
  else until = HUGE_VAL;
  if (err == NULL && !lua_isnoneornil(L, 4)) {
    lua_Integer m = luaL_checkinteger(L, 4);
    if (m < 1) err = "escalation grant: max_ops must be at least 1";
    ops = (long long)m;
  }
  else ops = p->max_ops;
  if (err) {
    luaL_pushfail(L);
    lua_pushstring(L, err);
    lua_pushliteral(L, "EPOLICY");
    return 3;
  }
  push_grant(L, 1, p, rid, now, until, ops);
  return 1;
}

DanaGrant *dana_grant_push(lua_State *L, int policy_idx, const char *role,
                           double seconds, long long max_ops,
                           char *err, size_t errlen) {
  DanaPolicy *p = dana_policy_test(L, policy_idx);
  double now = dana_policy_now();
  int rid;
  const char *msg = NULL;
  if (p == NULL || p->closed) msg = "escalation grant: no open policy";
  else if (role == NULL || (rid = role_lookup(p, role, strlen(role))) < 0)
    msg = "escalation grant: unknown role";
  if (msg != NULL) {
    if (err != NULL && errlen > 0) snprintf(err, errlen, "%s", msg);
    return NULL;
  }
  if (!(seconds > 0) || seconds > p->max_seconds) seconds = p->max_seconds;
  if (max_ops <= 0 || max_ops > p->max_ops) max_ops = p->max_ops;
  return push_grant(L, policy_idx, p, rid, now, now + seconds, max_ops);
}

/***
Is the grant still usable?
@function Grant:active
@tparam[opt] number now seconds since the epoch (default: the current time)
@treturn boolean
*/
static int l_grant_active(lua_State *L) {
  DanaGrant *g = dana_grant_check(L, 1);
  double now = lua_isnoneornil(L, 2) ? dana_policy_now() : (double)luaL_checknumber(L, 2);
  lua_pushboolean(L, dana_grant_active(g, g->policy, now));
  return 1;
}

/***
Revokes the grant for good.
@function Grant:revoke
*/
static int l_grant_revoke(lua_State *L) {
  DanaGrant *g = dana_grant_check(L, 1);
  g->revoked = 1;
  return 0;
}

/***
Describes the grant.
@function Grant:info
@treturn table `{role=, until_time=, ops_left=, revoked=}`
*/
static int l_grant_info(lua_State *L) {
  DanaGrant *g = dana_grant_check(L, 1);
  const DanaPolicy *p = g->policy;
  lua_createtable(L, 0, 4);
  if (!p->closed) {
    lua_pushstring(L, p->roles[g->role].name);
    lua_setfield(L, -2, "role");
  }
  lua_pushnumber(L, g->until_time);
  lua_setfield(L, -2, "until_time");
  lua_pushinteger(L, (lua_Integer)(g->ops_left > 0 ? g->ops_left : 0));
  lua_setfield(L, -2, "ops_left");
  lua_pushboolean(L, g->revoked);
  lua_setfield(L, -2, "revoked");
  return 1;
}

static int l_grant_tostring(lua_State *L) {
  DanaGrant *g = dana_grant_check(L, 1);
  lua_pushfstring(L, "dana.Grant (%s): %p",
                  g->policy->closed ? "policy closed" : g->policy->roles[g->role].name,
                  (void *)g);
  return 1;
}

/***
The clock grants use.
@function policy_now
@treturn number seconds since the epoch, with sub-second precision
*/
static int l_policy_now(lua_State *L) {
  lua_pushnumber(L, dana_policy_now());
  return 1;
}

static const luaL_Reg policy_methods[] = {
  {"decide", l_decide},
  {"roles", l_roles},
  {"role", l_role},
  {"settings", l_settings},
  {"close", l_policy_close},
  {NULL, NULL}
};

static const luaL_Reg policy_meta[] = {
  {"__gc", l_policy_close},
  {"__close", l_policy_close},
  {"__tostring", l_policy_tostring},
  {"__index", NULL},
  {NULL, NULL}
};

static const luaL_Reg grant_methods[] = {
  {"active", l_grant_active},
  {"revoke", l_grant_revoke},
  {"info", l_grant_info},
  {NULL, NULL}
};

static const luaL_Reg grant_meta[] = {
  {"__tostring", l_grant_tostring},
  {"__index", NULL},
  {NULL, NULL}
};

static const luaL_Reg policy_funcs[] = {
  {"policy_compile", l_policy_compile},
  {"policy_grant", l_policy_grant},
  {"policy_now", l_policy_now},
  {"_policy_bench", l_policy_bench},
  {NULL, NULL}
};

void dana_policy_open(lua_State *L) {
  luaL_newmetatable(L, DANA_POLICY_MT);
  luaL_setfuncs(L, policy_meta, 0);
  luaL_newlib(L, policy_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newmetatable(L, DANA_GRANT_MT);
  luaL_setfuncs(L, grant_meta, 0);
  luaL_newlib(L, grant_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_setfuncs(L, policy_funcs, 0);
}
