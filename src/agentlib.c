/*
** agentlib.c: the library an agent state gets, and the environments built
** from it (see docs/internals/agent-abi.md).
**
** The agent never opens io, os, debug, package or the loaders. Base functions
** are copied one by one from luaopen_base; print, pcall, xpcall,
** setmetatable and the coroutine functions are our own, because each of them
** could otherwise catch, delay or outlive a limit; string and table are the
** vetted copies in vlib.c. The string metatable is read-only.
*/
#define LUA_LIB  /* for l_likely/l_unlikely, as in Lua's own libraries */

#include <string.h>

#include "lualib.h"
#include "guard.h"


/* ---- print ---- */

static int v_print(lua_State *L) {
  DanaAgent *a = dana_agent_of(L);
  int n = lua_gettop(L), i;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (i = 1; i <= n; i++) {
    luaL_tolstring(L, i, NULL);
    if (i > 1) {  /* the separator goes before the value already pushed */
      lua_pushliteral(L, "\t");
      lua_insert(L, -2);
      lua_concat(L, 2);
    }
    luaL_addvalue(&b);
  }
  luaL_addchar(&b, '\n');
  luaL_pushresult(&b);
  if (a != NULL) {
    size_t l;
    const char *s = lua_tolstring(L, -1, &l);
    dana_agent_emit(L, a, s, l);
  }
  return 0;
}

/* ---- pcall / xpcall: a limit error is re-raised, never returned ---- */

static int finishpcall(lua_State *L, int status, lua_KContext extra) {
  dana_limits_after_pcall(L, dana_agent_of(L), status, L);
  if (l_unlikely(status != LUA_OK && status != LUA_YIELD)) {
    lua_pushboolean(L, 0);
    lua_pushvalue(L, -2);
    return 2;
  }
  return lua_gettop(L) - (int)extra;
}

static int v_pcall(lua_State *L) {
  int status;
  luaL_checkany(L, 1);
  lua_pushboolean(L, 1);
  lua_insert(L, 1);
  status = lua_pcallk(L, lua_gettop(L) - 2, LUA_MULTRET, 0, 0, finishpcall);
  return finishpcall(L, status, 0);
}

