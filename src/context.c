/*
** context.c: sandboxes (tenants) and agents, the host API of dana.core.
**
** A sandbox owns its tenant's public: and system: stores, its limits, its
** print sink and registered host functions. An agent owns one child
** lua_State (made with the capped allocator of limits.c) and its private:
** store. Nothing crosses between states but codec blobs.
**
** Every piece of work done in an agent state runs under lua_pcall in that
** state, so an allocation failure there never reaches a panic; and every
** piece of host work done while an agent runs (the print sink, a host
** function) runs under lua_pcall in the host, so a host error never unwinds
** through the agent's C frames.
*/
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "guard.h"
#include "policy.h"
#include "audit.h"
#include "sanitize.h"
#include "dana.h"

typedef struct SandboxUD { DanaSandbox *sb; } SandboxUD;
typedef struct AgentUD { DanaAgent *a; } AgentUD;

#define DEFAULTS_KEY "dana.defaults"
#define AGENTS_KEY   "dana.agents"   /* host registry: weak map DanaAgent* -> Agent userdata */
#define MAX_MESSAGE 4096

/* ---- small helpers ---- */

static char *dup_string(const char *s) {
  size_t n = strlen(s);
  char *d = (char *)malloc(n + 1);
  if (d) memcpy(d, s, n + 1);
  return d;
}

static DanaSandbox *check_sandbox(lua_State *L, int idx) {
  SandboxUD *u = (SandboxUD *)luaL_checkudata(L, idx, SANDBOX_MT);
  if (u->sb == NULL || u->sb->closed) luaL_error(L, "attempt to use a closed sandbox");
  return u->sb;
}

static DanaAgent *check_agent(lua_State *L, int idx) {
  AgentUD *u = (AgentUD *)luaL_checkudata(L, idx, AGENT_MT);
  if (u->a == NULL || u->a->A == NULL) luaL_error(L, "attempt to use a closed agent");
  return u->a;
}

/* Pushes nil, an error record and its kind: the "expected failure" shape. */
static int push_failure(lua_State *L, const char *kind, const char *msg, const char *file,
                        int line, int col) {
  lua_pushnil(L);
  dana_error_push(L, kind, msg, file, line, col);
  lua_pushstring(L, kind);
  return 3;
}

static void sandbox_release(DanaSandbox *sb) {
  if (--sb->refs > 0) return;
  free(sb->tenant);
  free(sb);
}

/* ---- limits tables ---- */

static void default_limits(lua_State *L, DanaLimits *l) {
  l->memory = DANA_DEFAULT_MEMORY;
  l->time = DANA_DEFAULT_TIME;
  l->instructions = 0;
  l->calls_per_minute = DANA_DEFAULT_CALLS;
  l->output = DANA_DEFAULT_OUTPUT;
  if (lua_getfield(L, LUA_REGISTRYINDEX, DEFAULTS_KEY) == LUA_TUSERDATA) {
    const DanaLimits *d = (const DanaLimits *)lua_touserdata(L, -1);
    if (d->memory) l->memory = d->memory;
    if (d->time > 0) l->time = d->time;
    if (d->instructions) l->instructions = d->instructions;
    if (d->calls_per_minute) l->calls_per_minute = d->calls_per_minute;
    if (d->output) l->output = d->output;
  }
  lua_pop(L, 1);
}

void dana_set_default_limits(lua_State *L, size_t memory_bytes, double time_seconds,
                             long long instructions, int calls_per_minute,
                             size_t output_bytes) {
  DanaLimits *d = (DanaLimits *)lua_newuserdatauv(L, sizeof *d, 0);
  d->memory = memory_bytes;
  d->time = time_seconds;
  d->instructions = instructions;
  d->calls_per_minute = calls_per_minute;
  d->output = output_bytes;
  lua_setfield(L, LUA_REGISTRYINDEX, DEFAULTS_KEY);
}

static lua_Number limit_number(lua_State *L, const char *name, lua_Number max) {
  lua_Number v;
  if (!lua_isnumber(L, -1))
    luaL_error(L, "limits.%s must be a number (%s given)", name, luaL_typename(L, -1));
  v = lua_tonumber(L, -1);
  if (!(v >= 0 && v <= max)) luaL_error(L, "limits.%s is out of range", name);
  return v;
}

/* Reads the limits table at idx (if any) over *l. `tenant`: 0 means "no cap"
** for memory and output. */
static void read_limits(lua_State *L, int idx, DanaLimits *l, int tenant) {
  idx = lua_absindex(L, idx);
  if (lua_isnoneornil(L, idx)) return;
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
    if (strcmp(k, "memory") == 0) {
      l->memory = (size_t)limit_number(L, k, 1e15);
      if (!tenant && l->memory < DANA_MIN_MEMORY)
        luaL_error(L, "limits.memory must be at least %d bytes", (int)DANA_MIN_MEMORY);
    } else if (strcmp(k, "time") == 0) {
      l->time = (double)limit_number(L, k, 1e9);
    } else if (strcmp(k, "instructions") == 0) {
      l->instructions = (long long)limit_number(L, k, 1e18);
    } else if (strcmp(k, "calls_per_minute") == 0) {
      if (lua_toboolean(L, -1) == 0) l->calls_per_minute = -1;  /* false: off */
      else l->calls_per_minute = (int)limit_number(L, k, 1e9);
    } else if (strcmp(k, "output") == 0) {
      l->output = (size_t)limit_number(L, k, 1e15);
    } else {
      luaL_error(L, "unknown limit '%s' (memory, time, instructions, calls_per_minute, output)", k);
    }
    lua_pop(L, 1);
  }
}

static void push_limits(lua_State *L, const DanaLimits *l) {
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, (lua_Integer)l->memory);
  lua_setfield(L, -2, "memory");
  lua_pushnumber(L, l->time);
  lua_setfield(L, -2, "time");
  lua_pushinteger(L, (lua_Integer)l->instructions);
  lua_setfield(L, -2, "instructions");
  lua_pushinteger(L, l->calls_per_minute);
  lua_setfield(L, -2, "calls_per_minute");
  lua_pushinteger(L, (lua_Integer)l->output);
  lua_setfield(L, -2, "output");
}

/* ---- decoding without leaking the blob when the target state raises ---- */

static int decode_blob(lua_State *S) {
  const DanaBlob *b = (const DanaBlob *)lua_touserdata(S, 1);
  dana_value_decode(S, b->data, b->len);
  return 1;
}

/* Pushes the decoded value (or the error) and frees the blob. */
static int decode_protected(lua_State *S, DanaBlob *b) {
  int status;
  lua_pushcfunction(S, decode_blob);
  lua_pushlightuserdata(S, b);
  status = lua_pcall(S, 1, 1, 0);
  dana_blob_free(b);
  return status;
}

/* ---- the host side of agent callbacks ---- */

typedef struct HostCall {
  DanaAgent *a;
  const char *text;          /* emit */
  size_t len;
  const char *fname;         /* call */
  DanaBlob *args;
  int nargs;
  DanaBlob result;
  int has_result;
  char why[160];
} HostCall;

static int host_emit(lua_State *H) {
  HostCall *c = (HostCall *)lua_touserdata(H, 1);
  lua_rawgeti(H, LUA_REGISTRYINDEX, c->a->sb->print_ref);
  lua_pushstring(H, c->a->name);
  dana_guard_push_redacted(H, c->a, c->text, c->len);  /* no secret reaches the sink */
  lua_call(H, 2, 0);
  return 0;
}

