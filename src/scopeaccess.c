/*
** scopeaccess.c: dana.get / dana.set / dana.delete, the scope accessors an
** agent calls. Every access is checked against the agent's role, and every
** value is copied through the codec: nothing in the store is ever a live
** object of any state.
*/
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"

DANA_NORET dana_agent_raise(lua_State *L, const char *kind, const char *fmt, ...) {
  va_list ap;
  luaL_checkstack(L, 4, "error");
  lua_createtable(L, 0, 2);
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_setfield(L, -2, "message");
  lua_error(L);
  abort();  /* not reached */
}

static DanaAgent *check_agent(lua_State *L) {
  DanaAgent *a = dana_agent_of(L);
  if (a == NULL || a->sb == NULL) luaL_error(L, "dana: not inside an agent");
  return a;
}

static void check_key(lua_State *L, DanaKey *k) {
  size_t len;
  const char *key, *why;
  if (lua_type(L, 1) != LUA_TSTRING)
    dana_agent_raise(L, "TypeError", "a scope key is a string such as 'private:x', not %s",
                     luaL_typename(L, 1));
  key = lua_tolstring(L, 1, &len);
  why = dana_parse_key(key, len, k);
  if (why != NULL) dana_agent_raise(L, "ValueError", "bad scope key: %s", why);
  if (key[k->name - key - 1] == '.') {  /* "private.x": the policy and the log see "private:x" */
    lua_pushfstring(L, "%s:%s", dana_scope_name(k->scope), k->name);
    lua_replace(L, 1);
    k->name = lua_tostring(L, 1) + (k->name - key);
  }
}

static DanaScope *scope_of(DanaAgent *a, DanaScopeId s) {
  switch (s) {
    case SCOPE_PRIVATE: return a->priv;
    case SCOPE_PUBLIC: return a->sb->pub;
    case SCOPE_SYSTEM: return a->sb->sys;
    default: return NULL;
  }
}

static const char *const op_names[] = { "?", "read", "write", "delete" };

/* The policy decision; a denial is audited and raised as a PermissionError. */
static void check_access(lua_State *L, DanaAgent *a, const DanaKey *k, DanaAccessOp op) {
  const char *rule = NULL;
  const char *resource = lua_tostring(L, 1);
  if (!dana_guard_decide(a, op_names[op], resource, &rule)) {
    char err[160];
    dana_guard_audit(a->host, a, op_names[op], resource, "deny", rule, NULL, err, sizeof err);
    dana_agent_raise(L, "PermissionError", "role '%s' may not %s %s:%s", a->role,
                     dana_access_op_name(op), dana_scope_name(k->scope), k->name);
  }
}

/* Records an allowed access; refuses it (fail closed) when the record cannot be
** made, freeing `owned` first if the caller holds an encoded value. */
static void audit_access(lua_State *L, DanaAgent *a, DanaAccessOp op, const DanaBlob *value,
                         DanaBlob *owned) {
  char err[200];
  if (!dana_guard_audit(a->host, a, op_names[op], lua_tostring(L, 1), "allow", NULL, value, err,
                        sizeof err)) {
    if (owned) dana_blob_free(owned);
    dana_agent_raise(L, "SecurityError", "audit log unavailable, %s refused: %s",
                     op_names[op], err);
  }
}

/***
Reads a scoped variable (a copy); nil when it is not set.
@function dana.get
@tparam string key "private:x", "public:x" or "system:x"
*/
int dana_agent_scope_get(lua_State *L) {
  DanaAgent *a = check_agent(L);
  DanaKey k;
  const DanaBlob *b;
  check_key(L, &k);
  check_access(L, a, &k, ACCESS_READ);
  b = dana_scope_get(scope_of(a, k.scope), k.name, k.namelen);
  if (a->sb->audit) audit_access(L, a, ACCESS_READ, b, NULL);
  if (b == NULL) {
    lua_pushnil(L);
    return 1;
  }
  /* what the agent saw from a secret place must not leave it in output */
  if (dana_guard_secret_key(k.scope, k.name, k.namelen)) dana_guard_register_blob(a, b);
  dana_value_decode(L, b->data, b->len);
  return 1;
}

/* Bytes the store may hold for this scope, and what it holds now. */
static int store_fits(const DanaAgent *a, DanaScopeId s, size_t old_len, size_t new_len) {
  size_t used, cap;
  if (s == SCOPE_PRIVATE) {
    used = dana_scope_bytes(a->priv);
    cap = a->limits.memory;
  } else {
    used = dana_scope_bytes(a->sb->pub) + dana_scope_bytes(a->sb->sys);
    cap = a->sb->store_limit;
  }
  used -= old_len < used ? old_len : used;
  return new_len <= cap && used <= cap - new_len;
}

static int scope_delete(lua_State *L, DanaAgent *a, const DanaKey *k) {
  check_access(L, a, k, ACCESS_DELETE);
  if (a->sb->audit) audit_access(L, a, ACCESS_DELETE, NULL, NULL);
  dana_scope_delete(scope_of(a, k->scope), k->name, k->namelen);
  return 0;
}

/***
Writes a scoped variable (the value is copied; nil deletes it).
@function dana.set
@tparam string key
@param value plain data: nil, booleans, numbers, strings, tables of those
*/
int dana_agent_scope_set(lua_State *L) {
  DanaAgent *a = check_agent(L);
  DanaKey k;
  DanaBlob blob;
  DanaScope *s;
  const DanaBlob *old;
  char why[160];
  check_key(L, &k);
  if (lua_isnoneornil(L, 2)) return scope_delete(L, a, &k);
  check_access(L, a, &k, ACCESS_WRITE);
  if (!dana_value_encode(L, 2, &a->sb->codec, &blob, why, sizeof why)) {
    dana_limits_poll(L);  /* interrupted by a limit: that limit is the error */
    dana_agent_raise(L, dana_value_refusal_kind(why), "cannot store %s:%s: %s",
                     dana_scope_name(k.scope), k.name, why);
  }
  if (k.scope == SCOPE_SYSTEM && dana_guard_blob_tainted(a, &blob)) {
    dana_blob_free(&blob);
    dana_agent_raise(L, "SecurityError", "LLM output cannot be written to system:%s", k.name);
  }
  if (a->sb->audit) audit_access(L, a, ACCESS_WRITE, &blob, &blob);
  if (dana_guard_secret_key(k.scope, k.name, k.namelen)) dana_guard_register_blob(a, &blob);
  s = scope_of(a, k.scope);
  old = dana_scope_get(s, k.name, k.namelen);
  if (!store_fits(a, k.scope, old ? old->len : 0, blob.len) ||
      !dana_scope_put(s, k.name, k.namelen, &blob)) {
    dana_blob_free(&blob);
    dana_limits_trip(L, a, DANA_LIM_MEMORY);
  }
  return 0;
}

/***
Deletes a scoped variable.
@function dana.delete
@tparam string key
*/
int dana_agent_scope_delete(lua_State *L) {
  DanaAgent *a = check_agent(L);
  DanaKey k;
  check_key(L, &k);
  return scope_delete(L, a, &k);
}