/* The message handler xpcall installs: the user's handler runs only for
** ordinary errors. A limit raised from a hook leaves hooks disabled while the
** error is being handled, so a looping handler could never be stopped. */
static int xpcall_handler(lua_State *L) {
  if (dana_limits_stopped(L)) return 1;
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

static int v_xpcall(lua_State *L) {
  int status;
  int n = lua_gettop(L);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_pushvalue(L, 2);
  lua_pushcclosure(L, xpcall_handler, 1);
  lua_replace(L, 2);
  lua_pushboolean(L, 1);
  lua_pushvalue(L, 1);
  lua_rotate(L, 3, 2);
  status = lua_pcallk(L, n - 2, LUA_MULTRET, 2, 2, finishpcall);
  return finishpcall(L, status, 2);
}

/* ---- setmetatable: no finalizers, weak tables or to-be-closed tricks ---- */

static int v_setmetatable(lua_State *L) {
  int t = lua_type(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
  if (t == LUA_TTABLE) {
    static const char *const refused[] = { "__gc", "__mode", "__close", NULL };
    int i;
    for (i = 0; refused[i]; i++) {
      lua_pushstring(L, refused[i]);
      if (lua_rawget(L, 2) != LUA_TNIL)
        dana_agent_raise(L, "SecurityError", "setmetatable: '%s' is not allowed in the sandbox",
                         refused[i]);
      lua_pop(L, 1);
    }
  }
  if (l_unlikely(luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL))
    return luaL_error(L, "cannot change a protected metatable");
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
}

/* ---- coroutines (lcorolib.c, with limits carried across every switch) ---- */

static lua_State *getco(lua_State *L) {
  lua_State *co = lua_tothread(L, 1);
  luaL_argexpected(L, co, 1, "coroutine");
  return co;
}

/* lua_resetthread runs the coroutine's pending __close handlers in the
** coroutine itself: it must carry the hook and be the watchdog's target. */
static int reset_thread(lua_State *L, lua_State *co) {
  DanaAgent *a = dana_agent_of(L);
  int status;
  dana_limits_prepare_thread(L, co);
  if (a) dana_limits_set_current(a, co);
  status = lua_resetthread(co);
  if (a) dana_limits_set_current(a, L);
  return status;
}

/* After a resume returns: a limit in the coroutine (its error object is in co)
** is a limit in the resumer. */
static void check_resume(lua_State *L, lua_State *co, int status) {
  dana_limits_after_pcall(L, dana_agent_of(L), status, co);
}

static int auxresume(lua_State *L, lua_State *co, int narg) {
  int status, nres;
  DanaAgent *a = dana_agent_of(L);
  if (l_unlikely(!lua_checkstack(co, narg))) {
    lua_pushliteral(L, "too many arguments to resume");
    return -1;
  }
  if (lua_status(co) == LUA_OK && lua_gettop(co) == 0) {
    lua_pushliteral(L, "cannot resume dead coroutine");
    return -1;
  }
  lua_xmove(L, co, narg);
  dana_limits_prepare_thread(L, co);
  if (a) dana_limits_set_current(a, co);
  status = lua_resume(co, L, narg, &nres);
  if (a) dana_limits_set_current(a, L);
  check_resume(L, co, status);
  if (l_likely(status == LUA_OK || status == LUA_YIELD)) {
    if (l_unlikely(!lua_checkstack(L, nres + 1))) {
      lua_pop(co, nres);
      lua_pushliteral(L, "too many results to resume");
      return -1;
    }
    lua_xmove(co, L, nres);
    return nres;
  }
  lua_xmove(co, L, 1);
  return -1;
}

static int co_resume(lua_State *L) {
  lua_State *co = getco(L);
  int r = auxresume(L, co, lua_gettop(L) - 1);
  if (l_unlikely(r < 0)) {
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
  }
  lua_pushboolean(L, 1);
  lua_insert(L, -(r + 1));
  return r + 1;
}

static int auxwrap(lua_State *L) {
  lua_State *co = lua_tothread(L, lua_upvalueindex(1));
  int r = auxresume(L, co, lua_gettop(L));
  if (l_unlikely(r < 0)) {
    int stat = lua_status(co);
    if (stat != LUA_OK && stat != LUA_YIELD) {
      stat = reset_thread(L, co);
      check_resume(L, co, stat);
      lua_xmove(co, L, 1);
    }
    return lua_error(L);
  }
  return r;
}

static int co_create(lua_State *L) {
  lua_State *NL;
  luaL_checktype(L, 1, LUA_TFUNCTION);
  NL = lua_newthread(L);
  lua_pushvalue(L, 1);
  lua_xmove(L, NL, 1);
  return 1;
}

static int co_wrap(lua_State *L) {
  co_create(L);
  lua_pushcclosure(L, auxwrap, 1);
  return 1;
}

static int co_yield(lua_State *L) {
  return lua_yield(L, lua_gettop(L));
}

#define COS_RUN   0
#define COS_DEAD  1
#define COS_YIELD 2
#define COS_NORM  3

static const char *const statname[] = { "running", "dead", "suspended", "normal" };

static int auxstatus(lua_State *L, lua_State *co) {
  if (L == co) return COS_RUN;
  switch (lua_status(co)) {
    case LUA_YIELD: return COS_YIELD;
    case LUA_OK: {
      lua_Debug ar;
      if (lua_getstack(co, 0, &ar)) return COS_NORM;
      else if (lua_gettop(co) == 0) return COS_DEAD;
      else return COS_YIELD;
    }
    default: return COS_DEAD;
  }
}

static int co_status(lua_State *L) {
  lua_pushstring(L, statname[auxstatus(L, getco(L))]);
  return 1;
}

static int co_running(lua_State *L) {
  int ismain = lua_pushthread(L);
  lua_pushboolean(L, ismain);
  return 2;
}

static int co_isyieldable(lua_State *L) {
  lua_State *co = lua_isnone(L, 1) ? L : getco(L);
  lua_pushboolean(L, lua_isyieldable(co));
  return 1;
}

static int co_close(lua_State *L) {
  lua_State *co = getco(L);
  int status = auxstatus(L, co);
  switch (status) {
    case COS_DEAD: case COS_YIELD: {
      status = reset_thread(L, co);
      check_resume(L, co, status);
      if (status == LUA_OK) {
        lua_pushboolean(L, 1);
        return 1;
      }
      lua_pushboolean(L, 0);
      lua_xmove(co, L, 1);
      return 2;
    }
    default:
      return luaL_error(L, "cannot close a %s coroutine", statname[status]);
  }
}

static const luaL_Reg co_funcs[] = {
  {"create", co_create}, {"resume", co_resume}, {"running", co_running},
  {"status", co_status}, {"wrap", co_wrap}, {"yield", co_yield},
  {"isyieldable", co_isyieldable}, {"close", co_close}, {NULL, NULL}
};

/* ---- the string library of an agent ---- */

/* Lua's own functions whose work is linear in a string that already exists or
** in a result that must be allocated (so the allocator bounds it): no hook is
** needed inside them, and Lua's versions are faster than a copy in this
** module. Everything that can run without bound (rep, the pattern matcher,
** pack) stays vetted. */
static const char *const plain_string_funcs[] = {
  "byte", "char", "format", "len", "lower", "reverse", "sub", "upper", NULL
};

/* Pushes the string library for agents: vlib, with plain_string_funcs taken
** from Lua's own (the table at `lua_idx`). */
static void push_agent_string(lua_State *A, int lua_idx) {
  int i;
  lua_idx = lua_absindex(A, lua_idx);
  dana_vlib_push_string(A);
  for (i = 0; plain_string_funcs[i]; i++) {
    lua_getfield(A, lua_idx, plain_string_funcs[i]);
    lua_setfield(A, -2, plain_string_funcs[i]);
  }
}

/* ---- building the template ---- */

static const char *const base_names[] = {
  "assert", "error", "ipairs", "next", "pairs", "rawequal", "rawget", "rawlen",
  "rawset", "select", "tonumber", "tostring", "type", "getmetatable", "_VERSION", NULL
};

static void set_lib(lua_State *A, const char *name, lua_CFunction open) {
  lua_pushcfunction(A, open);
  lua_call(A, 0, 1);
  lua_setfield(A, -2, name);
}

/* Pushes a copy of the table at idx (one level). */
static void push_copy(lua_State *A, int idx) {
  idx = lua_absindex(A, idx);
  lua_newtable(A);
  lua_pushnil(A);
  while (lua_next(A, idx)) {
    lua_pushvalue(A, -2);
    lua_insert(A, -2);
    lua_rawset(A, -4);
  }
}

int dana_agentlib_setup(lua_State *A) {
  int i;
  lua_settop(A, 0);
  /* luaopen_base fills the state's global table; we copy from it, then
  ** replace the registry's globals with an empty table so nothing else
  ** remains reachable through it. */
  luaL_requiref(A, "_G", luaopen_base, 0);            /* 1: real globals */
  lua_newtable(A);                                      /* 2: template */
  for (i = 0; base_names[i]; i++) {
    lua_getfield(A, 1, base_names[i]);
    lua_setfield(A, 2, base_names[i]);
  }
  lua_pushcfunction(A, v_print);
  lua_setfield(A, 2, "print");
  lua_pushcfunction(A, v_pcall);
  lua_setfield(A, 2, "pcall");
  lua_pushcfunction(A, v_xpcall);
  lua_setfield(A, 2, "xpcall");
  lua_pushcfunction(A, v_setmetatable);
  lua_setfield(A, 2, "setmetatable");
  set_lib(A, "math", luaopen_math);
  set_lib(A, "utf8", luaopen_utf8);
  luaL_newlib(A, co_funcs);
  lua_setfield(A, 2, "coroutine");
  luaL_requiref(A, "string", luaopen_string, 0);  /* 3: Lua's own, for push_agent_string */
  push_agent_string(A, 3);
  lua_setfield(A, 2, "string");
  dana_vlib_push_table(A);
  lua_setfield(A, 2, "table");
  lua_createtable(A, 0, 4);  /* the agent-side `dana` table */
  lua_pushcfunction(A, dana_agent_scope_get);
  lua_setfield(A, -2, "get");
  lua_pushcfunction(A, dana_agent_scope_set);
  lua_setfield(A, -2, "set");
  lua_pushcfunction(A, dana_agent_scope_delete);
  lua_setfield(A, -2, "delete");
  lua_pushcfunction(A, dana_agent_call_host);
  lua_setfield(A, -2, "call");
  lua_pushcfunction(A, dana_guard_escalate);
  lua_setfield(A, -2, "escalate");
  lua_pushcfunction(A, dana_guard_allowed);
  lua_setfield(A, -2, "allowed");
  lua_pushcfunction(A, dana_agent_registered);
  lua_setfield(A, -2, "registered");
  lua_setfield(A, 2, "dana");
  lua_pushvalue(A, 2);
  lua_setfield(A, LUA_REGISTRYINDEX, DANA_REG_TEMPLATE);
  /* the string metatable: methods from a hidden copy, not changeable */
  lua_pushliteral(A, "");
  lua_createtable(A, 0, 2);
  push_agent_string(A, 3);
  lua_setfield(A, -2, "__index");
  lua_pushboolean(A, 0);
  lua_setfield(A, -2, "__metatable");
  lua_setmetatable(A, -2);
  lua_pop(A, 1);
  /* forget the real globals */
  lua_newtable(A);
  lua_rawseti(A, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_pushnil(A);
  lua_setfield(A, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_settop(A, 0);
  return 0;
}

void dana_agentlib_push_env(lua_State *A) {
  int tmpl;
  luaL_checkstack(A, 8, "agent env");
  lua_getfield(A, LUA_REGISTRYINDEX, DANA_REG_TEMPLATE);
  tmpl = lua_gettop(A);
  lua_newtable(A);
  lua_pushnil(A);
  while (lua_next(A, tmpl)) {
    lua_pushvalue(A, -2);
    if (lua_type(A, -2) == LUA_TTABLE) {  /* each env gets its own library tables */
      push_copy(A, -2);
      lua_remove(A, -3);
    } else {
      lua_insert(A, -2);
    }
    lua_rawset(A, -4);
  }
  lua_pushvalue(A, -1);
  lua_setfield(A, -2, "_G");
  lua_remove(A, tmpl);
}

/* ---- the trusted runtime env: dana_internal and require ---- */

static int internal_register_type(lua_State *L) {
  luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  dana_value_register_type(L, 1, 2);
  return 0;
}

static int internal_output(lua_State *L) {
  DanaAgent *a = dana_agent_of(L);
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  if (a != NULL) dana_agent_emit(L, a, s, n);
  return 0;
}

static int is_limit_kind(const char *k) {
  static const char *const limits[] = {
    "MemoryLimitError", "TimeLimitError", "InstructionLimitError", "OutputLimitError",
    "RecursionError", "RateLimitError", NULL
  };
  int i;
  for (i = 0; limits[i]; i++)
    if (strcmp(k, limits[i]) == 0) return 1;
  return 0;
}

static int internal_raise(lua_State *L) {
  const char *kind = luaL_checkstring(L, 1);
  const char *msg = luaL_optstring(L, 2, "");
  luaL_argcheck(L, !is_limit_kind(kind), 1, "limit errors are raised by the core only");
  dana_agent_raise(L, kind, "%s", msg);
  return 0;
}

static int trusted_require(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  lua_getfield(L, LUA_REGISTRYINDEX, DANA_REG_LOADED);
  if (lua_getfield(L, -1, name) == LUA_TNIL)
    return luaL_error(L, "runtime module '%s' is not loaded (boot order)", name);
  return 1;
}

static const luaL_Reg internal_funcs[] = {
  {"register_type", internal_register_type},
  {"output", internal_output},
  {"raise", internal_raise},
  {NULL, NULL}
};

void dana_agentlib_push_trusted_env(lua_State *A) {
  dana_agentlib_push_env(A);
  luaL_newlib(A, internal_funcs);
  lua_setfield(A, -2, "dana_internal");
  lua_pushcfunction(A, trusted_require);
  lua_setfield(A, -2, "require");
}

/* Protected (lua_CFunction): makes the trusted env once per state. */
int dana_agentlib_setup_trusted(lua_State *A) {
  if (lua_getfield(A, LUA_REGISTRYINDEX, DANA_REG_TRUSTED) != LUA_TNIL) return 0;
  lua_pop(A, 1);
  dana_agentlib_push_trusted_env(A);
  lua_setfield(A, LUA_REGISTRYINDEX, DANA_REG_TRUSTED);
  return 0;
}

/* Protected (lua_CFunction): loaded[name] = value; the last module's value
** becomes the env of translated Dana code. Arguments: value, name, is_last. */
int dana_agentlib_store_module(lua_State *A) {
  lua_getfield(A, LUA_REGISTRYINDEX, DANA_REG_LOADED);
  lua_pushvalue(A, 2);
  lua_pushvalue(A, 1);
  lua_rawset(A, -3);
  if (lua_toboolean(A, 3)) {
    luaL_checktype(A, 1, LUA_TTABLE);
    lua_pushvalue(A, 1);
    lua_setfield(A, LUA_REGISTRYINDEX, DANA_REG_ENV);
  }
  return 0;
}