void dana_agent_emit(lua_State *L, DanaAgent *a, const char *s, size_t n) {
  HostCall c;
  lua_State *H = a->host;
  dana_limits_output(L, a, n);
  if (H == NULL || a->sb->print_ref == LUA_NOREF || n == 0) return;
  memset(&c, 0, sizeof c);
  c.a = a;
  c.text = s;
  c.len = n;
  lua_pushcfunction(H, host_emit);
  lua_pushlightuserdata(H, &c);
  if (lua_pcall(H, 1, 0, 0) != LUA_OK) lua_pop(H, 1);  /* a failing sink loses the text only */
}

/* Host-function trust levels (sb:register's `trust`). */
#define TRUST_CORE    0  /* permission-checked, audited, copied and sanitized arguments */
#define TRUST_SANDBOX 1  /* privileged: gets the live Agent object first; still audited */

/* Pushes funcs[name] (a table {fn, trust, permission}) or nil. */
static int push_function_entry(lua_State *H, DanaSandbox *sb, const char *name) {
  lua_rawgeti(H, LUA_REGISTRYINDEX, sb->funcs_ref);
  if (lua_type(H, -1) != LUA_TTABLE) return LUA_TNIL;
  lua_getfield(H, -1, name);
  lua_remove(H, -2);
  return lua_type(H, -1);
}

/* 1 when the host registered a function of exactly this name (no NUL inside). */
static int host_function_registered(lua_State *H, DanaSandbox *sb, const char *name, size_t n) {
  int top = lua_gettop(H);
  int yes = strlen(name) == n && push_function_entry(H, sb, name) == LUA_TTABLE;
  lua_settop(H, top);
  return yes;
}

static int host_invoke(lua_State *H) {
  HostCall *c = (HostCall *)lua_touserdata(H, 1);
  int i, trust, nargs = c->nargs;
  luaL_checkstack(H, c->nargs + 8, "host call arguments");
  push_function_entry(H, c->a->sb, c->fname);           /* 2: entry */
  lua_getfield(H, 2, "trust");
  trust = (int)lua_tointeger(H, -1);
  lua_pop(H, 1);
  lua_getfield(H, 2, "fn");                              /* the function */
  if (trust == TRUST_SANDBOX) {
    lua_getfield(H, LUA_REGISTRYINDEX, AGENTS_KEY);      /* the live Agent object */
    lua_rawgetp(H, -1, c->a);
    lua_remove(H, -2);
    nargs++;
  }
  for (i = 0; i < c->nargs; i++) {
    dana_value_decode(H, c->args[i].data, c->args[i].len);
    if (trust == TRUST_CORE) {
      /* a sanitized view: no private/system scopes, no secret the agent holds */
      dana_sanitize_push_value(H, -1, c->a->secrets, 1);
      lua_remove(H, -2);
    }
  }
  lua_call(H, nargs, 1);
  if (!dana_value_encode(H, -1, &c->a->sb->codec, &c->result, c->why, sizeof c->why))
    return luaL_error(H, "result cannot be copied");
  c->has_result = 1;
  return 0;
}

/* The permission a call needs: the one given at registration, or call:NAME. */
static void call_permission(lua_State *H, DanaAgent *a, const char *name, char *buf, size_t cap) {
  int top = lua_gettop(H);
  snprintf(buf, cap, "call:%s", name);
  if (push_function_entry(H, a->sb, name) == LUA_TTABLE &&
      lua_getfield(H, -1, "permission") == LUA_TSTRING) {
    const char *p = lua_tostring(H, -1);
    snprintf(buf, cap, "%s", p);
  }
  lua_settop(H, top);
}

/* dana.registered(name) inside an agent: is there a host function of that name
** that was not taken from LLM output? (use() checks it before handing out a callable) */
int dana_agent_registered(lua_State *L) {
  DanaAgent *a = dana_agent_of(L);
  size_t n;
  const char *name = luaL_checklstring(L, 1, &n);
  int yes = 0;
  if (a != NULL && a->sb != NULL && a->host != NULL && !dana_taint_name(a->taint, name, n))
    yes = host_function_registered(a->host, a->sb, name, n);
  lua_pushboolean(L, yes);
  return 1;
}

int dana_agent_call_host(lua_State *L) {
  DanaAgent *a = dana_agent_of(L);
  HostCall c;
  DanaBlob small[8];
  int n = lua_gettop(L) - 1, i, ok;
  const char *name, *rule = NULL;
  char perm[300], err[200];
  lua_State *H;
  if (a == NULL || a->sb == NULL) return luaL_error(L, "dana.call: not inside an agent");
  H = a->host;
  if (lua_type(L, 1) != LUA_TSTRING)
    dana_agent_raise(L, "TypeError", "dana.call: the function name is a string");
  name = lua_tostring(L, 1);
  if (H == NULL) dana_agent_raise(L, "RuntimeError", "no host is running this agent");
  if (!host_function_registered(H, a->sb, name, lua_rawlen(L, 1))) {
    dana_guard_audit(H, a, "deny", "call:?", "deny", "not a registered host function", NULL,
                     err, sizeof err);
    dana_agent_raise(L, "PermissionError", "that is not a registered host function");
  }
  if (dana_taint_name(a->taint, name, strlen(name))) {
    dana_guard_audit(H, a, "deny", "call:?", "deny", "function name from LLM output", NULL,
                     err, sizeof err);
    dana_agent_raise(L, "PermissionError", "a function name taken from LLM output cannot be called");
  }
  call_permission(H, a, name, perm, sizeof perm);
  if (!dana_guard_decide(a, "call", perm, &rule)) {
    dana_guard_audit(H, a, "call", perm, "deny", rule, NULL, err, sizeof err);
    dana_agent_raise(L, "PermissionError", "role '%s' may not call '%s'", a->role, name);
  }
  dana_limits_take_call(L, a);
  if (!dana_guard_audit(H, a, "call", perm, "allow", rule, NULL, err, sizeof err))
    dana_agent_raise(L, "SecurityError", "audit log unavailable, call refused: %s", err);
  memset(&c, 0, sizeof c);
  c.a = a;
  c.fname = name;
  c.nargs = n;
  c.args = n <= 8 ? small : (DanaBlob *)calloc((size_t)n, sizeof(DanaBlob));
  if (c.args == NULL) dana_limits_trip(L, a, DANA_LIM_MEMORY);
  for (i = 0; i < n; i++) {
    char why[160];
    if (!dana_value_encode(L, i + 2, &a->sb->codec, &c.args[i], why, sizeof why)) {
      int j;
      for (j = 0; j < i; j++) dana_blob_free(&c.args[j]);
      if (c.args != small) free(c.args);
      dana_limits_poll(L);  /* interrupted by a limit: that limit is the error */
      dana_agent_raise(L, dana_value_refusal_kind(why), "argument %d of '%s' cannot be copied: %s",
                       i + 1, name, why);
    }
  }
  lua_pushcfunction(H, host_invoke);
  lua_pushlightuserdata(H, &c);
  ok = lua_pcall(H, 1, 0, 0) == LUA_OK;
  if (!ok) lua_pop(H, 1);  /* the host's message stays in the host: it may hold secrets */
  for (i = 0; i < n; i++) dana_blob_free(&c.args[i]);
  if (c.args != small) free(c.args);
  if (!ok || !c.has_result) {
    dana_blob_free(&c.result);
    dana_agent_raise(L, "RuntimeError", "host function '%s' failed", name);
  }
  lua_settop(L, 0);
  if (decode_protected(L, &c.result) != LUA_OK) dana_limits_trip(L, a, DANA_LIM_MEMORY);
  return 1;
}

/* ---- agent states ---- */

/* Runs in the new agent state, protected: the library, the dana fields and
** the untrusted Lua env. */
static int agent_init_state(lua_State *A) {
  DanaAgent *a = (DanaAgent *)lua_touserdata(A, 1);
  dana_agentlib_setup(A);
  lua_getfield(A, LUA_REGISTRYINDEX, DANA_REG_TEMPLATE);
  lua_getfield(A, -1, "dana");
  lua_pushstring(A, a->name);
  lua_setfield(A, -2, "agent");
  lua_pushstring(A, a->sb->tenant);
  lua_setfield(A, -2, "tenant");
  lua_pushstring(A, a->role);
  lua_setfield(A, -2, "role");
  lua_pushstring(A, a->user);
  lua_setfield(A, -2, "user");
  lua_pushstring(A, a->session);
  lua_setfield(A, -2, "session");
  lua_settop(A, 0);
  dana_agentlib_push_env(A);
  lua_setfield(A, LUA_REGISTRYINDEX, DANA_REG_LUAENV);
  lua_newtable(A);
  lua_setfield(A, LUA_REGISTRYINDEX, DANA_REG_LOADED);
  return 0;
}

/* Makes a->A. On failure returns 0 with a message in why. */
static int agent_open_state(DanaAgent *a, const char **why) {
  lua_State *A = lua_newstate(dana_agent_alloc, a);
  if (A == NULL) {
    *why = "not enough memory for a new agent state";
    return 0;
  }
  a->A = A;
  lua_pushcfunction(A, agent_init_state);
  lua_pushlightuserdata(A, a);
  if (lua_pcall(A, 1, 0, 0) != LUA_OK) {
    lua_close(A);
    a->A = NULL;
    *why = "not enough memory to set up the agent state";
    return 0;
  }
  /* the default (incremental) collector, as plain lua5.4 has it */
  return 1;
}

static void agent_close_state(DanaAgent *a) {
  if (a->A) {
    lua_close(a->A);  /* the allocator gives the bytes back to a and the tenant */
    a->A = NULL;
  }
  a->poison = DANA_LIM_NONE;
  a->tripped = DANA_LIM_NONE;
  a->booted = 0;
}

static void agent_unlink(DanaAgent *a) {
  DanaSandbox *sb = a->sb;
  if (a->prev) a->prev->next = a->next;
  else if (sb->agents == a) sb->agents = a->next;
  if (a->next) a->next->prev = a->prev;
  a->next = a->prev = NULL;
}

/* Frees everything but the struct (which the userdata still points to). */
static void agent_close(lua_State *L, DanaAgent *a) {
  if (a->sb == NULL) return;
  agent_close_state(a);
  luaL_unref(L, LUA_REGISTRYINDEX, a->grant_ref);
  a->grant_ref = LUA_NOREF;
  a->grant = NULL;
  dana_secretset_free(a->secrets);
  dana_taint_free(a->taint);
  a->secrets = NULL;
  a->taint = NULL;
  if (a->priv) {
    dana_scope_free(a->priv);
    a->priv = NULL;
  }
  agent_unlink(a);
  sandbox_release(a->sb);
  a->sb = NULL;
}

static void agent_free(lua_State *L, DanaAgent *a) {
  agent_close(L, a);
  free(a->name);
  free(a->user);
  free(a->role);
  free(a->session);
  free(a);
}

/* ---- running code in an agent ---- */

typedef struct ErrInfo {
  char kind[40];
  char message[MAX_MESSAGE];
  int line, col;
  int has_position;
} ErrInfo;

/* The message handler: records where a Lua-level error happened. */
static int agent_msgh(lua_State *A) {
  DanaAgent *a = dana_agent_of(A);
  lua_Debug ar;
  int level;
  if (a == NULL) return 1;
  for (level = 0; lua_getstack(A, level, &ar); level++) {
    if (!lua_getinfo(A, "Sl", &ar)) break;
    if (ar.source && ar.source[0] == '@' && ar.currentline > 0) {
      size_t n = strlen(ar.source + 1);
      if (n >= sizeof a->err_file) n = sizeof a->err_file - 1;
      memcpy(a->err_file, ar.source + 1, n);
      a->err_file[n] = '\0';
      a->err_line = ar.currentline;
      break;
    }
  }
  return 1;
}

static int known_kind(const char *k) {
  static const char *const kinds[] = {
    "SyntaxError", "NameError", "TypeError", "ValueError", "KeyError", "IndexError",
    "ZeroDivisionError", "AttributeError", "AssertionError", "PermissionError",
    "ImportError", "SecurityError", "RuntimeError", "NotImplementedError", "Exception",
    "OverflowError", "StopIteration", "LookupError", "ArithmeticError", NULL
  };
  int i;
  for (i = 0; kinds[i]; i++)
    if (strcmp(k, kinds[i]) == 0) return 1;
  return 0;
}

static void copy_text(char *dst, size_t cap, const char *s, size_t n) {
  if (n >= cap) n = cap - 1;
  memcpy(dst, s, n);
  dst[n] = '\0';
}

/* "name.lua:12: msg" -> msg, and the line. */
static const char *strip_position(const char *m, int *line) {
  const char *p = m;
  while (*p && *p != ':' && *p != '\n') p++;
  if (*p == ':' && p[1] >= '0' && p[1] <= '9') {
    const char *q = p + 1;
    int n = 0;
    while (*q >= '0' && *q <= '9') {
      if (n < 100000000) n = n * 10 + (*q - '0');
      q++;
    }
    if (q[0] == ':' && q[1] == ' ') {
      *line = n;
      return q + 2;
    }
  }
  return m;
}

static void classify_string(ErrInfo *e, const char *m) {
  const char *g;
  int line = 0;
  m = strip_position(m, &line);
  if (line > 0 && !e->has_position) {
    e->line = line;
  }
  if ((g = strstr(m, "attempt to call a nil value (global '")) != NULL) {
    size_t n;
    g += strlen("attempt to call a nil value (global '");
    n = strcspn(g, "'");
    strcpy(e->kind, "NameError");
    snprintf(e->message, sizeof e->message, "name '%.*s' is not defined", (int)n, g);
    return;
  }
  if (strncmp(m, "attempt to ", 11) == 0 || strstr(m, "bad argument #") != NULL)
    strcpy(e->kind, "TypeError");
  else
    strcpy(e->kind, "RuntimeError");
  copy_text(e->message, sizeof e->message, m, strlen(m));
}

/* Protected, in the agent state: reads the error object into the ErrInfo. */
static int agent_read_error(lua_State *A) {
  ErrInfo *e = (ErrInfo *)lua_touserdata(A, 2);
  switch (lua_type(A, 1)) {
    case LUA_TSTRING:
      classify_string(e, lua_tostring(A, 1));
      break;
    case LUA_TTABLE: {
      const char *kind = NULL;
      lua_pushliteral(A, "kind");
      if (lua_rawget(A, 1) == LUA_TSTRING) kind = lua_tostring(A, -1);
      lua_pushliteral(A, "message");
      if (lua_rawget(A, 1) == LUA_TSTRING) {
        size_t n;
        const char *m = lua_tolstring(A, -1, &n);
        copy_text(e->message, sizeof e->message, m, n);
      } else {
        strcpy(e->message, kind ? "" : "error object is a table value");
      }
      if (kind && known_kind(kind)) copy_text(e->kind, sizeof e->kind, kind, strlen(kind));
      else strcpy(e->kind, "RuntimeError");
      lua_pushliteral(A, "line");
      if (lua_rawget(A, 1) == LUA_TNUMBER && lua_isinteger(A, -1)) {
        lua_Integer l = lua_tointeger(A, -1);
        if (l > 0 && l < 0x7fffffff) {
          e->line = (int)l;
          e->has_position = 1;
        }
      }
      lua_pushliteral(A, "col");
      if (lua_rawget(A, 1) == LUA_TNUMBER && lua_isinteger(A, -1)) {
        lua_Integer c = lua_tointeger(A, -1);
        if (c > 0 && c < 0x7fffffff) e->col = (int)c;
      }
      break;
    }
    default:
      strcpy(e->kind, "RuntimeError");
      snprintf(e->message, sizeof e->message, "error object is a %s value",
               luaL_typename(A, 1));
  }
  return 0;
}

/* Pushes the line `line` of src (without its newline), or nothing. */
static int push_source_line(lua_State *L, DanaAgent *a, const char *src, size_t len, int line) {
  size_t i = 0;
  int n = 1;
  const char *end;
  if (src == NULL || line <= 0) return 0;
  while (n < line && i < len) {
    if (src[i++] == '\n') n++;
  }
  if (n != line || i > len) return 0;
  end = memchr(src + i, '\n', len - i);
  dana_guard_push_redacted(L, a, src + i, end ? (size_t)(end - (src + i)) : len - i);
  return 1;
}

/* After a failed pcall in the agent: pushes nil, record, kind onto L. */
static int agent_failure(lua_State *L, DanaAgent *a, int status, const char *chunk,
                         const char *src, size_t srclen) {
  lua_State *A = a->A;
  ErrInfo e;
  char clean[MAX_MESSAGE];
  const char *file = a->err_file[0] ? a->err_file : chunk;
  memset(&e, 0, sizeof e);
  e.line = a->err_line;
  if (dana_limits_settle(a, status, A) == DANA_LIM_NONE) {
    lua_pushcfunction(A, agent_read_error);
    lua_pushvalue(A, -2);
    lua_pushlightuserdata(A, &e);
    if (lua_pcall(A, 2, 0, 0) != LUA_OK) {  /* no memory left even to read it */
      lua_pop(A, 1);
      a->poison = DANA_LIM_MEMORY;
    }
  }
  lua_settop(A, 0);
  if (a->poison != DANA_LIM_NONE) {
    char err[160];
    strcpy(e.kind, dana_limit_kind_name(a->poison));
    dana_limit_message(a, a->poison, e.message, sizeof e.message);
    dana_guard_audit(L, a, "limit", e.kind, "deny", e.message, NULL, err, sizeof err);
  }
  /* no secret the agent knows, and no credential shape, in a message */
  dana_guard_redact_into(L, a, e.message, clean, sizeof clean);
  lua_pushnil(L);
  dana_error_push(L, e.kind, clean, file, e.line, e.col);
  if (strcmp(file, chunk) == 0 && push_source_line(L, a, src, srclen, e.line))
    lua_setfield(L, -2, "source_line");
  lua_pushstring(L, e.kind);
  return 3;
}

/* Moves the value at the top of A into L (as a copy). Returns 1, or pushes a
** failure (3 values). */
static int agent_result(lua_State *L, DanaAgent *a, const char *chunk) {
  DanaBlob b;
  char why[160];
  lua_State *A = a->A;
  int ok = dana_value_encode(A, -1, &a->sb->codec, &b, why, sizeof why);
  lua_settop(A, 0);
  if (!ok) {
    char msg[200];
    snprintf(msg, sizeof msg, "the result cannot leave the agent: %s", why);
    return push_failure(L, dana_value_refusal_kind(why), msg, chunk, 0, 0);
  }
  if (decode_protected(L, &b) != LUA_OK) return lua_error(L);
  return 1;
}

typedef enum RunEnv { ENV_LUA, ENV_DANA, ENV_TRUSTED } RunEnv;

static void begin_run(lua_State *L, DanaAgent *a) {
  if (a->busy) luaL_error(L, "agent '%s' is already running (re-entrant run)", a->name);
  a->busy = 1;
  a->host = L;
  a->err_file[0] = '\0';
  a->err_line = 0;
  a->sb->running++;
}

static void finish_run(DanaAgent *a) {
  a->busy = 0;
  a->host = NULL;
  a->sb->running--;
}

static int poisoned_failure(lua_State *L, DanaAgent *a, const char *chunk) {
  char msg[300], lim[200];
  snprintf(msg, sizeof msg, "%s; the agent is stopped until reset()",
           dana_limit_message(a, a->poison, lim, sizeof lim));
  return push_failure(L, dana_limit_kind_name(a->poison), msg, chunk, 0, 0);
}

/* Loads src in the agent with the env of kind `env` and runs it under the
** limits. Returns the number of values pushed on L: 1 (the result) or 3
** (nil, record, kind). With keep_result, the result stays on A's stack
** instead of being copied (boot). */
static int agent_execute(lua_State *L, DanaAgent *a, const char *src, size_t len,
                         const char *chunkname, RunEnv env, int keep_result) {
  lua_State *A = a->A;
  int status, nres;
  const char *chunk = chunkname[0] == '@' || chunkname[0] == '=' ? chunkname + 1 : chunkname;
  if (a->poison != DANA_LIM_NONE) return poisoned_failure(L, a, chunk);
  begin_run(L, a);
  lua_settop(A, 0);
  lua_pushcfunction(A, agent_msgh);
  status = luaL_loadbufferx(A, src, len, chunkname, "t");
  if (status != LUA_OK) {
    const char *m = lua_tostring(A, -1);
    int line = 0;
    char msg[MAX_MESSAGE];
    if (status == LUA_ERRMEM) {
      lua_settop(A, 0);
      finish_run(a);
      a->poison = DANA_LIM_MEMORY;
      return poisoned_failure(L, a, chunk);
    }
    /* Lua's parser can fail without a message when its C stack overflows while it
       reports another overflow: still a syntax error, not a memory one */
    if (m == NULL) m = "C stack overflow";
    m = strip_position(m, &line);
    dana_guard_redact_into(L, a, m, msg, sizeof msg);
    lua_settop(A, 0);
    finish_run(a);
    nres = push_failure(L, "SyntaxError", msg, chunk, line, 0);
    if (push_source_line(L, a, src, len, line)) lua_setfield(L, -3, "source_line");
    return nres;
  }
  switch (env) {
    case ENV_LUA: lua_getfield(A, LUA_REGISTRYINDEX, DANA_REG_LUAENV); break;
    case ENV_DANA: lua_getfield(A, LUA_REGISTRYINDEX, DANA_REG_ENV); break;
    default: lua_getfield(A, LUA_REGISTRYINDEX, DANA_REG_TRUSTED); break;
  }
  if (!lua_setupvalue(A, -2, 1)) lua_pop(A, 1);
  dana_limits_begin_run(a);
  status = lua_pcall(A, 0, 1, 1);
  dana_limits_end_run(a);
  finish_run(a);
  if (status != LUA_OK || a->poison != DANA_LIM_NONE || a->tripped != DANA_LIM_NONE)
    return agent_failure(L, a, status, chunk, src, len);
  lua_remove(A, 1);  /* the message handler */
  if (keep_result) return 0;
  return agent_result(L, a, chunk);
}

/* ---- Agent methods ---- */

/***
Runs untrusted Lua source (text only, never bytecode) in the agent.
@function Agent:run_lua
@tparam string source
@tparam[opt="chunk.lua"] string name chunk name used in error positions
@return[1] the first value the chunk returns, copied into the host
@treturn[2] nil
@treturn[2] table error record {kind, message, file, line, col, source_line}
@treturn[2] string the kind
*/
static int agent_run_lua(lua_State *L) {
  DanaAgent *a = check_agent(L, 1);
  size_t len;
  const char *src = luaL_checklstring(L, 2, &len);
  const char *name = luaL_optstring(L, 3, "chunk.lua");
  lua_pushfstring(L, "@%s", name);
  return agent_execute(L, a, src, len, lua_tostring(L, -1), ENV_LUA, 0);
}

/***
Loads the runtime modules into the agent: {{name=, source=}, ...}; the last
module returns the env of translated code.
@function Agent:boot
*/
static int agent_boot(lua_State *L) {
  DanaAgent *a = check_agent(L, 1);
  lua_Integer i, n;
  luaL_checktype(L, 2, LUA_TTABLE);
  n = (lua_Integer)lua_rawlen(L, 2);
  luaL_argcheck(L, n > 0, 2, "no runtime modules");
  if (a->poison != DANA_LIM_NONE) return poisoned_failure(L, a, "boot");
  {
    /* the trusted env, made once per state */
    lua_State *A = a->A;
    lua_settop(A, 0);
    lua_pushcfunction(A, dana_agentlib_setup_trusted);
    if (lua_pcall(A, 0, 0, 0) != LUA_OK) {
      lua_settop(A, 0);
      a->poison = DANA_LIM_MEMORY;
      return poisoned_failure(L, a, "boot");
    }
  }
  for (i = 1; i <= n; i++) {
    size_t len;
    const char *name, *src;
    int r;
    lua_rawgeti(L, 2, i);
    luaL_checktype(L, -1, LUA_TTABLE);
    lua_getfield(L, -1, "name");
    lua_getfield(L, -2, "source");
    name = luaL_checkstring(L, -2);
    src = luaL_checklstring(L, -1, &len);
    lua_pushfstring(L, "=%s", name);
    r = agent_execute(L, a, src, len, lua_tostring(L, -1), ENV_TRUSTED, 1);
    if (r != 0) return r;
    {
      /* loaded[name] = result; the last is the Dana env */
      lua_State *A = a->A;
      lua_pushcfunction(A, dana_agentlib_store_module);
      lua_insert(A, -2);
      lua_pushstring(A, name);  /* stack has room: LUA_MINSTACK */
      lua_pushboolean(A, i == n);
      if (lua_pcall(A, 3, 0, 0) != LUA_OK) {
        lua_settop(A, 0);
        a->poison = DANA_LIM_MEMORY;
        return poisoned_failure(L, a, "boot");
      }
    }
    lua_pop(L, 4);
  }
  a->booted = 1;
  lua_pushboolean(L, 1);
  return 1;
}

/***
Runs translated Dana code (Lua text) with the Dana env; needs boot first.
@function Agent:exec
@tparam string lua_source
@tparam string chunkname such as "@file.na"
*/
static int agent_exec(lua_State *L) {
  DanaAgent *a = check_agent(L, 1);
  size_t len;
  const char *src = luaL_checklstring(L, 2, &len);
  const char *chunk = luaL_checkstring(L, 3);
  if (!a->booted) return luaL_error(L, "agent:exec before agent:boot");
  return agent_execute(L, a, src, len, chunk, ENV_DANA, 0);
}

static int agent_booted(lua_State *L) {
  DanaAgent *a = check_agent(L, 1);
  lua_pushboolean(L, a->booted && a->poison == DANA_LIM_NONE);
  return 1;
}

/* Parses the key argument on the host side. */
static void host_key(lua_State *L, int idx, DanaKey *k) {
  size_t len;
  const char *key = luaL_checklstring(L, idx, &len);
  const char *why = dana_parse_key(key, len, k);
  if (why) luaL_argerror(L, idx, why);
}

static DanaScope *host_scope(lua_State *L, DanaSandbox *sb, DanaAgent *a, const DanaKey *k) {
  switch (k->scope) {
    case SCOPE_PRIVATE:
      if (a == NULL) luaL_error(L, "private: belongs to an agent: use agent:get/set");
      return a->priv;
    case SCOPE_PUBLIC: return sb->pub;
    case SCOPE_SYSTEM: return sb->sys;
    default: return NULL;
  }
}

static int host_get(lua_State *L, DanaSandbox *sb, DanaAgent *a) {
  DanaKey k;
  const DanaBlob *b;
  host_key(L, 2, &k);
  b = dana_scope_get(host_scope(L, sb, a, &k), k.name, k.namelen);
  if (b == NULL) lua_pushnil(L);
  else dana_value_decode(L, b->data, b->len);
  return 1;
}

static int host_set(lua_State *L, DanaSandbox *sb, DanaAgent *a) {
  DanaKey k;
  DanaBlob b;
  char why[160];
  DanaScope *s;
  host_key(L, 2, &k);
  s = host_scope(L, sb, a, &k);
  if (lua_isnoneornil(L, 3)) {
    dana_scope_delete(s, k.name, k.namelen);
    return 0;
  }
  if (!dana_value_encode(L, 3, &sb->codec, &b, why, sizeof why))
    return luaL_error(L, "cannot store %s: %s", lua_tostring(L, 2), why);
  if (!dana_scope_put(s, k.name, k.namelen, &b)) {
    dana_blob_free(&b);
    return luaL_error(L, "not enough memory");
  }
  return 0;
}

static int host_delete(lua_State *L, DanaSandbox *sb, DanaAgent *a) {
  DanaKey k;
  host_key(L, 2, &k);
  dana_scope_delete(host_scope(L, sb, a, &k), k.name, k.namelen);
  return 0;
}

/***
Reads a scoped variable (host side, trusted): private: of this agent, public:, system:.
@function Agent:get
*/
static int agent_get(lua_State *L) {
  DanaAgent *a = check_agent(L, 1);
  return host_get(L, a->sb, a);
}

/*** Writes a scoped variable (host side, trusted; nil deletes). @function Agent:set */
static int agent_set(lua_State *L) {
  DanaAgent *a = check_agent(L, 1);
  return host_set(L, a->sb, a);
}

/*** Deletes a scoped variable. @function Agent:delete */
static int agent_delete(lua_State *L) {
  DanaAgent *a = check_agent(L, 1);
  return host_delete(L, a->sb, a);
}

/***
Makes a fresh state (limits cleared, Lua env and runtime gone); the private:
store is kept.
@function Agent:reset
*/
static int agent_reset(lua_State *L) {
  DanaAgent *a = check_agent(L, 1);
  const char *why;
  if (a->busy) return luaL_error(L, "cannot reset a running agent");
  agent_close_state(a);
  if (!agent_open_state(a, &why)) return push_failure(L, "MemoryLimitError", why, NULL, 0, 0);
  lua_pushboolean(L, 1);
  return 1;
}

/*** Closes the agent: its state and private: store are freed. Safe to call twice. @function Agent:close */
static int agent_gc(lua_State *L) {
  AgentUD *u = (AgentUD *)luaL_checkudata(L, 1, AGENT_MT);
  if (u->a) {
    if (u->a->busy) return luaL_error(L, "cannot close a running agent");
    agent_free(L, u->a);
    u->a = NULL;
  }
  return 0;
}

/***
Counters of the agent.
@function Agent:stats
@treturn table {memory, memory_limit, output, poisoned, booted, private_bytes, limits}
*/
static int agent_stats(lua_State *L) {
  DanaAgent *a = check_agent(L, 1);
  lua_createtable(L, 0, 8);
  lua_pushinteger(L, (lua_Integer)a->mem_used);
  lua_setfield(L, -2, "memory");
  lua_pushinteger(L, (lua_Integer)a->limits.memory);
  lua_setfield(L, -2, "memory_limit");
  lua_pushinteger(L, (lua_Integer)a->output_used);
  lua_setfield(L, -2, "output");
  if (a->poison != DANA_LIM_NONE) {
    lua_pushstring(L, dana_limit_kind_name(a->poison));
    lua_setfield(L, -2, "poisoned");
  }
  lua_pushboolean(L, a->booted);
  lua_setfield(L, -2, "booted");
  lua_pushinteger(L, (lua_Integer)dana_scope_bytes(a->priv));
  lua_setfield(L, -2, "private_bytes");
  push_limits(L, &a->limits);
  lua_setfield(L, -2, "limits");
  return 1;
}

/*** The agent's identity: {name, user, role, session, tenant}. @function Agent:info */
void dana_agent_push_identity(lua_State *L, const DanaAgent *a, const char *name_key) {
  lua_createtable(L, 0, 6);
  lua_pushstring(L, a->name);
  lua_setfield(L, -2, name_key);
  lua_pushstring(L, a->user);
  lua_setfield(L, -2, "user");
  lua_pushstring(L, a->role);
  lua_setfield(L, -2, "role");
  lua_pushstring(L, a->session);
  lua_setfield(L, -2, "session");
  lua_pushstring(L, a->sb->tenant);
  lua_setfield(L, -2, "tenant");
}

static int agent_info(lua_State *L) {
  dana_agent_push_identity(L, check_agent(L, 1), "name");
  return 1;
}

/***
Masks credential shapes and the agent's registered secrets in a text.
@function Agent:redact
@tparam string text
@treturn string
*/
static int agent_redact(lua_State *L) {
  DanaAgent *a = check_agent(L, 1);
  size_t n;
  const char *s = luaL_checklstring(L, 2, &n);
  dana_guard_push_redacted(L, a, s, n);
  return 1;
}

/***
Marks text as tainted for this agent (LLM output): it cannot name a host
function for dana.call, and cannot be written to system:.
@function Agent:taint
@tparam string text
*/
static int agent_taint(lua_State *L) {
  DanaAgent *a = check_agent(L, 1);
  size_t n;
  const char *s = luaL_checklstring(L, 2, &n);
  lua_pushboolean(L, dana_taint_add(a->taint, s, n));
  return 1;
}

/*** True when text contains tainted text of this agent. @function Agent:tainted */
static int agent_tainted(lua_State *L) {
  DanaAgent *a = check_agent(L, 1);
  size_t n;
  const char *s = luaL_checklstring(L, 2, &n);
  lua_pushboolean(L, dana_guard_text_tainted(a, s, n));
  return 1;
}

/* Pushes a table with a copy of every entry of the scope. */
static void push_snapshot(lua_State *L, const DanaScope *s) {
  size_t iter = 0, n;
  const char *name;
  const DanaBlob *b;
  lua_newtable(L);
  while (dana_scope_next(s, &iter, &name, &n, &b)) {
    luaL_checkstack(L, 3, "scope snapshot");
    lua_pushlstring(L, name, n);
    dana_value_decode(L, b->data, b->len);
    lua_rawset(L, -3);
  }
}

/*** A copy of a whole scope ("private" of this agent, "public", "system"). @function Agent:scope */
static int agent_scope(lua_State *L) {
  DanaAgent *a = check_agent(L, 1);
  static const char *const names[] = { "private", "public", "system", NULL };
  int which = luaL_checkoption(L, 2, NULL, names);
  push_snapshot(L, which == 0 ? a->priv : which == 1 ? a->sb->pub : a->sb->sys);
  return 1;
}

/*** The sandbox the agent belongs to. @function Agent:sandbox */
static int agent_sandbox(lua_State *L) {
  check_agent(L, 1);
  lua_getiuservalue(L, 1, 1);
  return 1;
}

static int agent_tostring(lua_State *L) {
  AgentUD *u = (AgentUD *)luaL_checkudata(L, 1, AGENT_MT);
  if (u->a == NULL || u->a->A == NULL) lua_pushliteral(L, "dana.Agent (closed)");
  else lua_pushfstring(L, "dana.Agent '%s' (%s)", u->a->name, u->a->role);
  return 1;
}

static const luaL_Reg agent_methods[] = {
  {"run_lua", agent_run_lua}, {"boot", agent_boot}, {"exec", agent_exec},
  {"booted", agent_booted}, {"get", agent_get}, {"set", agent_set},
  {"delete", agent_delete}, {"reset", agent_reset}, {"close", agent_gc},
  {"stats", agent_stats}, {"info", agent_info}, {"sandbox", agent_sandbox},
  {"redact", agent_redact}, {"taint", agent_taint}, {"tainted", agent_tainted},
  {"scope", agent_scope}, {NULL, NULL}
};

static const luaL_Reg agent_meta[] = {
  {"__gc", agent_gc}, {"__close", agent_gc}, {"__tostring", agent_tostring}, {NULL, NULL}
};

/* ---- Sandbox methods ---- */

static const char *opt_field_string(lua_State *L, int t, const char *k, const char *def) {
  const char *s;
  int ty = lua_getfield(L, t, k);
  if (ty == LUA_TNIL) {
    lua_pop(L, 1);
    return def;
  }
  if (ty != LUA_TSTRING) luaL_error(L, "'%s' must be a string", k);
  s = lua_tostring(L, -1);
  lua_pop(L, 1);  /* the options table anchors it */
  return s;
}

static DanaRole role_kind(const char *r) {
  if (strcmp(r, "admin") == 0) return ROLE_ADMIN;
  if (strcmp(r, "agent") == 0) return ROLE_AGENT;
  if (strcmp(r, "user") == 0) return ROLE_USER;
  return ROLE_CUSTOM;
}

/***
Makes an agent (one child lua_State).
@function Sandbox:agent
@tparam table opts {name, user, role ("agent"), session, limits}
@treturn[1] Agent
@treturn[2] nil
@treturn[2] table error record
@treturn[2] string kind
*/
static int sandbox_agent(lua_State *L) {
  DanaSandbox *sb = check_sandbox(L, 1);
  DanaAgent *a;
  AgentUD *u;
  DanaLimits lim = sb->agent_limits;
  const char *why, *name = NULL, *user = "anonymous", *role = "agent", *session = "";
  char autoname[40];
  if (!lua_isnoneornil(L, 2)) {
    /* everything that can raise happens before anything is allocated */
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_getfield(L, 2, "limits");
    read_limits(L, -1, &lim, 0);
    lua_pop(L, 1);
    name = opt_field_string(L, 2, "name", NULL);
    user = opt_field_string(L, 2, "user", user);
    role = opt_field_string(L, 2, "role", role);
    session = opt_field_string(L, 2, "session", session);
  }
  u = (AgentUD *)lua_newuserdatauv(L, sizeof *u, 1);
  u->a = NULL;
  luaL_setmetatable(L, AGENT_MT);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);  /* the sandbox userdata outlives its agents */
  a = (DanaAgent *)calloc(1, sizeof *a);
  if (a == NULL) return luaL_error(L, "not enough memory");
  if (name == NULL) {
    snprintf(autoname, sizeof autoname, "agent-%d", ++sb->agent_seq);
    name = autoname;
  }
  a->limits = lim;
  a->name = dup_string(name);
  a->user = dup_string(user);
  a->role = dup_string(role);
  a->session = dup_string(session);
  a->priv = dana_scope_new();
  a->secrets = dana_secretset_new();
  a->taint = dana_taint_new();
  a->grant_ref = LUA_NOREF;
  a->sb = sb;
  sb->refs++;
  a->next = sb->agents;
  if (sb->agents) sb->agents->prev = a;
  sb->agents = a;
  if (!a->name || !a->user || !a->role || !a->session || !a->priv || !a->secrets || !a->taint) {
    agent_free(L, a);
    return luaL_error(L, "not enough memory");
  }
  a->role_kind = role_kind(a->role);
  a->tokens = a->limits.calls_per_minute > 0 ? (double)a->limits.calls_per_minute : 0;
  a->tokens_at = dana_now();
  if (!agent_open_state(a, &why)) {
    agent_free(L, a);
    return push_failure(L, "MemoryLimitError", why, NULL, 0, 0);
  }
  u->a = a;
  if (luaL_getsubtable(L, LUA_REGISTRYINDEX, AGENTS_KEY) == 0) {
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "v");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
  }
  lua_pushvalue(L, -2);
  lua_rawsetp(L, -2, a);
  lua_pop(L, 1);
  return 1;
}

/*** Reads public: or system: (host side, trusted). @function Sandbox:get */
static int sandbox_get(lua_State *L) { return host_get(L, check_sandbox(L, 1), NULL); }
/*** Writes public: or system: (host side; nil deletes). @function Sandbox:set */
static int sandbox_set(lua_State *L) { return host_set(L, check_sandbox(L, 1), NULL); }
/*** Deletes from public: or system:. @function Sandbox:delete */
static int sandbox_delete(lua_State *L) { return host_delete(L, check_sandbox(L, 1), NULL); }

/***
Registers a host function, callable in agents as dana.call(name, ...).
Arguments and results are copied; a failing function gives the agent only a
generic message.
@function Sandbox:register
@tparam string name
@tparam function fn (nil removes it)
*/
static int sandbox_register(lua_State *L) {
  DanaSandbox *sb = check_sandbox(L, 1);
  const char *trust = "core";
  luaL_checkstring(L, 2);
  if (!lua_isnil(L, 3)) luaL_checktype(L, 3, LUA_TFUNCTION);
  if (!lua_isnoneornil(L, 4)) {
    luaL_checktype(L, 4, LUA_TTABLE);
    trust = opt_field_string(L, 4, "trust", trust);
    luaL_argcheck(L, strcmp(trust, "core") == 0 || strcmp(trust, "sandbox") == 0, 4,
                  "trust is \"core\" or \"sandbox\"");
  }
  lua_settop(L, 4);
  lua_rawgeti(L, LUA_REGISTRYINDEX, sb->funcs_ref);
  lua_pushvalue(L, 2);
  if (lua_isnil(L, 3)) {
    lua_pushnil(L);
  } else {
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, 3);
    lua_setfield(L, -2, "fn");
    lua_pushinteger(L, strcmp(trust, "sandbox") == 0 ? TRUST_SANDBOX : TRUST_CORE);
    lua_setfield(L, -2, "trust");
    if (lua_istable(L, 4) && lua_getfield(L, 4, "permission") != LUA_TNIL) {
      luaL_argcheck(L, lua_type(L, -1) == LUA_TSTRING &&
                    strncmp(lua_tostring(L, -1), "call:", 5) == 0, 4,
                    "permission is a string \"call:NAME\"");
      lua_setfield(L, -2, "permission");
    } else if (lua_istable(L, 4)) {
      lua_pop(L, 1);
    }
  }
  lua_rawset(L, -3);
  return 0;
}

/*** A copy of a whole scope ("public" or "system"). @function Sandbox:scope */
static int sandbox_scope(lua_State *L) {
  DanaSandbox *sb = check_sandbox(L, 1);
  static const char *const names[] = { "public", "system", NULL };
  int which = luaL_checkoption(L, 2, NULL, names);
  push_snapshot(L, which == 0 ? sb->pub : sb->sys);
  return 1;
}

/*** Tenant counters. @function Sandbox:stats */
static int sandbox_stats(lua_State *L) {
  DanaSandbox *sb = check_sandbox(L, 1);
  DanaAgent *a;
  int n = 0;
  for (a = sb->agents; a; a = a->next) n++;
  lua_createtable(L, 0, 8);
  lua_pushstring(L, sb->tenant);
  lua_setfield(L, -2, "tenant");
  lua_pushinteger(L, n);
  lua_setfield(L, -2, "agents");
  lua_pushinteger(L, (lua_Integer)sb->mem_used);
  lua_setfield(L, -2, "memory");
  lua_pushnumber(L, sb->time_used);
  lua_setfield(L, -2, "time");
  lua_pushinteger(L, (lua_Integer)sb->instr_used);
  lua_setfield(L, -2, "instructions");
  lua_pushinteger(L, (lua_Integer)sb->output_used);
  lua_setfield(L, -2, "output");
  lua_pushinteger(L, (lua_Integer)(dana_scope_bytes(sb->pub) + dana_scope_bytes(sb->sys)));
  lua_setfield(L, -2, "store_bytes");
  push_limits(L, &sb->limits);
  lua_setfield(L, -2, "limits");
  return 1;
}

static void sandbox_close_all(lua_State *L, DanaSandbox *sb) {
  size_t i;
  while (sb->agents) agent_close(L, sb->agents);
  dana_scope_free(sb->pub);
  dana_scope_free(sb->sys);
  sb->pub = sb->sys = NULL;
  dana_watchdog_destroy(&sb->wd);
  luaL_unref(L, LUA_REGISTRYINDEX, sb->print_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, sb->funcs_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, sb->policy_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, sb->audit_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, sb->approve_ref);
  sb->print_ref = sb->funcs_ref = sb->policy_ref = sb->audit_ref = sb->approve_ref = LUA_NOREF;
  sb->policy = NULL;
  sb->audit = NULL;
  for (i = 0; i < sb->nlimited; i++) free(sb->limited[i]);
  free(sb->limited);
  sb->limited = NULL;
  sb->nlimited = 0;
  sb->closed = 1;
}

/*** Closes the sandbox and every agent in it. Safe to call twice. @function Sandbox:close */
static int sandbox_gc(lua_State *L) {
  SandboxUD *u = (SandboxUD *)luaL_checkudata(L, 1, SANDBOX_MT);
  if (u->sb) {
    if (u->sb->running) return luaL_error(L, "cannot close a sandbox while an agent runs");
    if (!u->sb->closed) sandbox_close_all(L, u->sb);
    sandbox_release(u->sb);
    u->sb = NULL;
  }
  return 0;
}

static int sandbox_tenant(lua_State *L) {
  lua_pushstring(L, check_sandbox(L, 1)->tenant);
  return 1;
}

static int sandbox_tostring(lua_State *L) {
  SandboxUD *u = (SandboxUD *)luaL_checkudata(L, 1, SANDBOX_MT);
  if (u->sb == NULL || u->sb->closed) lua_pushliteral(L, "dana.Sandbox (closed)");
  else lua_pushfstring(L, "dana.Sandbox '%s'", u->sb->tenant);
  return 1;
}

static const luaL_Reg sandbox_methods[] = {
  {"agent", sandbox_agent}, {"get", sandbox_get}, {"set", sandbox_set},
  {"delete", sandbox_delete}, {"register", sandbox_register}, {"stats", sandbox_stats},
  {"close", sandbox_gc}, {"tenant", sandbox_tenant}, {"scope", sandbox_scope}, {NULL, NULL}
};

static const luaL_Reg sandbox_meta[] = {
  {"__gc", sandbox_gc}, {"__close", sandbox_gc}, {"__tostring", sandbox_tostring},
  {NULL, NULL}
};

static void read_limited(lua_State *L, DanaSandbox *sb) {
  lua_Integer i, n;
  if (lua_getfield(L, 1, "system_limited") == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  luaL_checktype(L, -1, LUA_TTABLE);
  n = (lua_Integer)lua_rawlen(L, -1);
  if (n <= 0) {
    lua_pop(L, 1);
    return;
  }
  sb->limited = (char **)calloc((size_t)n, sizeof(char *));
  if (sb->limited == NULL) luaL_error(L, "not enough memory");
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "system_limited holds names (strings)");
    sb->limited[sb->nlimited] = dup_string(lua_tostring(L, -1));
    if (sb->limited[sb->nlimited] == NULL) luaL_error(L, "not enough memory");
    sb->nlimited++;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

static void read_codec(lua_State *L, DanaSandbox *sb) {
  sb->codec.max_depth = 64;
  sb->codec.max_bytes = (size_t)64 << 20;
  sb->codec.max_items = (size_t)1 << 20;  /* a million entries: bounds one copy in time too */
  sb->store_limit = DANA_DEFAULT_MEMORY;
  if (lua_getfield(L, 1, "max_depth") != LUA_TNIL) {
    lua_Integer d = luaL_checkinteger(L, -1);
    luaL_argcheck(L, d >= 1 && d <= 1000, 1, "max_depth must be 1..1000");
    sb->codec.max_depth = (int)d;
  }
  lua_pop(L, 1);
  if (lua_getfield(L, 1, "store_limit") != LUA_TNIL) {
    lua_Integer d = luaL_checkinteger(L, -1);
    luaL_argcheck(L, d >= 0, 1, "store_limit must be >= 0");
    sb->store_limit = (size_t)d;
  }
  lua_pop(L, 1);
}

/***
Makes a sandbox (one tenant).
@function sandbox
@tparam table opts {tenant, limits (tenant totals), agent_limits (defaults for
agents), print = function(agent_name, text), system_limited = {names},
max_depth, store_limit}
@treturn Sandbox
*/
static int core_sandbox(lua_State *L) {
  DanaSandbox *sb;
  SandboxUD *u;
  const char *tenant;
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  tenant = opt_field_string(L, 1, "tenant", "default");
  u = (SandboxUD *)lua_newuserdatauv(L, sizeof *u, 0);  /* 2 */
  u->sb = NULL;
  luaL_setmetatable(L, SANDBOX_MT);
  sb = (DanaSandbox *)calloc(1, sizeof *sb);
  if (sb == NULL) return luaL_error(L, "not enough memory");
  sb->refs = 1;
  sb->print_ref = sb->funcs_ref = sb->policy_ref = sb->audit_ref = sb->approve_ref = LUA_NOREF;
  sb->tenant = dup_string(tenant);
  sb->pub = dana_scope_new();
  sb->sys = dana_scope_new();
  dana_watchdog_init(&sb->wd);
  u->sb = sb;  /* from here on __gc frees everything */
  if (!sb->tenant || !sb->pub || !sb->sys) return luaL_error(L, "not enough memory");
  memset(&sb->limits, 0, sizeof sb->limits);
  sb->limits.calls_per_minute = -1;
  default_limits(L, &sb->agent_limits);
  lua_getfield(L, 1, "limits");
  read_limits(L, -1, &sb->limits, 1);
  lua_pop(L, 1);
  lua_getfield(L, 1, "agent_limits");
  read_limits(L, -1, &sb->agent_limits, 0);
  lua_pop(L, 1);
  sb->tokens = sb->limits.calls_per_minute > 0 ? (double)sb->limits.calls_per_minute : 0;
  sb->tokens_at = dana_now();
  read_limited(L, sb);
  read_codec(L, sb);
  if (lua_getfield(L, 1, "policy") != LUA_TNIL) {
    sb->policy = dana_policy_check(L, -1);
    sb->policy_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  } else {
    lua_pop(L, 1);
  }
  if (lua_getfield(L, 1, "audit") != LUA_TNIL) {
    sb->audit = dana_audit_check(L, -1);
    sb->audit_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  } else {
    lua_pop(L, 1);
  }
  if (lua_getfield(L, 1, "approve") != LUA_TNIL) {
    luaL_checktype(L, -1, LUA_TFUNCTION);
    sb->approve_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  } else {
    lua_pop(L, 1);
  }
  if (lua_getfield(L, 1, "print") != LUA_TNIL) {
    luaL_checktype(L, -1, LUA_TFUNCTION);
    sb->print_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  } else {
    lua_pop(L, 1);
  }
  lua_newtable(L);
  sb->funcs_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_settop(L, 2);
  return 1;
}

static void new_class(lua_State *L, const char *name, const luaL_Reg *meta,
                      const luaL_Reg *methods, const char *field) {
  luaL_newmetatable(L, name);
  luaL_setfuncs(L, meta, 0);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "__index");
  lua_setfield(L, -3, field);  /* module.Agent / module.Sandbox: the methods, to extend */
  lua_pop(L, 1);
}

/***
Random bytes as hex (libsodium), for boundary markers and keys.
@function random_hex
@tparam int n bytes (1..64)
*/
static int core_random_hex(lua_State *L) {
  unsigned char buf[64];
  char hex[129];
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_argcheck(L, n >= 1 && n <= 64, 1, "1..64 bytes");
  if (sodium_init() < 0) return luaL_error(L, "libsodium failed to initialize");
  randombytes_buf(buf, (size_t)n);
  sodium_bin2hex(hex, sizeof hex, buf, (size_t)n);
  lua_pushstring(L, hex);
  return 1;
}

/*** Monotonic clock in seconds (for benchmarks and timeouts). @function clock */
static int core_clock(lua_State *L) {
  lua_pushnumber(L, dana_now());
  return 1;
}

void dana_context_open(lua_State *L) {
  lua_pushcfunction(L, core_clock);
  lua_setfield(L, -2, "clock");
  lua_pushcfunction(L, core_random_hex);
  lua_setfield(L, -2, "random_hex");
  new_class(L, AGENT_MT, agent_meta, agent_methods, "Agent");
  new_class(L, SANDBOX_MT, sandbox_meta, sandbox_methods, "Sandbox");
  lua_pushcfunction(L, core_sandbox);
  lua_setfield(L, -2, "sandbox");
}
